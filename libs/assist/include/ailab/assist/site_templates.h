// Per-site report templates: a site's own wording for the report sections of a
// module's end points, such as a blank findings section for a negative result.
//
// A site template file is UTF-8 text with one template per line:
//
//   # Site wording for the breast density module.
//   DensityAEp.findings =
//   *.impression = Breast density category {breast_density.value}. {default}
//
// The key is an end point id (or "*" for every end point without a template of its
// own), a dot, and a report section id (findings, impression, recommendation,
// impressionRecommendation, citation). The template after "=", with surrounding spaces
// trimmed, replaces the module's text of that section. An empty template leaves the
// section blank. A template for a section that the end point lacks adds it. In a
// template, {default} is the module's text of the section, {ID} is the value of data
// element ID as the report shows it (see DisplayValue()), {ID.value} is the value as
// entered (a choice value or a number), "{{" and "}}" are literal braces and "\n" is a
// line break. Lines that are empty or start with "#" are ignored.
//
// A SiteTemplates object is immutable once parsed, so it may be shared by threads.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ailab/assist/module.h"

namespace ailab::assist {

// One piece of a parsed template.
struct TemplatePiece {
  enum class Type {
    kText,          // literal text
    kModuleText,    // {default}
    kDisplayValue,  // {ID}
    kRawValue,      // {ID.value}
  };
  Type type = Type::kText;
  std::string text;  // kText: the text; otherwise the data element id
};

// The template of one (end point, section) pair.
struct SiteTemplate {
  std::string end_point_id;  // an end point id, or "*"
  std::string section_id;
  std::vector<TemplatePiece> pieces;  // empty for a blank section
  int line = 0;
};

// The templates of one site for one module.
class SiteTemplates {
 public:
  // Parses a template file's `text` and checks each key and placeholder against
  // `module`. Errors are INVALID_ARGUMENT (ASSIST_SITE_TEMPLATE_INVALID) naming
  // `source` and the line at fault, with ErrorInfo metadata "source" and "line".
  static absl::StatusOr<SiteTemplates> Parse(absl::string_view text, absl::string_view source,
                                             const Module& module);

  // Reads and parses the template file at `path`; a missing file is NOT_FOUND.
  static absl::StatusOr<SiteTemplates> Load(const std::string& path, const Module& module);

  // Returns the template of `section_id` for `end_point_id`: the end point's own, else
  // the "*" one, else nullptr.
  const SiteTemplate* Find(absl::string_view end_point_id, absl::string_view section_id) const;

  // Every template, in file order.
  const std::vector<SiteTemplate>& templates() const { return templates_; }

 private:
  std::vector<SiteTemplate> templates_;
};

}  // namespace ailab::assist
