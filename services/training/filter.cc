#include "filter.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ailab/status/status.h"
#include "ailab/training/v1/training.pb.h"

namespace ailab::training {
namespace {

absl::Status BadCondition(absl::string_view condition, absl::string_view why) {
  return InvalidArgument(
      "INVALID_FILTER", "filter",
      absl::StrCat("filter condition \"", condition, "\" ", why,
                   "; write conditions as field=value joined by AND, with field one of state, "
                   "owner, use_case, dataset (example: state=RUNNING AND owner=\"u1\")"),
      {{"condition", condition}});
}

}  // namespace

absl::StatusOr<JobFilter> ParseJobFilter(const std::string& filter) {
  JobFilter parsed;
  if (absl::StripAsciiWhitespace(filter).empty()) return parsed;

  for (absl::string_view condition : absl::StrSplit(filter, " AND ")) {
    condition = absl::StripAsciiWhitespace(condition);
    size_t equals = condition.find('=');
    if (equals == absl::string_view::npos) return BadCondition(condition, "has no '='");
    absl::string_view field = absl::StripAsciiWhitespace(condition.substr(0, equals));
    absl::string_view value = absl::StripAsciiWhitespace(condition.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (value.empty()) return BadCondition(condition, "has an empty value");

    if (field == "state") {
      v1::TrainingJob::State state;
      if (!v1::TrainingJob::State_Parse(std::string(value), &state) ||
          state == v1::TrainingJob::STATE_UNSPECIFIED) {
        return BadCondition(condition,
                            "names an unknown state (use QUEUED, RUNNING, SUCCEEDED, FAILED, "
                            "CANCELLING or CANCELLED)");
      }
      parsed.state = std::string(value);
    } else if (field == "owner") {
      parsed.owner = std::string(value);
    } else if (field == "use_case") {
      parsed.use_case = std::string(value);
    } else if (field == "dataset") {
      parsed.dataset = std::string(value);
    } else {
      return BadCondition(condition, "uses an unknown field");
    }
  }
  return parsed;
}

}  // namespace ailab::training
