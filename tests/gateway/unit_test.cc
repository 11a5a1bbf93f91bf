// Unit tests of the gateway parts that need no network: static path safety, the
// Prometheus text, the routing table, the rate limiter and the JSON error mapping.
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "catch2/catch.hpp"
#include "fixtures.h"
#include "http_util.h"
#include "metrics.h"
#include "rate_limiter.h"
#include "routes.h"
#include "transcoder.h"

namespace ailab::gateway {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << content;
}

// A web root with index.html and assets/app-1a2b3c4d.js, and a secret file beside it.
struct WebRootFixture {
  WebRootFixture() {
    WriteFile(fs::path(dir.path()) / "web" / "index.html", "<html>index</html>");
    WriteFile(fs::path(dir.path()) / "web" / "assets" / "app-1a2b3c4d.js", "app");
    WriteFile(fs::path(dir.path()) / "secret.txt", "SECRET");
    root = fs::canonical(fs::path(dir.path()) / "web");
  }
  testing::TempDir dir;
  fs::path root;
};

absl::StatusCode CodeOf(const absl::StatusOr<StaticFile>& result) { return result.status().code(); }

TEST_CASE("ResolveStaticPath: serves files and the index fallback") {
  WebRootFixture web;
  auto index = ResolveStaticPath(web.root, "/");
  REQUIRE(index.ok());
  CHECK(index->path == web.root / "index.html");

  auto asset = ResolveStaticPath(web.root, "/assets/app-1a2b3c4d.js");
  REQUIRE(asset.ok());
  CHECK(asset->path == web.root / "assets" / "app-1a2b3c4d.js");
  CHECK_FALSE(asset->fallback);

  auto route = ResolveStaticPath(web.root, "/useCases/breast-density");
  REQUIRE(route.ok());
  CHECK(route->fallback);
  CHECK(route->path == web.root / "index.html");

  CHECK(CodeOf(ResolveStaticPath(web.root, "/missing.js")) == absl::StatusCode::kNotFound);
}

