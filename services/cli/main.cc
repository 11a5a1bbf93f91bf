// Entry point of the `ailab` command-line client; see cli.h.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cli.h"

namespace {

void PrintHelp() {
  std::printf("usage: ailab <group> <command> [options]\n\ncommands:\n");
  for (const auto& command : ailab::cli::Commands()) {
    std::printf("  %-12s %-18s %s\n", command.group.c_str(), command.name.c_str(),
                command.summary.c_str());
  }
  std::printf("\n`ailab help <group> <command>` shows a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty() || words[0] == "help" || words[0] == "--help" || words[0] == "-h") {
    if (words.size() >= 3) {
      for (const auto& command : ailab::cli::Commands()) {
        if (command.group == words[1] && command.name == words[2]) {
          std::printf("ailab %s %s %s\n  %s\n", command.group.c_str(), command.name.c_str(),
                      command.usage.c_str(), command.summary.c_str());
          return 0;
        }
      }
    }
    PrintHelp();
    return words.empty() ? 2 : 0;
  }
  if (words.size() < 2) {
    std::fprintf(stderr, "error: missing command after \"%s\"; run `ailab help`\n",
                 words[0].c_str());
    return 2;
  }
  // A group with a single command runs it when an option follows the group name, so
  // `ailab report --module=...` is `ailab report text --module=...`.
  if (words[1].rfind("--", 0) == 0) {
    std::vector<std::string> names;
    for (const auto& command : ailab::cli::Commands()) {
      if (command.group == words[0]) names.push_back(command.name);
    }
    if (names.size() == 1) words.insert(words.begin() + 1, names[0]);
  }
  for (const auto& command : ailab::cli::Commands()) {
    if (command.group != words[0] || command.name != words[1]) continue;
    ailab::cli::Args args =
        ailab::cli::ParseArgs(std::vector<std::string>(words.begin() + 2, words.end()));
    absl::Status status = ailab::cli::CheckOptions(command, args);
    if (status.ok()) status = command.run(args);
    if (!status.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(status.message()).c_str());
      return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
    }
    return 0;
  }
  std::fprintf(stderr, "error: unknown command \"%s %s\"; run `ailab help`\n", words[0].c_str(),
               words[1].c_str());
  return 2;
}
