// Per-client token buckets: each client address may make `rate` requests per second
// on average, with bursts of up to 2 x rate. Thread-safe.
#pragma once

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ailab::gateway {

class RateLimiter {
 public:
  // `rate` requests per second per client; 0 turns the limit off.
  explicit RateLimiter(double rate) : rate_(rate), burst_(2 * rate) {}

  struct Decision {
    bool allowed = true;
    // Whole seconds until the next token, for Retry-After; 0 when allowed.
    int retry_after_seconds = 0;
  };

  // Takes one token from `client`'s bucket at time `now`.
  Decision Admit(absl::string_view client, absl::Time now);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };

  const double rate_;
  const double burst_;
  absl::Mutex mutex_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace ailab::gateway
