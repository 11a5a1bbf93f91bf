// Pieces of identity.cc that the unit tests call without a running server.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ailab/rpc/identity.h"

namespace ailab::rpc::internal {

// Metadata of one call that decides who the caller is; nullopt for an absent key.
struct CallerMetadata {
  std::optional<std::string> identity;
  std::optional<std::string> user;
  std::optional<std::string> internal_token;
};

// Applies CallerOf's rules to `metadata`, with `configured_token` as this process's
// --internal_token.
absl::StatusOr<CallerInfo> ResolveCaller(const CallerMetadata& metadata,
                                         absl::string_view configured_token, absl::Time now);

}  // namespace ailab::rpc::internal
