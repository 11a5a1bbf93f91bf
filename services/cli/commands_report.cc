// `ailab report text`: evaluates an ACR Assist reporting module on data element values
// (or a model's output) and prints the report text (see ailab/assist/evaluate.h).
//
// NOTE: the command is compiled only when the client links ailab::assist; without it
// `ailab help` does not list the command.
#if __has_include("ailab/assist/evaluate.h")

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ailab/assist/evaluate.h"
#include "ailab/assist/module.h"
#include "ailab/assist/site_templates.h"
#include "ailab/status/status.h"
#include "cli.h"

namespace ailab::cli {
namespace {

// Returns `text` as a JSON string literal.
std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned char>(c));
          out += escaped;
        } else {
          out.push_back(c);
        }
    }
  }
  return out + "\"";
}

std::string ReportJson(const assist::Module& module, const assist::Report& report) {
  std::string json = absl::StrCat("{\n  \"module\": ", JsonString(module.metadata.id),
                                  ",\n  \"endPoint\": ", JsonString(report.end_point_id),
                                  ",\n  \"endPointLabel\": ", JsonString(report.end_point_label),
                                  ",\n  \"path\": [");
  for (size_t i = 0; i < report.path.size(); ++i) {
    absl::StrAppend(&json, i == 0 ? "" : ", ", JsonString(report.path[i]));
  }
  absl::StrAppend(&json, "],\n  \"sections\": [");
  for (size_t i = 0; i < report.sections.size(); ++i) {
    absl::StrAppend(&json, i == 0 ? "\n" : ",\n",
                    "    {\"sectionId\": ", JsonString(report.sections[i].section_id),
                    ", \"text\": ", JsonString(report.sections[i].text), "}");
  }
  absl::StrAppend(&json, report.sections.empty() ? "" : "\n  ",
                  "],\n  \"text\": ", JsonString(report.Text()), "\n}\n");
  return json;
}

absl::Status PrintReportText(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(std::string module_path, args.Require("module"));
  AILAB_ASSIGN_OR_RETURN(assist::Module module, assist::LoadModule(module_path));

  // Values from --value ID=VALUE and model outputs from --output ID=P1,P2,...
  AILAB_ASSIGN_OR_RETURN(assist::Values values,
                         assist::ParseAssignments(module, args.GetAll("value")));
  for (const std::string& output : args.GetAll("output")) {
    AILAB_RETURN_IF_ERROR(assist::ParseModelOutput(module, output, values));
  }

  std::optional<assist::SiteTemplates> site_templates;
  if (args.Has("site_templates")) {
    AILAB_ASSIGN_OR_RETURN(std::string path, args.Require("site_templates"));
    AILAB_ASSIGN_OR_RETURN(site_templates, assist::SiteTemplates::Load(path, module));
  }
  AILAB_ASSIGN_OR_RETURN(
      assist::Report report,
      assist::Evaluate(module, values, site_templates ? &*site_templates : nullptr));

  const std::string format = args.Get("format", "text");
  if (format == "json") {
    std::printf("%s", ReportJson(module, report).c_str());
    return absl::OkStatus();
  }
  if (format != "text") {
    return InvalidArgument("INVALID_OPTION", "format",
                           absl::StrCat("--format=", format, " is invalid; use text or json"),
                           {{"option", "format"}});
  }
  std::string text = report.Text();
  if (args.Has("section")) {
    const std::string section = args.Get("section");
    const std::vector<std::string>& ids = assist::SectionIds();
    if (std::find(ids.begin(), ids.end(), section) == ids.end()) {
      return InvalidArgument(
          "INVALID_OPTION", "section",
          absl::StrCat("--section=", section, " is invalid; use findings, ",
                       "impression, recommendation, ", "impressionRecommendation or citation"),
          {{"option", "section"}});
    }
    text = report.SectionTextOf(section);
  }
  // A blank report (for example a site's template for a negative result) prints nothing.
  if (!text.empty()) std::printf("%s\n", text.c_str());
  return absl::OkStatus();
}

AILAB_CLI_COMMAND({"report", "text",
                   "Print the report text of an ACR Assist module for data element values",
                   "--module=FILE [--value=ID=VALUE ...] [--output=ID=P1,P2,... (one "
                   "probability per choice, the most probable is taken)] "
                   "[--site_templates=FILE] [--section=findings|impression|recommendation|"
                   "impressionRecommendation|citation] [--format=text|json]",
                   &PrintReportText});

}  // namespace
}  // namespace ailab::cli

#endif  // __has_include("ailab/assist/evaluate.h")
