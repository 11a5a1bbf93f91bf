#include "ailab/assist/site_templates.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ailab/status/status.h"

namespace ailab::assist {
namespace {

// Largest template file Load() reads, in bytes.
constexpr size_t kMaxTemplateBytes = 1024 * 1024;

absl::Status TemplateError(absl::string_view source, int line, absl::string_view problem) {
  std::string source_text(source);
  std::string line_text = absl::StrCat(line);
  return InvalidArgument("ASSIST_SITE_TEMPLATE_INVALID", "site_templates",
                         absl::StrCat(source, ":", line, ": ", problem),
                         {{"source", source_text}, {"line", line_text}});
}

// Splits a template into text and placeholders, checking the ids against `module`.
absl::StatusOr<std::vector<TemplatePiece>> ParseTemplate(absl::string_view text,
                                                         absl::string_view source, int line,
                                                         const Module& module) {
  std::vector<TemplatePiece> pieces;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) pieces.push_back({TemplatePiece::Type::kText, std::move(literal)});
    literal.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size() && text[i + 1] == 'n') {
      literal.push_back('\n');
      ++i;
    } else if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      literal.push_back(c);
      ++i;
    } else if (c == '}') {
      return TemplateError(
          source, line,
          absl::StrCat("unmatched \"}\" at column ", i + 1, "; write \"}}\" for a literal brace"));
    } else if (c == '{') {
      size_t close = text.find('}', i + 1);
      if (close == absl::string_view::npos) {
        return TemplateError(source, line,
                             absl::StrCat("placeholder at column ", i + 1,
                                          " has no closing \"}\"; write \"{{\" for a literal "
                                          "brace"));
      }
      std::string name(absl::StripAsciiWhitespace(text.substr(i + 1, close - i - 1)));
      flush();
      if (name == "default") {
        pieces.push_back({TemplatePiece::Type::kModuleText, ""});
      } else {
        TemplatePiece piece{TemplatePiece::Type::kDisplayValue, name};
        if (absl::EndsWith(name, ".value") && module.FindDataElement(name) == nullptr) {
          piece = {TemplatePiece::Type::kRawValue, name.substr(0, name.size() - 6)};
        }
        if (module.FindDataElement(piece.text) == nullptr) {
          std::vector<std::string> ids;
          for (const DataElement& element : module.data_elements) ids.push_back(element.id);
          return TemplateError(
              source, line,
              absl::StrCat("placeholder {", name, "} names no data element of ", "module ",
                           module.metadata.id, "; use {default}, ",
                           "{ID} or {ID.value} with ID one of: ", absl::StrJoin(ids, ", ")));
        }
        pieces.push_back(std::move(piece));
      }
      i = close;
    } else {
      literal.push_back(c);
    }
  }
  flush();
  return pieces;
}

}  // namespace

absl::StatusOr<SiteTemplates> SiteTemplates::Parse(absl::string_view text, absl::string_view source,
                                                   const Module& module) {
  SiteTemplates result;
  int line = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line;
    absl::string_view stripped = absl::StripAsciiWhitespace(raw);
    if (stripped.empty() || stripped[0] == '#') continue;

    // Key: <end point id or *>.<section id>, split at the last dot because ids may
    // contain dots and section ids do not.
    size_t equals = stripped.find('=');
    if (equals == absl::string_view::npos) {
      return TemplateError(source, line,
                           "is not a template; write END_POINT.SECTION = TEXT, for example "
                           "DensityAEp.findings = ");
    }
    std::string key(absl::StripAsciiWhitespace(stripped.substr(0, equals)));
    size_t dot = key.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == key.size()) {
      return TemplateError(source, line,
                           absl::StrCat("key \"", key, "\" is invalid; write END_POINT.SECTION, ",
                                        "for example DensityAEp.findings or *.impression"));
    }
    SiteTemplate site_template;
    site_template.line = line;
    site_template.end_point_id = key.substr(0, dot);
    site_template.section_id = key.substr(dot + 1);
    if (site_template.end_point_id != "*" &&
        module.FindEndPoint(site_template.end_point_id) == nullptr) {
      std::vector<std::string> ids;
      for (const EndPoint& end_point : module.end_points) ids.push_back(end_point.id);
      return TemplateError(
          source, line,
          absl::StrCat("end point \"", site_template.end_point_id, "\" is not in module ",
                       module.metadata.id, "; use * or one of: ", absl::StrJoin(ids, ", ")));
    }
    const std::vector<std::string>& section_ids = SectionIds();
    if (std::find(section_ids.begin(), section_ids.end(), site_template.section_id) ==
        section_ids.end()) {
      return TemplateError(
          source, line,
          absl::StrCat("section \"", site_template.section_id,
                       "\" is invalid; use one of: ", absl::StrJoin(section_ids, ", ")));
    }
    for (const SiteTemplate& other : result.templates_) {
      if (other.end_point_id == site_template.end_point_id &&
          other.section_id == site_template.section_id) {
        return TemplateError(
            source, line,
            absl::StrCat("repeats the template ", key, " of line ", other.line, "; keep one"));
      }
    }
    AILAB_ASSIGN_OR_RETURN(site_template.pieces,
                           ParseTemplate(absl::StripAsciiWhitespace(stripped.substr(equals + 1)),
                                         source, line, module));
    result.templates_.push_back(std::move(site_template));
  }
  return result;
}

absl::StatusOr<SiteTemplates> SiteTemplates::Load(const std::string& path, const Module& module) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return NotFound("ASSIST_SITE_TEMPLATE_NOT_FOUND",
                    absl::StrCat("cannot read site template file \"", path,
                                 "\"; check the path and its permissions"),
                    {{"path", path}});
  }
  std::ostringstream content;
  content << file.rdbuf();
  std::string text = content.str();
  if (text.size() > kMaxTemplateBytes) {
    return InvalidArgument(
        "ASSIST_SITE_TEMPLATE_TOO_LARGE", "site_templates",
        absl::StrCat("site template file \"", path, "\" is over ", kMaxTemplateBytes, " bytes"),
        {{"path", path}});
  }
  size_t slash = path.find_last_of('/');
  return Parse(text, slash == std::string::npos ? path : path.substr(slash + 1), module);
}

const SiteTemplate* SiteTemplates::Find(absl::string_view end_point_id,
                                        absl::string_view section_id) const {
  const SiteTemplate* fallback = nullptr;
  for (const SiteTemplate& site_template : templates_) {
    if (site_template.section_id != section_id) continue;
    if (site_template.end_point_id == end_point_id) return &site_template;
    if (site_template.end_point_id == "*") fallback = &site_template;
  }
  return fallback;
}

}  // namespace ailab::assist