TEST_CASE("ResolveStaticPath: rejects traversal variants") {
  WebRootFixture web;
  const std::vector<std::string> attacks = {
      "/../secret.txt",
      "/assets/../../secret.txt",
      "/%2e%2e/secret.txt",
      "/%2E%2E/secret.txt",
      "/..%2fsecret.txt",
      "/..%2Fsecret.txt",
      "/..%5csecret.txt",
      "/assets/..\\..\\secret.txt",
      "/./index.html",
      "/%2e/index.html",
      "/index.html%00.js",
      "/%00",
      "/%zz",
      "/%2",
      "relative/index.html",
  };
  for (const std::string& attack : attacks) {
    INFO("path " << attack);
    auto result = ResolveStaticPath(web.root, attack);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("ResolveStaticPath: double encoding is decoded once") {
  WebRootFixture web;
  // "%252e%252e" decodes to the literal name "%2e%2e", which is no file; without an
  // extension it is a client-side route and gets index.html, never the secret.
  auto result = ResolveStaticPath(web.root, "/%252e%252e/secret.txt");
  CHECK(CodeOf(result) == absl::StatusCode::kNotFound);
  auto route = ResolveStaticPath(web.root, "/%252e%252e");
  REQUIRE(route.ok());
  CHECK(route->path == web.root / "index.html");
}

TEST_CASE("ResolveStaticPath: absolute paths stay inside the root") {
  WebRootFixture web;
  const std::string secret = (fs::path(web.dir.path()) / "secret.txt").string();
  auto result = ResolveStaticPath(web.root, "/" + secret);
  CHECK(CodeOf(result) == absl::StatusCode::kNotFound);
  // "//etc/passwd" is the route /etc/passwd of the web application.
  auto doubled = ResolveStaticPath(web.root, "//etc/passwd");
  REQUIRE(doubled.ok());
  CHECK(doubled->path == web.root / "index.html");
}

TEST_CASE("ResolveStaticPath: symlinks out of the root are refused") {
  WebRootFixture web;
  fs::create_symlink(fs::path(web.dir.path()) / "secret.txt", web.root / "link.txt");
  fs::create_directory_symlink(fs::path(web.dir.path()), web.root / "up");
  CHECK(CodeOf(ResolveStaticPath(web.root, "/link.txt")) == absl::StatusCode::kNotFound);
  CHECK(CodeOf(ResolveStaticPath(web.root, "/up/secret.txt")) == absl::StatusCode::kNotFound);
}

TEST_CASE("PercentDecode: decodes once") {
  CHECK(*PercentDecode("a%20b") == "a b");
  CHECK(*PercentDecode("%252e") == "%2e");
  CHECK(*PercentDecode("a+b") == "a+b");
  CHECK_FALSE(PercentDecode("%g0").ok());
  CHECK_FALSE(PercentDecode("abc%").ok());
}

TEST_CASE("ContentTypeFor and CacheControlFor: by extension and folder") {
  CHECK(ContentTypeFor("index.html") == "text/html; charset=utf-8");
  CHECK(ContentTypeFor("a/app.JS") == "text/javascript; charset=utf-8");
  CHECK(ContentTypeFor("x.png") == "image/png");
  CHECK(ContentTypeFor("x.unknown") == "application/octet-stream");
  CHECK(CacheControlFor("/assets/app-1a2b.js") == "public, max-age=31536000, immutable");
  CHECK(CacheControlFor("/index.html") == "no-cache");
}

TEST_CASE("Metrics: renders counters, histogram and gauges") {
  Metrics metrics;
  metrics.RecordRequest("/api/x", 200, 0.003);
  metrics.RecordRequest("/api/x", 200, 0.2);
  metrics.RecordRequest("/api/x", 404, 20);
  metrics.ConnectionOpened();
  metrics.RequestStarted();
  metrics.RecordRateLimited();
  const std::string text = metrics.Render();
  CHECK(absl::StrContains(text, "# TYPE http_requests_total counter\n"));
  CHECK(absl::StrContains(text, "http_requests_total{route=\"/api/x\",code=\"200\"} 2\n"));
  CHECK(absl::StrContains(text, "http_requests_total{route=\"/api/x\",code=\"404\"} 1\n"));
  CHECK(absl::StrContains(text, "# TYPE http_request_duration_seconds histogram\n"));
  CHECK(absl::StrContains(
      text, "http_request_duration_seconds_bucket{route=\"/api/x\",le=\"0.005\"} 1\n"));
  CHECK(absl::StrContains(
      text, "http_request_duration_seconds_bucket{route=\"/api/x\",le=\"0.25\"} 2\n"));
  CHECK(absl::StrContains(text,
                          "http_request_duration_seconds_bucket{route=\"/api/x\",le=\"10\"} 2\n"));
  CHECK(absl::StrContains(
      text, "http_request_duration_seconds_bucket{route=\"/api/x\",le=\"+Inf\"} 3\n"));
  CHECK(absl::StrContains(text, "http_request_duration_seconds_count{route=\"/api/x\"} 3\n"));
  CHECK(absl::StrContains(text, "http_requests_in_flight 1\n"));
  CHECK(absl::StrContains(text, "http_open_connections 1\n"));
  CHECK(absl::StrContains(text, "http_rate_limited_total 1\n"));
}

TEST_CASE("Metrics: escapes label values") {
  CHECK(EscapeLabelValue("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
}

TEST_CASE("Routes: every route names an existing method") {
  std::set<std::string> seen;
  for (const Route& route : Routes()) {
    INFO("route " << route.method);
    CHECK(seen.insert(route.method).second);
    const google::protobuf::MethodDescriptor* method = FindMethod(route.method);
    REQUIRE(method != nullptr);
    CHECK_FALSE(method->client_streaming());
    if (!route.caller_field.empty()) {
      CHECK(HasStringField(method->input_type(), route.caller_field));
    }
    CHECK(FindRoute(route.method) == &route);
  }
}

TEST_CASE("Routes: internal methods are not exposed") {
  for (const std::string& method : InternalMethods()) {
    INFO("method " << method);
    CHECK(FindMethod(method) != nullptr);
    CHECK(FindRoute(method) == nullptr);
  }
  CHECK(FindRoute("ailab.training.v1.TrainingService/Nope") == nullptr);
}

TEST_CASE("Routes: only SignIn is public") {
  for (const Route& route : Routes()) {
    INFO("route " << route.method);
    CHECK(route.public_method == (route.method == "ailab.identity.v1.IdentityService/SignIn"));
  }
}

TEST_CASE("Routes: annotator field bound on own-label methods") {
  for (const char* name : {"SaveAnnotation", "SkipInstance", "GetNextInstance", "FinishSession",
                           "ListAnnotations", "GetAnnotation", "GetAnnotationProgress"}) {
    const Route* route = FindRoute(absl::StrCat("ailab.annotation.v1.AnnotationService/", name));
    REQUIRE(route != nullptr);
    CHECK(route->caller_field == "annotator");
  }
}

TEST_CASE("IsReadOnly: by method prefix") {
  CHECK(IsReadOnly("ailab.catalog.v1.CatalogService/GetUseCase"));
  CHECK(IsReadOnly("ailab.catalog.v1.CatalogService/ListUseCases"));
  CHECK(IsReadOnly("ailab.annotation.v1.AnnotationService/CountLabels"));
  CHECK_FALSE(IsReadOnly("ailab.annotation.v1.AnnotationService/SaveAnnotation"));
}

TEST_CASE("BindCallerField: fills, accepts and rejects") {
  const google::protobuf::MethodDescriptor* method =
      FindMethod("ailab.annotation.v1.AnnotationService/SaveAnnotation");
  REQUIRE(method != nullptr);
  auto message = NewMessage(method->input_type());
  REQUIRE(BindCallerField(*message, "annotator", "u1", false).ok());
  auto json = PrintJson(*message);
  REQUIRE(json.ok());
  CHECK(absl::StrContains(*json, "\"annotator\":\"u1\""));
  CHECK(BindCallerField(*message, "annotator", "u1", false).ok());
  CHECK(BindCallerField(*message, "annotator", "u2", false).code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(BindCallerField(*message, "annotator", "u2", true).ok());

  const google::protobuf::MethodDescriptor* create =
      FindMethod("ailab.training.v1.TrainingService/CreateTrainingJob");
  REQUIRE(create != nullptr);
  auto job = NewMessage(create->input_type());
  REQUIRE(BindCallerField(*job, "training_job.owner", "u7", false).ok());
  CHECK(absl::StrContains(*PrintJson(*job), "\"owner\":\"u7\""));
}

TEST_CASE("ParseJson: unknown fields name the field") {
  const google::protobuf::MethodDescriptor* method =
      FindMethod("ailab.catalog.v1.CatalogService/GetUseCase");
  REQUIRE(method != nullptr);
  auto message = NewMessage(method->input_type());
  CHECK(ParseJson("", *message).ok());
  CHECK(ParseJson("{\"name\":\"useCases/x\"}", *message).ok());
  absl::Status unknown = ParseJson("{\"nope\":1}", *message);
  CHECK(unknown.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(unknown.message(), "nope"));
  CHECK(ParseJson("{not json", *message).code() == absl::StatusCode::kInvalidArgument);
  CHECK(ResourceOf(*message) == "useCases/x");
}

TEST_CASE("ParseJson: only strict JSON") {
  const google::protobuf::MethodDescriptor* method =
      FindMethod("ailab.annotation.v1.AnnotationService/SaveAnnotation");
  REQUIRE(method != nullptr);
  auto message = NewMessage(method->input_type());
  CHECK(ParseJson(" {\"useCase\": \"useCases/a\", \"label\": \"B\"}\n", *message).ok());

  // Protobuf's own parser accepts each of these.
  for (const char* body : {
           "{\"useCase\":\"useCases/a\",}",
           "{'useCase':'useCases/a'}",
           "{useCase:\"useCases/a\"}",
           "{\"useCase\":\"useCases/a\"} {}",
       }) {
    INFO("body " << body);
    absl::Status status = ParseJson(body, *message);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(GetErrorReason(status) == "INVALID_JSON");
    CHECK(absl::StrContains(status.message(), "is not valid JSON: "));
    CHECK_FALSE(absl::StrContains(status.message(), "json.exception"));
  }

  absl::Status repeated =
      ParseJson("{\"label\":\"A\",\"boxes\":[{\"label\":\"x\"}],\"label\":\"B\"}", *message);
  CHECK(repeated.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(repeated.message(), "the key \"label\" appears twice"));
  // The same key in two different objects is fine.
  CHECK(ParseJson("{\"label\":\"A\",\"boxes\":[{\"label\":\"x\"},{\"label\":\"y\"}]}", *message)
            .ok());
}

TEST_CASE("HttpStatusFor: the contract's mapping") {
  CHECK(HttpStatusFor(grpc::StatusCode::OK) == 200);
  CHECK(HttpStatusFor(grpc::StatusCode::INVALID_ARGUMENT) == 400);
  CHECK(HttpStatusFor(grpc::StatusCode::UNAUTHENTICATED) == 401);
  CHECK(HttpStatusFor(grpc::StatusCode::PERMISSION_DENIED) == 403);
  CHECK(HttpStatusFor(grpc::StatusCode::NOT_FOUND) == 404);
  CHECK(HttpStatusFor(grpc::StatusCode::ALREADY_EXISTS) == 409);
  CHECK(HttpStatusFor(grpc::StatusCode::ABORTED) == 409);
  CHECK(HttpStatusFor(grpc::StatusCode::FAILED_PRECONDITION) == 409);
  CHECK(HttpStatusFor(grpc::StatusCode::RESOURCE_EXHAUSTED) == 429);
  CHECK(HttpStatusFor(grpc::StatusCode::UNAVAILABLE) == 503);
  CHECK(HttpStatusFor(grpc::StatusCode::DEADLINE_EXCEEDED) == 504);
  CHECK(HttpStatusFor(grpc::StatusCode::INTERNAL) == 500);
  CHECK(HttpStatusFor(grpc::StatusCode::DATA_LOSS) == 500);
}

TEST_CASE("JsonQuote: keeps UTF-8, replaces invalid bytes") {
  CHECK(JsonQuote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  CHECK(JsonQuote("a\xff\xfe") == "\"a\\ufffd\\ufffd\"");
  // Truncated, overlong, surrogate and out-of-range sequences.
  CHECK(JsonQuote("\xc3") == "\"\\ufffd\"");
  CHECK(JsonQuote("\xc0\xaf") == "\"\\ufffd\\ufffd\"");
  CHECK(JsonQuote("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");
  CHECK(JsonQuote("\xf4\x90\x80\x80") == "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

TEST_CASE("ErrorJson: contract fields, escaped") {
  CHECK(ErrorJson(grpc::StatusCode::NOT_FOUND, "no \"x\"\n<b>", "USE_CASE_NOT_FOUND", "r1") ==
        "{\"code\":\"NOT_FOUND\",\"message\":\"no \\\"x\\\"\\n\\u003cb\\u003e\","
        "\"reason\":\"USE_CASE_NOT_FOUND\",\"requestId\":\"r1\"}");
  grpc::Status status(grpc::StatusCode::PERMISSION_DENIED, "denied");
  CHECK(ErrorJsonFromStatus(status, "r2") ==
        "{\"code\":\"PERMISSION_DENIED\",\"message\":\"denied\",\"reason\":\"\","
        "\"requestId\":\"r2\"}");
}

TEST_CASE("ErrorJsonFromStatus: database and internal errors hidden") {
  // A service's status while PostgreSQL is down names the database's host.
  grpc::Status database = ailab::rpc::ToGrpcStatus(ailab::Unavailable(
      "DATABASE_CONNECT_FAILED",
      "could not connect to PostgreSQL at postgresql://ailab@db.hospital.example:5432/ailab"));
  std::string body = ErrorJsonFromStatus(database, "r3");
  CHECK_FALSE(absl::StrContains(body, "db.hospital.example"));
  CHECK(absl::StrContains(body, "\"code\":\"UNAVAILABLE\""));
  CHECK(absl::StrContains(body, "\"reason\":\"DATABASE_CONNECT_FAILED\""));
  CHECK(absl::StrContains(body, "cannot reach its database"));
  CHECK(absl::StrContains(body, "\"requestId\":\"r3\""));

  grpc::Status internal = ailab::rpc::ToGrpcStatus(ailab::Internal(
      "DATABASE_ERROR", "database statement failed: relation \"jobs\" does not exist"));
  CHECK_FALSE(absl::StrContains(ErrorJsonFromStatus(internal, "r4"), "relation"));
  grpc::Status bug(grpc::StatusCode::INTERNAL, "std::bad_alloc in worker 3");
  CHECK_FALSE(absl::StrContains(ErrorJsonFromStatus(bug, "r5"), "bad_alloc"));
  CHECK(absl::StrContains(ErrorJsonFromStatus(bug, "r5"), "internal error"));

  // Other errors keep the service's message, which names the value and the fix.
  grpc::Status invalid = ailab::rpc::ToGrpcStatus(
      ailab::InvalidArgument("INVALID_NAME", "name", "name \"x\" is invalid; use useCases/ID"));
  CHECK(PublicErrorMessage(invalid) == "name \"x\" is invalid; use useCases/ID");
}

TEST_CASE("IsSaneRequestId: accepts ids, rejects junk") {
  CHECK(IsSaneRequestId("abc-123_x.y:z"));
  CHECK_FALSE(IsSaneRequestId(""));
  CHECK_FALSE(IsSaneRequestId("a b"));
  CHECK_FALSE(IsSaneRequestId("a\r\nX: y"));
  CHECK_FALSE(IsSaneRequestId(std::string(129, 'a')));
  CHECK(NewRequestId().size() == 32);
}

TEST_CASE("RateLimiter: burst, refill and Retry-After") {
  RateLimiter limiter(10);
  const absl::Time start = absl::FromUnixSeconds(1000);
  for (int i = 0; i < 20; ++i) {
    INFO("request " << i);
    CHECK(limiter.Admit("a", start).allowed);
  }
  RateLimiter::Decision denied = limiter.Admit("a", start);
  CHECK_FALSE(denied.allowed);
  CHECK(denied.retry_after_seconds == 1);
  // Another client has its own bucket.
  CHECK(limiter.Admit("b", start).allowed);
  // At 10 tokens per second, 100 ms adds one token.
  CHECK(limiter.Admit("a", start + absl::Milliseconds(100)).allowed);
  CHECK_FALSE(limiter.Admit("a", start + absl::Milliseconds(100)).allowed);
}

TEST_CASE("RateLimiter: zero turns the limit off") {
  RateLimiter limiter(0);
  const absl::Time now = absl::FromUnixSeconds(1000);
  for (int i = 0; i < 1000; ++i) REQUIRE(limiter.Admit("a", now).allowed);
}

TEST_CASE("OpenApiJson: lists routes with schemas") {
  const std::string document = OpenApiJson();
  CHECK(absl::StartsWith(document, "{\"openapi\":\"3.0.3\""));
  CHECK(
      absl::StrContains(document, "\"/api/ailab.annotation.v1.AnnotationService/SaveAnnotation\""));
  CHECK(absl::StrContains(document, "\"ailab.annotation.v1.SaveAnnotationRequest\":{"));
  CHECK(absl::StrContains(document, "\"securitySchemes\":{\"bearer\""));
  CHECK_FALSE(absl::StrContains(document, "StartTrainingAttempt"));
  CHECK_FALSE(absl::StrContains(document, "ScoreAgainstReference"));
}

}  // namespace
}  // namespace ailab::gateway
