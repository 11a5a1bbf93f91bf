// Tests of the content-addressed blob store on a temporary folder.
#include "ailab/blob/blob_store.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "ailab/status/status.h"
#include "fixtures.h"

namespace {

ailab::blob::BlobStore OpenStore(const ailab::testing::TempDir& dir) {
  auto store = ailab::blob::BlobStore::Open(dir.path() + "/blobs");
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  return *store;
}

size_t CountFiles(const std::string& folder) {
  size_t count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) {
    if (entry.is_regular_file()) ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("BlobStore: put and get round-trip", "[blob]") {
  ailab::testing::TempDir dir;
  auto store = OpenStore(dir);
  std::string bytes("binary\0data\xff", 12);

  auto id = store.Put(bytes);
  REQUIRE(id.ok());
  // Well-known SHA-256 digests of "" and "abc".
  CHECK(ailab::blob::BlobStore::Sha256Hex("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(ailab::blob::BlobStore::Sha256Hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(*id == "sha256:" + ailab::blob::BlobStore::Sha256Hex(bytes));
  CHECK(store.Contains(*id));

  auto read = store.Get(*id);
  REQUIRE(read.ok());
  CHECK(*read == bytes);

  auto path = store.PathOf(*id);
  REQUIRE(path.ok());
  std::string hex = id->substr(7);
  CHECK(*path == store.root() + "/sha256/" + hex.substr(0, 2) + "/" + hex.substr(2, 2) + "/" + hex);
  CHECK(std::filesystem::file_size(*path) == bytes.size());
  // No temporary file is left behind.
  CHECK(CountFiles(store.root() + "/tmp") == 0);
}

TEST_CASE("BlobStore: empty blob is stored", "[blob]") {
  ailab::testing::TempDir dir;
  auto store = OpenStore(dir);
  auto id = store.Put("");
  REQUIRE(id.ok());
  auto read = store.Get(*id);
  REQUIRE(read.ok());
  CHECK(read->empty());
}

TEST_CASE("BlobStore: putting the same bytes again is a no-op", "[blob]") {
  ailab::testing::TempDir dir;
  auto store = OpenStore(dir);
  auto first = store.Put("same bytes");
  auto second = store.Put("same bytes");
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(*first == *second);
  CHECK(CountFiles(store.root() + "/sha256") == 1);
  CHECK(CountFiles(store.root() + "/tmp") == 0);
}

TEST_CASE("BlobStore: PutFile stores a copy", "[blob]") {
  ailab::testing::TempDir dir;
  auto store = OpenStore(dir);
  // Larger than one copy chunk, so the loop runs more than once.
  std::string bytes(3 * 1024 * 1024 + 17, 'x');
  for (size_t i = 0; i < bytes.size(); i += 4096) bytes[i] = static_cast<char>(i / 4096);
  std::string source = dir.path() + "/source.bin";
  std::ofstream(source, std::ios::binary) << bytes;

  auto id = store.PutFile(source);
  REQUIRE(id.ok());
  CHECK(*id == "sha256:" + ailab::blob::BlobStore::Sha256Hex(bytes));
  auto read = store.Get(*id);
  REQUIRE(read.ok());
  CHECK(*read == bytes);

  // Putting the same file again, or the same bytes, gives the same id.
  CHECK(*store.PutFile(source) == *id);
  CHECK(*store.Put(bytes) == *id);
  CHECK(CountFiles(store.root() + "/tmp") == 0);

  auto missing = store.PutFile(dir.path() + "/no-such-file");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("BlobStore: malformed ids are INVALID_ARGUMENT", "[blob]") {
  ailab::testing::TempDir dir;
  auto store = OpenStore(dir);
  std::string valid_hex(64, 'a');
  for (std::string id : {std::string("sha256:zz"), std::string("../etc"), std::string(""),
                         std::string("sha256:"), "sha256:" + valid_hex + "0",
                         "sha256:" + std::string(64, 'A'), "md5:" + valid_hex,
                         "sha256:../../" + valid_hex.substr(6)}) {
    INFO("id: " << id);
    CHECK(store.Get(id).status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(ailab::GetErrorReason(store.Get(id).status()) == "INVALID_BLOB_ID");
    CHECK(store.PathOf(id).status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_FALSE(store.Contains(id));
  }
}

TEST_CASE("BlobStore: missing blob is NOT_FOUND", "[blob]") {
  ailab::testing::TempDir dir;
  auto store = OpenStore(dir);
  std::string id = "sha256:" + ailab::blob::BlobStore::Sha256Hex("never stored");
  CHECK(store.Get(id).status().code() == absl::StatusCode::kNotFound);
  CHECK(ailab::GetErrorReason(store.Get(id).status()) == "BLOB_NOT_FOUND");
  CHECK(store.PathOf(id).status().code() == absl::StatusCode::kNotFound);
  CHECK_FALSE(store.Contains(id));
}

TEST_CASE("BlobStore: concurrent puts of the same bytes", "[blob]") {
  ailab::testing::TempDir dir;
  auto store = OpenStore(dir);
  std::string bytes(256 * 1024, 'q');
  constexpr int kThreads = 8;
  std::vector<absl::StatusOr<std::string>> ids(kThreads, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { ids[t] = store.Put(bytes); });
  }
  for (auto& thread : threads) thread.join();

  std::set<std::string> distinct;
  for (const auto& id : ids) {
    REQUIRE(id.ok());
    distinct.insert(*id);
  }
  CHECK(distinct.size() == 1);
  auto read = store.Get(*ids[0]);
  REQUIRE(read.ok());
  CHECK(*read == bytes);
  CHECK(CountFiles(store.root() + "/sha256") == 1);
  CHECK(CountFiles(store.root() + "/tmp") == 0);
}

TEST_CASE("BlobStore: Open rejects unusable roots", "[blob]") {
  CHECK(ailab::blob::BlobStore::Open("").status().code() == absl::StatusCode::kInvalidArgument);

  ailab::testing::TempDir dir;
  // A regular file where the root folder should be.
  std::string file = dir.path() + "/file";
  std::ofstream(file) << "x";
  CHECK_FALSE(ailab::blob::BlobStore::Open(file).ok());
}

TEST_CASE("BlobStore: relative roots become absolute", "[blob]") {
  ailab::testing::TempDir dir;
  std::filesystem::path previous = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  auto store = ailab::blob::BlobStore::Open("relative/blobs/");
  std::filesystem::current_path(previous);
  REQUIRE(store.ok());
  CHECK(store->root() == std::filesystem::canonical(dir.path()).string() + "/relative/blobs");
}
