// Helpers shared by the evaluation service's handlers: request checks that name the
// value at fault, resource ids, the caller's identity and a parallel loop for the
// per-instance inference calls.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"

namespace ailab::evaluation {

// gRPC metadata key of the unsigned user id of the caller (see ailab/rpc/identity.h).
inline constexpr char kUserMetadataKey[] = "x-ailab-user";

// Returns the user id of the caller by the rules of rpc::CallerOf. That is the user of a
// signed x-ailab-identity, or of x-ailab-user when the call carries the internal token
// or no --internal_token is configured. A platform service acting for no one gets
// nullopt. UNAUTHENTICATED for a bad or expired signature, or for an unsigned user
// without the internal token while one is configured.
absl::StatusOr<std::optional<std::string>> ResolveCaller(const grpc::ServerContext* context);

// Returns the caller as ResolveCaller does, but nullopt for a signed-in administrator,
// so that owner checks and the --administrators list let administrators through.
absl::StatusOr<std::optional<std::string>> ResolveCallerUnlessAdministrator(
    const grpc::ServerContext* context);

// Returns the id of `name` = "<collection>/<id>"; INVALID_ARGUMENT naming `field`
// when `name` is empty or of another form.
absl::StatusOr<std::string> ParseName(const std::string& name, absl::string_view collection,
                                      absl::string_view field);

// Checks that `name` has the form "<collection>/<id>".
absl::Status CheckName(const std::string& name, absl::string_view collection,
                       absl::string_view field);

// Checks a caller-chosen id: 1 to 63 lower-case letters, digits and '-', starting with
// a letter. An empty id is allowed (one is generated).
absl::Status CheckResourceId(const std::string& id, absl::string_view field);

// Returns a new random id with `prefix`, for example "e3f9a0c2d4b6e8a1c".
std::string NewId(absl::string_view prefix);

// Checks that `text` has at most `max_length` characters.
absl::Status CheckLength(const std::string& text, size_t max_length, absl::string_view field);

// Runs `task(i)` for i in [0, count) on up to `parallelism` threads and returns the
// first error. After an error, or once `cancelled` (when given) becomes true, no new
// task starts; CANCELLED is returned for the latter.
absl::Status ParallelFor(size_t count, int parallelism,
                         const std::function<absl::Status(size_t index)>& task,
                         const std::atomic<bool>* cancelled = nullptr);

// Reorders probabilities from a model's class order into the use case's category
// order. `model_to_use_case[i]` is the category index of the model's output i.
std::vector<double> ToCategoryOrder(const std::vector<double>& probabilities,
                                    const std::vector<int>& model_to_use_case);

// Maps a model's classes onto the use case's categories. FAILED_PRECONDITION naming
// the model when a class is not a category or the counts differ.
absl::StatusOr<std::vector<int>> MapModelClasses(const std::string& model,
                                                 const std::vector<std::string>& classes,
                                                 const std::string& use_case,
                                                 const std::vector<std::string>& categories);

}  // namespace ailab::evaluation
