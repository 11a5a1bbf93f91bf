#include "ailab/rpc/server.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"

namespace ailab::rpc {
namespace {

TEST_CASE("Server: second bind of a port fails") {
  ServerConfig config;
  config.name = "first";
  config.listen = "127.0.0.1:0";
  auto first = Server::Start(config, {});
  REQUIRE(first.ok());

  ServerConfig again = config;
  again.name = "second";
  again.listen = absl::StrCat("127.0.0.1:", (*first)->port());
  auto second = Server::Start(again, {});
  CHECK_FALSE(second.ok());
  CHECK(second.status().code() == absl::StatusCode::kUnavailable);
  (*first)->Shutdown();
}

}  // namespace
}  // namespace ailab::rpc
