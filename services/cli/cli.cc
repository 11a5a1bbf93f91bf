#include "cli.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"

namespace ailab::cli {
namespace {

std::vector<Command>& Registry() {
  static auto* commands = new std::vector<Command>();
  return *commands;
}

}  // namespace

bool Args::Has(absl::string_view key) const { return options_.count(std::string(key)) > 0; }

std::string Args::Get(absl::string_view key, absl::string_view fallback) const {
  auto it = options_.find(std::string(key));
  if (it == options_.end() || it->second.empty()) return std::string(fallback);
  return it->second.back();
}

std::vector<std::string> Args::GetAll(absl::string_view key) const {
  auto it = options_.find(std::string(key));
  return it == options_.end() ? std::vector<std::string>() : it->second;
}

absl::StatusOr<std::string> Args::Require(absl::string_view key) const {
  if (!Has(key) || Get(key).empty()) {
    return InvalidArgument("MISSING_OPTION", key,
                           absl::StrCat("option --", key, " is required; see `ailab help`"));
  }
  return Get(key);
}

absl::StatusOr<int64_t> Args::GetInt(absl::string_view key, int64_t fallback) const {
  if (!Has(key)) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(Get(key), &value)) {
    return InvalidArgument("INVALID_OPTION", key,
                           absl::StrCat("option --", key, " must be an integer, got \"",
                                        Get(key), "\""));
  }
  return value;
}

absl::StatusOr<double> Args::GetDouble(absl::string_view key, double fallback) const {
  if (!Has(key)) return fallback;
  double value = 0;
  if (!absl::SimpleAtod(Get(key), &value)) {
    return InvalidArgument("INVALID_OPTION", key,
                           absl::StrCat("option --", key, " must be a number, got \"", Get(key),
                                        "\""));
  }
  return value;
}

std::vector<std::string> Args::OptionNames() const {
  std::vector<std::string> names;
  for (const auto& [name, values] : options_) names.push_back(name);
  return names;
}

absl::Status CheckOptions(const Command& command, const Args& args) {
  static const std::set<std::string> kServices = {"catalog",   "ingest",     "annotation",
                                                  "training",  "inference",  "evaluation",
                                                  "worker"};
  std::set<std::string> known;
  for (size_t at = command.usage.find("--"); at != std::string::npos;
       at = command.usage.find("--", at + 2)) {
    size_t end = at + 2;
    while (end < command.usage.size() &&
           (absl::ascii_isalnum(command.usage[end]) || command.usage[end] == '_')) {
      ++end;
    }
    known.insert(command.usage.substr(at + 2, end - at - 2));
  }
  for (const std::string& name : args.OptionNames()) {
    if (known.count(name) > 0) continue;
    constexpr absl::string_view kSuffix = "_address";
    if (absl::EndsWith(name, kSuffix) &&
        kServices.count(name.substr(0, name.size() - kSuffix.size())) > 0) {
      continue;
    }
    return InvalidArgument(
        "UNKNOWN_OPTION", name,
        absl::StrCat("unknown option --", name, " for `ailab ", command.group, " ", command.name,
                     "`; it takes ", command.usage.empty() ? "no options" : command.usage,
                     " (see `ailab help ", command.group, " ", command.name, "`)"));
  }
  return absl::OkStatus();
}

Args ParseArgs(const std::vector<std::string>& words) {
  std::map<std::string, std::vector<std::string>> options;
  std::vector<std::string> positional;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (word.rfind("--", 0) != 0 || word.size() == 2) {
      positional.push_back(word);
      continue;
    }
    std::string body = word.substr(2);
    size_t eq = body.find('=');
    if (eq != std::string::npos) {
      options[body.substr(0, eq)].push_back(body.substr(eq + 1));
    } else if (i + 1 < words.size() && words[i + 1].rfind("--", 0) != 0) {
      options[body].push_back(words[++i]);
    } else {
      options[body].push_back("true");
    }
  }
  return Args(std::move(options), std::move(positional));
}

bool RegisterCommand(Command command) {
  Registry().push_back(std::move(command));
  return true;
}

std::vector<Command> Commands() {
  std::vector<Command> commands = Registry();
  std::sort(commands.begin(), commands.end(), [](const Command& a, const Command& b) {
    return std::tie(a.group, a.name) < std::tie(b.group, b.name);
  });
  return commands;
}

absl::Status PrintJson(const google::protobuf::Message& message,
                       google::protobuf::util::JsonPrintOptions options) {
  options.add_whitespace = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return Internal("JSON_PRINT_FAILED", absl::StrCat("could not print the response as JSON: ",
                                                      status.message().ToString()));
  }
  std::printf("%s", json.c_str());
  if (json.empty() || json.back() != '\n') std::printf("\n");
  return absl::OkStatus();
}

std::string ServiceAddress(const Args& args, absl::string_view service) {
  std::string key = absl::StrCat(service, "_address");
  if (args.Has(key)) return args.Get(key);
  std::string env = absl::StrCat("AILAB_", absl::AsciiStrToUpper(key));
  if (const char* value = std::getenv(env.c_str())) return value;
  static const std::map<std::string, std::string> kDefaults = {
      {"catalog", "127.0.0.1:7101"},   {"ingest", "127.0.0.1:7102"},
      {"annotation", "127.0.0.1:7103"}, {"training", "127.0.0.1:7104"},
      {"inference", "127.0.0.1:7105"},  {"evaluation", "127.0.0.1:7106"},
      {"worker", "127.0.0.1:7107"}};
  auto it = kDefaults.find(std::string(service));
  return it == kDefaults.end() ? std::string() : it->second;
}

std::optional<std::string> OptionalUser(const Args& args) {
  if (args.Has("user")) return args.Get("user");
  if (const char* user = std::getenv("AILAB_USER"); user != nullptr && *user != '\0') {
    return std::string(user);
  }
  return std::nullopt;
}

absl::StatusOr<std::string> RequireUser(const Args& args, absl::string_view who) {
  if (args.Has("user")) return args.Require("user");
  if (std::optional<std::string> user = OptionalUser(args)) return *user;
  return InvalidArgument("MISSING_OPTION", "user",
                         absl::StrCat("option --user is required (or set AILAB_USER): the id of ",
                                      who));
}

}  // namespace ailab::cli
