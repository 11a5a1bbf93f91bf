#include "ailab/rpc/internal_caller.h"

#include <atomic>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "ailab/config/flags.h"
#include "ailab/log/log.h"
#include "ailab/status/status.h"

namespace ailab::rpc {
namespace {

// Compares without an early exit, so the time taken does not reveal a matching prefix.
bool EqualInConstantTime(absl::string_view a, absl::string_view b) {
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return difference == 0;
}

}  // namespace

void AddInternalToken(grpc::ClientContext& context) {
  const std::string token = absl::GetFlag(FLAGS_internal_token);
  if (!token.empty()) context.AddMetadata(kInternalTokenKey, token);
}

absl::Status CheckInternalToken(absl::string_view expected, absl::string_view received,
                                absl::string_view method) {
  if (expected.empty()) {
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true)) {
      log::Logger("rpc")->warn(
          "no --internal_token is set, so internal calls such as {} are open to every caller",
          std::string(method));
    }
    return absl::OkStatus();
  }
  if (EqualInConstantTime(expected, received)) return absl::OkStatus();
  log::Logger("rpc")->warn("internal call rejected method={} token_present={}",
                           std::string(method), !received.empty());
  return PermissionDenied(
      "INTERNAL_CALLER_REQUIRED",
      absl::StrCat(method, " may be called only by the platform's services; call it through ",
                   "the evaluation service (leaderboards and evaluations) instead"),
      {{"method", std::string(method)}});
}

absl::Status RequireInternalCaller(const grpc::ServerContextBase& context,
                                   absl::string_view method) {
  const auto& metadata = context.client_metadata();
  auto found = metadata.find(kInternalTokenKey);
  absl::string_view received;
  if (found != metadata.end()) received = absl::string_view(found->second.data(), found->second.size());
  return CheckInternalToken(absl::GetFlag(FLAGS_internal_token), received, method);
}

}  // namespace ailab::rpc
