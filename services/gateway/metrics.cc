#include "metrics.h"

#include "absl/strings/str_cat.h"

namespace ailab::gateway {

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void Metrics::RecordRequest(absl::string_view route, int code, double seconds) {
  absl::MutexLock lock(&mutex_);
  ++requests_[{std::string(route), code}];
  Histogram& histogram = durations_[std::string(route)];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++histogram.buckets[i];
  }
  ++histogram.count;
  histogram.sum += seconds;
}

void Metrics::RequestStarted() {
  absl::MutexLock lock(&mutex_);
  ++in_flight_;
}

void Metrics::RequestFinished() {
  absl::MutexLock lock(&mutex_);
  --in_flight_;
}

void Metrics::ConnectionOpened() {
  absl::MutexLock lock(&mutex_);
  ++open_connections_;
}

void Metrics::ConnectionClosed() {
  absl::MutexLock lock(&mutex_);
  --open_connections_;
}

void Metrics::RecordRateLimited() {
  absl::MutexLock lock(&mutex_);
  ++rate_limited_;
}

std::string Metrics::Render() const {
  absl::MutexLock lock(&mutex_);
  std::string out;
  absl::StrAppend(&out,
                  "# HELP http_requests_total HTTP requests completed, by route and status.\n",
                  "# TYPE http_requests_total counter\n");
  for (const auto& [key, count] : requests_) {
    absl::StrAppend(&out, "http_requests_total{route=\"", EscapeLabelValue(key.first), "\",code=\"",
                    key.second, "\"} ", count, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP http_request_duration_seconds Time from the request header to the "
                  "response, by route.\n",
                  "# TYPE http_request_duration_seconds histogram\n");
  for (const auto& [route, histogram] : durations_) {
    const std::string label = EscapeLabelValue(route);
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      absl::StrAppend(&out, "http_request_duration_seconds_bucket{route=\"", label, "\",le=\"",
                      kBuckets[i], "\"} ", histogram.buckets[i], "\n");
    }
    absl::StrAppend(&out, "http_request_duration_seconds_bucket{route=\"", label,
                    "\",le=\"+Inf\"} ", histogram.count, "\n");
    absl::StrAppend(&out, "http_request_duration_seconds_sum{route=\"", label, "\"} ",
                    histogram.sum, "\n");
    absl::StrAppend(&out, "http_request_duration_seconds_count{route=\"", label, "\"} ",
                    histogram.count, "\n");
  }
  absl::StrAppend(&out, "# HELP http_requests_in_flight Requests being handled now.\n",
                  "# TYPE http_requests_in_flight gauge\n", "http_requests_in_flight ", in_flight_,
                  "\n");
  absl::StrAppend(&out, "# HELP http_open_connections Client connections open now.\n",
                  "# TYPE http_open_connections gauge\n", "http_open_connections ",
                  open_connections_, "\n");
  absl::StrAppend(&out,
                  "# HELP http_rate_limited_total Requests rejected with 429 by the per-client "
                  "rate limit.\n",
                  "# TYPE http_rate_limited_total counter\n", "http_rate_limited_total ",
                  rate_limited_, "\n");
  return out;
}

}  // namespace ailab::gateway
