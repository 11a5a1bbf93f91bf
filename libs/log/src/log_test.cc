#include "ailab/log/log.h"

#include <catch2/catch.hpp>

TEST_CASE("Logger returns one instance per component", "[log]") {
  auto first = ailab::log::Logger("log-test");
  auto second = ailab::log::Logger("log-test");
  CHECK(first.get() == second.get());
  CHECK(first->name() == "log-test");
}

TEST_CASE("SetLevel applies to existing and new loggers", "[log]") {
  auto existing = ailab::log::Logger("log-test-level");
  ailab::log::SetLevel("warn");
  CHECK(existing->level() == spdlog::level::warn);
  CHECK(ailab::log::Logger("log-test-level-new")->level() == spdlog::level::warn);
  ailab::log::SetLevel("info");
  CHECK(existing->level() == spdlog::level::info);
}
