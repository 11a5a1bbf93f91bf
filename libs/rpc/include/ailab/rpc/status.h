// Conversion between absl::Status, used inside libraries, and grpc::Status, used at
// the service edge. The ErrorInfo and BadRequest payloads of an absl::Status (see
// ailab/status/status.h) travel as a google.rpc.Status in gRPC's binary error
// details, and come back as payloads on the client side.
#pragma once

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace ailab::rpc {

// Converts `status` to a grpc::Status with the same code, message and details.
// An error with an empty message gets one naming its code, so no error is blank.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Converts a grpc::Status received by a client back to an absl::Status.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace ailab::rpc
