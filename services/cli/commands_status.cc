// `ailab platform status`: checks every service's gRPC health and reflection.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ailab/rpc/probe.h"
#include "ailab/status/status.h"
#include "cli.h"

namespace ailab::cli {
namespace {

constexpr const char* kServices[] = {"catalog",  "ingest",    "annotation", "training",
                                     "inference", "evaluation", "worker"};

absl::Status Status(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(int64_t wait_s, args.GetInt("wait", 0));
  absl::Time deadline = absl::Now() + absl::Seconds(wait_s);
  int failures = 0;
  for (const char* service : kServices) {
    std::string address = ServiceAddress(args, service);
    absl::StatusOr<bool> serving = false;
    // With --wait, retries until the service is up or the time is over.
    while (true) {
      serving = rpc::CheckHealth(address, "", absl::Seconds(2));
      if ((serving.ok() && *serving) || absl::Now() >= deadline) break;
      absl::SleepFor(absl::Milliseconds(200));
    }
    std::string state = serving.ok() ? (*serving ? "SERVING" : "NOT_SERVING")
                                     : std::string(serving.status().message());
    std::string reflected;
    if (serving.ok() && *serving) {
      auto names = rpc::ListServices(address, absl::Seconds(2));
      reflected = names.ok() ? absl::StrJoin(*names, ",") : std::string(names.status().message());
    } else {
      ++failures;
    }
    std::printf("%-11s %-16s %-12s %s\n", service, address.c_str(), state.c_str(),
                reflected.c_str());
  }
  if (failures > 0) {
    return Unavailable("SERVICES_DOWN",
                       absl::StrCat(failures, " of 7 services are not serving; see var/log/"));
  }
  return absl::OkStatus();
}

}  // namespace

AILAB_CLI_COMMAND({"platform", "status",
                   "Check health and reflection of every service",
                   "[--wait SECONDS] [--<service>_address HOST:PORT]", &Status});

}  // namespace ailab::cli
