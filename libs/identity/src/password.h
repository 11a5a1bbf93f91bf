// Parsing of Argon2id PHC strings, shared by password.cc and its tests.
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ailab/identity/identity.h"

namespace ailab::identity::internal {

// Reads the cost parameters of "$argon2id$v=19$m=<kib>,t=<passes>,p=<lanes>$<salt>$<hash>".
// INVALID_ARGUMENT (reason PASSWORD_HASH_INVALID) for any other form, another
// algorithm or version, or a cost outside what HashPassword accepts.
absl::StatusOr<PasswordParams> ParsePhcParams(absl::string_view phc);

}  // namespace ailab::identity::internal
