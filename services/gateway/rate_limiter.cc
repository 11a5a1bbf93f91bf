#include "rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace ailab::gateway {
namespace {

// Above this many tracked clients, full buckets are dropped: a full bucket is the same
// as a client never seen.
constexpr size_t kMaxTrackedClients = 10000;

}  // namespace

RateLimiter::Decision RateLimiter::Admit(absl::string_view client, absl::Time now) {
  if (rate_ <= 0) return {};
  absl::MutexLock lock(&mutex_);

  if (buckets_.size() > kMaxTrackedClients) {
    std::vector<std::string> full;
    for (const auto& [key, bucket] : buckets_) {
      const double seconds = absl::ToDoubleSeconds(now - bucket.updated);
      if (bucket.tokens + seconds * rate_ >= burst_) full.push_back(key);
    }
    for (const std::string& key : full) buckets_.erase(key);
  }

  auto [it, inserted] = buckets_.try_emplace(std::string(client), Bucket{burst_, now});
  Bucket& bucket = it->second;
  if (!inserted) {
    // Refill for the time since the last request; a clock step backwards adds nothing.
    const double seconds = std::max(0.0, absl::ToDoubleSeconds(now - bucket.updated));
    bucket.tokens = std::min(burst_, bucket.tokens + seconds * rate_);
    bucket.updated = std::max(bucket.updated, now);
  }
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return {};
  }
  const double wait = (1 - bucket.tokens) / rate_;
  return {false, std::max(1, static_cast<int>(std::ceil(wait)))};
}

}  // namespace ailab::gateway
