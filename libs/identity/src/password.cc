#include <argon2.h>
#include <openssl/rand.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ailab/identity/identity.h"
#include "ailab/status/status.h"
#include "password.h"

namespace ailab::identity {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
// Upper bounds on the cost a stored hash may ask for, so that a corrupted or planted
// hash cannot make one verification take gigabytes or minutes.
constexpr uint32_t kMaxMemoryKib = 1024 * 1024;
constexpr uint32_t kMaxIterations = 64;
constexpr uint32_t kMaxParallelism = 16;

absl::Status InvalidHash(absl::string_view problem) {
  return InvalidArgument("PASSWORD_HASH_INVALID", "password_hash",
                         absl::StrCat("the stored password hash is not an Argon2id PHC string (",
                                      problem, "); set a new password with ChangePassword"),
                         {{"problem", problem}});
}

absl::Status CheckParams(const PasswordParams& params) {
  if (params.memory_kib < 8 * params.parallelism || params.memory_kib > kMaxMemoryKib ||
      params.iterations < 1 || params.iterations > kMaxIterations || params.parallelism < 1 ||
      params.parallelism > kMaxParallelism) {
    return InvalidArgument(
        "PASSWORD_PARAMS_INVALID", "password",
        absl::StrCat("Argon2id parameters m=", params.memory_kib, " t=", params.iterations,
                     " p=", params.parallelism, " are out of range; use m from 8*p to ",
                     kMaxMemoryKib, " KiB, t from 1 to ", kMaxIterations, ", p from 1 to ",
                     kMaxParallelism));
  }
  return absl::OkStatus();
}

bool ParseNamedNumber(absl::string_view text, absl::string_view name, uint32_t* value) {
  if (!absl::ConsumePrefix(&text, name) || !absl::ConsumePrefix(&text, "=")) return false;
  if (text.empty() || text.size() > 10) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return absl::SimpleAtoi(text, value);
}

}  // namespace

namespace internal {

absl::StatusOr<PasswordParams> ParsePhcParams(absl::string_view phc) {
  // "" $ "argon2id" $ "v=19" $ "m=..,t=..,p=.." $ salt $ hash
  std::vector<absl::string_view> parts = absl::StrSplit(phc, '$');
  if (parts.size() != 6 || !parts[0].empty()) return InvalidHash("expected 5 fields after \"$\"");
  if (parts[1] != "argon2id") return InvalidHash("algorithm is not argon2id");
  uint32_t version = 0;
  if (!ParseNamedNumber(parts[2], "v", &version) || version != ARGON2_VERSION_13) {
    return InvalidHash("version is not v=19");
  }
  std::vector<absl::string_view> costs = absl::StrSplit(parts[3], ',');
  PasswordParams params;
  if (costs.size() != 3 || !ParseNamedNumber(costs[0], "m", &params.memory_kib) ||
      !ParseNamedNumber(costs[1], "t", &params.iterations) ||
      !ParseNamedNumber(costs[2], "p", &params.parallelism)) {
    return InvalidHash("parameters are not m=<KiB>,t=<passes>,p=<lanes>");
  }
  if (!CheckParams(params).ok()) return InvalidHash("parameters are out of range");
  if (parts[4].empty() || parts[5].empty()) return InvalidHash("salt or hash is empty");
  return params;
}

}  // namespace internal

absl::StatusOr<std::string> HashPassword(absl::string_view password,
                                         const PasswordParams& params) {
  AILAB_RETURN_IF_ERROR(CheckParams(params));
  unsigned char salt[kSaltBytes];
  if (RAND_bytes(salt, sizeof(salt)) != 1) {
    return Internal("RANDOM_FAILED", "the system random generator failed; retry");
  }
  const size_t encoded_length = argon2_encodedlen(params.iterations, params.memory_kib,
                                                  params.parallelism, kSaltBytes, kHashBytes,
                                                  Argon2_id);
  std::string encoded(encoded_length, '\0');
  const int result = argon2id_hash_encoded(params.iterations, params.memory_kib,
                                           params.parallelism, password.data(), password.size(),
                                           salt, sizeof(salt), kHashBytes, encoded.data(),
                                           encoded.size());
  if (result != ARGON2_OK) {
    return Internal("PASSWORD_HASH_FAILED",
                    absl::StrCat("Argon2id hashing failed: ", argon2_error_message(result)));
  }
  encoded.resize(encoded.find('\0'));
  return encoded;
}

absl::StatusOr<bool> VerifyPassword(absl::string_view password, absl::string_view phc) {
  AILAB_RETURN_IF_ERROR(internal::ParsePhcParams(phc).status());
  const std::string encoded(phc);
  const int result = argon2id_verify(encoded.c_str(), password.data(), password.size());
  if (result == ARGON2_OK) return true;
  if (result == ARGON2_VERIFY_MISMATCH) return false;
  if (result == ARGON2_DECODING_FAIL || result == ARGON2_SALT_TOO_SHORT ||
      result == ARGON2_OUTPUT_TOO_SHORT) {
    return InvalidHash(argon2_error_message(result));
  }
  return Internal("PASSWORD_VERIFY_FAILED",
                  absl::StrCat("Argon2id verification failed: ", argon2_error_message(result)));
}

}  // namespace ailab::identity
