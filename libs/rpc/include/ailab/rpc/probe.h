// Client checks that a server speaks the gRPC health and reflection protocols. Used
// by tests, by the deployment scripts to wait for services, and by `ailab status`.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ailab::rpc {

// Returns true when `target` reports SERVING for `service` (empty: the server).
absl::StatusOr<bool> CheckHealth(const std::string& target, const std::string& service,
                                 absl::Duration timeout);

// Returns the services `target` lists through server reflection.
absl::StatusOr<std::vector<std::string>> ListServices(const std::string& target,
                                                      absl::Duration timeout);

}  // namespace ailab::rpc
