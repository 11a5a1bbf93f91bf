// Channels from one service (or the CLI) to another.
//
// Channels retry calls that fail with UNAVAILABLE a few times with back-off, so a
// peer that restarts does not fail the caller's request.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace ailab::rpc {

// Opens a channel to `target` (host:port) with the retry policy above.
std::shared_ptr<grpc::Channel> Connect(const std::string& target);

// Sets a deadline of `timeout` from now on `context`.
void SetTimeout(grpc::ClientContext& context, absl::Duration timeout);

}  // namespace ailab::rpc
