#include "services/evaluation/common.h"

#include <algorithm>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ailab/rpc/identity.h"
#include "ailab/status/status.h"
#include "ailab/status/text.h"

namespace ailab::evaluation {

absl::StatusOr<std::optional<std::string>> ResolveCaller(const grpc::ServerContext* context) {
  if (context == nullptr) return std::nullopt;
  AILAB_ASSIGN_OR_RETURN(rpc::CallerInfo info, rpc::CallerOf(*context));
  if (!info.identity.has_value()) return std::nullopt;
  return info.identity->user;
}

absl::StatusOr<std::optional<std::string>> ResolveCallerUnlessAdministrator(
    const grpc::ServerContext* context) {
  if (context == nullptr) return std::nullopt;
  AILAB_ASSIGN_OR_RETURN(rpc::CallerInfo info, rpc::CallerOf(*context));
  if (!info.identity.has_value() || info.identity->HasRole(rpc::kRoleAdministrator)) {
    return std::nullopt;
  }
  return info.identity->user;
}

absl::StatusOr<std::string> ParseName(const std::string& name, absl::string_view collection,
                                      absl::string_view field) {
  if (name.empty()) {
    return InvalidArgument("MISSING_FIELD", field,
                           absl::StrCat(field, " is required, as \"", collection, "/{id}\""));
  }
  const std::string prefix = absl::StrCat(collection, "/");
  const std::string id = absl::StartsWith(name, prefix) ? name.substr(prefix.size()) : "";
  if (id.empty() || absl::StrContains(id, '/')) {
    return InvalidArgument("INVALID_NAME", field,
                           absl::StrCat(field, " \"", name, "\" is not a valid name; expected \"",
                                        collection, "/{id}\""),
                           {{field, name}});
  }
  return id;
}

absl::Status CheckName(const std::string& name, absl::string_view collection,
                       absl::string_view field) {
  return ParseName(name, collection, field).status();
}

absl::Status CheckResourceId(const std::string& id, absl::string_view field) {
  if (id.empty()) return absl::OkStatus();
  bool valid = id.size() <= 63 && absl::ascii_islower(id[0]);
  for (char c : id) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-')) valid = false;
  }
  if (!valid) {
    return InvalidArgument("INVALID_ID", field,
                           absl::StrCat(field, " \"", id,
                                        "\" is invalid; use 1 to 63 lower-case letters, digits and "
                                        "'-', starting with a letter"),
                           {{field, id}});
  }
  return absl::OkStatus();
}

std::string NewId(absl::string_view prefix) {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return absl::StrCat(prefix, absl::Hex(engine(), absl::kZeroPad16));
}

absl::Status CheckLength(const std::string& text, size_t max_length, absl::string_view field) {
  const size_t count = CharacterCount(text);
  if (count <= max_length) return absl::OkStatus();
  const std::string length = absl::StrCat(count);
  return InvalidArgument(
      "FIELD_TOO_LONG", field,
      absl::StrCat(field, " has ", count, " characters; at most ", max_length, " are allowed"),
      {{"length", length}});
}

absl::Status ParallelFor(size_t count, int parallelism,
                         const std::function<absl::Status(size_t index)>& task,
                         const std::atomic<bool>* cancelled) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  absl::Status first_error;
  auto work = [&] {
    while (!failed.load()) {
      if (cancelled != nullptr && cancelled->load()) return;
      const size_t index = next.fetch_add(1);
      if (index >= count) return;
      absl::Status status = task(index);
      if (!status.ok()) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (first_error.ok()) first_error = status;
        failed.store(true);
      }
    }
  };
  const size_t threads = std::min<size_t>(std::max(1, parallelism), count);
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& thread : pool) thread.join();
  if (!first_error.ok()) return first_error;
  if (cancelled != nullptr && cancelled->load()) {
    return absl::CancelledError("the work was cancelled");
  }
  return absl::OkStatus();
}

std::vector<double> ToCategoryOrder(const std::vector<double>& probabilities,
                                    const std::vector<int>& model_to_use_case) {
  std::vector<double> ordered(model_to_use_case.size(), 0.0);
  for (size_t i = 0; i < model_to_use_case.size() && i < probabilities.size(); ++i) {
    ordered[model_to_use_case[i]] = probabilities[i];
  }
  return ordered;
}

absl::StatusOr<std::vector<int>> MapModelClasses(const std::string& model,
                                                 const std::vector<std::string>& classes,
                                                 const std::string& use_case,
                                                 const std::vector<std::string>& categories) {
  std::vector<int> mapping;
  std::vector<bool> seen(categories.size(), false);
  for (const std::string& code : classes) {
    auto it = std::find(categories.begin(), categories.end(), code);
    if (it == categories.end() || seen[it - categories.begin()]) {
      return FailedPrecondition(
          "MODEL_CATEGORIES_MISMATCH",
          absl::StrCat("model \"", model, "\" outputs class \"", code,
                       "\", which is not a category of use case \"", use_case, "\" (",
                       absl::StrJoin(categories, ", "), "); evaluate models of this use case"),
          {{"model", model}, {"class", code}, {"use_case", use_case}});
    }
    seen[it - categories.begin()] = true;
    mapping.push_back(static_cast<int>(it - categories.begin()));
  }
  if (mapping.size() != categories.size()) {
    const std::string count = absl::StrCat(classes.size());
    return FailedPrecondition(
        "MODEL_CATEGORIES_MISMATCH",
        absl::StrCat("model \"", model, "\" outputs ", classes.size(), " classes but use case \"",
                     use_case, "\" has ", categories.size(), " categories (",
                     absl::StrJoin(categories, ", "), "); retrain it on the current categories"),
        {{"model", model}, {"classes", count}, {"use_case", use_case}});
  }
  return mapping;
}

}  // namespace ailab::evaluation
