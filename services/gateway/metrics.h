// Prometheus counters of the gateway, rendered in the text exposition format 0.0.4.
// Thread-safe: io threads and worker threads record concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace ailab::gateway {

class Metrics {
 public:
  // Upper bounds of the request duration histogram, in seconds.
  static constexpr std::array<double, 11> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10};

  // Counts one completed request of `route` (a route template, never a raw path) with
  // HTTP status `code` that took `seconds`.
  void RecordRequest(absl::string_view route, int code, double seconds);
  void RequestStarted();
  void RequestFinished();
  void ConnectionOpened();
  void ConnectionClosed();
  void RecordRateLimited();

  // The exposition text of every metric.
  std::string Render() const;

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };

  mutable absl::Mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, Histogram> durations_ ABSL_GUARDED_BY(mutex_);
  int64_t in_flight_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t open_connections_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t rate_limited_ ABSL_GUARDED_BY(mutex_) = 0;
};

// Escapes a label value for the exposition format (backslash, quote, newline).
std::string EscapeLabelValue(absl::string_view value);

}  // namespace ailab::gateway
