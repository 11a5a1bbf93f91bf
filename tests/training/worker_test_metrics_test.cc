// The worker's test-split figures (services/worker/test_metrics.h).
#include <catch2/catch.hpp>
#include <cmath>

#include "test_metrics.h"

namespace ailab::worker {
namespace {

TEST_CASE("ComputeTestMetrics: perfect binary predictions", "[worker]") {
  auto metrics = ComputeTestMetrics({"absent", "present"}, {0, 1, 1, 0},
                                    {{0.9f, 0.1f}, {0.2f, 0.8f}, {0.4f, 0.6f}, {0.7f, 0.3f}});
  REQUIRE(metrics.ok());
  CHECK(metrics->n() == 4);
  CHECK(metrics->kappa() == Approx(1.0));
  CHECK(metrics->linear_kappa() == Approx(1.0));
  CHECK(metrics->auc() == Approx(1.0));
  CHECK(metrics->accuracy() == Approx(1.0));
  REQUIRE(metrics->confusion_matrix().counts_size() == 4);
  CHECK(metrics->confusion_matrix().counts(0) == 2);
  CHECK(metrics->confusion_matrix().counts(1) == 0);
  CHECK(metrics->confusion_matrix().counts(3) == 2);
  CHECK(metrics->confusion_matrix().classes(1) == "present");
}

TEST_CASE("ComputeTestMetrics: missing class gives NaN AUC", "[worker]") {
  auto metrics = ComputeTestMetrics({"A", "B", "C"}, {0, 0, 1},
                                    {{0.8f, 0.1f, 0.1f}, {0.1f, 0.8f, 0.1f}, {0.1f, 0.8f, 0.1f}});
  REQUIRE(metrics.ok());
  CHECK(std::isnan(metrics->auc()));
  CHECK(metrics->accuracy() == Approx(2.0 / 3.0));
  // Row A: one predicted A, one predicted B.
  CHECK(metrics->confusion_matrix().counts(0) == 1);
  CHECK(metrics->confusion_matrix().counts(1) == 1);
}

TEST_CASE("ComputeTestMetrics: size mismatch is rejected", "[worker]") {
  CHECK_FALSE(ComputeTestMetrics({"A", "B"}, {0, 1}, {{0.5f, 0.5f}}).ok());
  CHECK_FALSE(ComputeTestMetrics({"A", "B"}, {0}, {{0.2f, 0.3f, 0.5f}}).ok());
}

TEST_CASE("ArgMax: first of equal values wins", "[worker]") {
  CHECK(ArgMax({0.2f, 0.4f, 0.4f}) == 1);
  CHECK(ArgMax({0.9f}) == 0);
}

}  // namespace
}  // namespace ailab::worker
