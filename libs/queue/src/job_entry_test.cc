#include <catch2/catch.hpp>

#include "ailab/queue/job_queue.h"
#include "ailab/status/status.h"

namespace ailab::queue {
namespace {

redis::StreamEntry AsStreamEntry(const std::string& id,
                                 std::vector<std::pair<std::string, std::string>> fields) {
  redis::StreamEntry entry;
  entry.id = id;
  entry.fields = std::move(fields);
  return entry;
}

TEST_CASE("JobEntry: encode and decode round-trip", "[queue]") {
  JobEntry entry;
  entry.job = "trainingJobs/abc";
  entry.attempt = 3;
  entry.owner = "user-7";
  entry.gpu_count = 2;
  entry.memory_mb = 16384;
  entry.bounces = 1;

  absl::StatusOr<JobEntry> decoded = DecodeEntry(AsStreamEntry("1-0", EncodeEntry(entry)));
  REQUIRE(decoded.ok());
  CHECK(*decoded == entry);
}

TEST_CASE("JobEntry: missing numbers take defaults", "[queue]") {
  absl::StatusOr<JobEntry> decoded = DecodeEntry(AsStreamEntry("1-0", {{"job", "trainingJobs/x"}}));
  REQUIRE(decoded.ok());
  CHECK(decoded->job == "trainingJobs/x");
  CHECK(decoded->attempt == 1);
  CHECK(decoded->gpu_count == 0);
  CHECK(decoded->memory_mb == 0);
  CHECK(decoded->owner.empty());
}

TEST_CASE("JobEntry: entry without job is rejected", "[queue]") {
  absl::StatusOr<JobEntry> decoded = DecodeEntry(AsStreamEntry("5-1", {{"attempt", "1"}}));
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(decoded.status()) == "MALFORMED_QUEUE_ENTRY");
  CHECK(decoded.status().message().find("5-1") != absl::string_view::npos);
}

TEST_CASE("JobEntry: non-numeric attempt is rejected", "[queue]") {
  absl::StatusOr<JobEntry> decoded =
      DecodeEntry(AsStreamEntry("5-2", {{"job", "trainingJobs/x"}, {"attempt", "two"}}));
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(decoded.status().message().find("\"two\"") != absl::string_view::npos);
  CHECK(decoded.status().message().find("attempt") != absl::string_view::npos);
}

}  // namespace
}  // namespace ailab::queue
