// `ailab ingest upload` with a zip archive and a DICOMDIR, against the real
// ailab-ingest binary on a scratch database. The archive and the medium are built from
// files of the shared test set with Python's zipfile and DCMTK's dcmmkdir.
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "fixtures.h"

namespace {

namespace fs = std::filesystem;
namespace v1 = ::ailab::ingest::v1;

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

CommandResult Run(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Uncompressed(const std::string& name) {
  return ailab::testing::SharedDataDir() + "/dicom/uncompressed/" + name;
}

class Ingest {
 public:
  Ingest() {
    auto started = ailab::testing::ServiceProcess::Start(
        "ailab-ingest", {"--database_url=" + database_.url(), "--blob_root=" + blobs_.path(),
                         "--deid_key=upload-cli-test-key-0123456789abcdef"});
    if (!started.ok()) FAIL("ailab-ingest did not start: " << started.status().message());
    process_ = std::move(started).value();
    stub_ = v1::IngestService::NewStub(ailab::rpc::Connect(process_->address()));
  }

  std::string CreateDataset(const std::string& id) {
    v1::CreateDatasetRequest request;
    request.set_dataset_id(id);
    request.mutable_dataset()->set_display_name(id);
    v1::Dataset dataset;
    grpc::ClientContext context;
    grpc::Status status = stub_->CreateDataset(&context, request, &dataset);
    REQUIRE(status.ok());
    return dataset.name();
  }

  int64_t InstanceCount(const std::string& dataset) {
    v1::ListInstancesRequest request;
    request.set_parent(dataset);
    request.set_page_size(100);
    v1::ListInstancesResponse response;
    grpc::ClientContext context;
    REQUIRE(stub_->ListInstances(&context, request, &response).ok());
    return response.instances_size();
  }

  // Stops the service, so that uploads fail.
  void Stop() { REQUIRE(process_->Stop().ok()); }

  CommandResult Upload(const std::string& dataset, const std::string& paths) {
    return Run(absl::StrCat(ailab::testing::BinaryPath("ailab"), " ingest upload --dataset=",
                            dataset, " --ingest_address=", process_->address(), " ", paths));
  }

 private:
  ailab::testing::ScratchDatabase database_;
  ailab::testing::TempDir blobs_;
  std::unique_ptr<ailab::testing::ServiceProcess> process_;
  std::unique_ptr<v1::IngestService::Stub> stub_;
};

// Writes `archive` with the Python zipfile `script`, which gets the archive's path and
// three uncompressed images of the shared set (CT, DX and MR) as its arguments.
void MakeZip(const std::string& dir, const std::string& archive, const std::string& script) {
  const std::string script_path = dir + "/make_zip.py";
  {
    FILE* out = std::fopen(script_path.c_str(), "w");
    REQUIRE(out != nullptr);
    std::fputs(script.c_str(), out);
    std::fclose(out);
  }
  CommandResult made = Run(absl::StrCat("/usr/bin/python3 ", script_path, " ", archive, " ",
                                        Uncompressed("CT_small.dcm"), " ",
                                        Uncompressed("DX_MONO1_highdicom.dcm"), " ",
                                        Uncompressed("MR_rorden_0051.dcm")));
  INFO(made.output);
  REQUIRE(made.exit_code == 0);
}

TEST_CASE("ailab ingest upload reads a zip archive entry by entry", "[service]") {
  Ingest ingest;
  std::string dataset = ingest.CreateDataset("zipped");
  ailab::testing::TempDir dir;
  const std::string archive = dir.path() + "/study.zip";
  // Three images in folders, a folder entry, a macOS resource fork, a hidden file and a
  // text file that is not DICOM.
  std::string script = absl::StrCat(
      "import sys, zipfile\n"
      "z = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)\n"
      "z.writestr('scans/', b'')\n"
      "z.write(sys.argv[2], 'scans/ct/IM1')\n"
      "z.write(sys.argv[3], 'scans/dx/IM2')\n"
      "z.write(sys.argv[4], 'IM3.dcm', zipfile.ZIP_STORED)\n"
      "z.writestr('__MACOSX/scans/._IM1', b'fork')\n"
      "z.writestr('scans/.DS_Store', b'finder')\n"
      "z.writestr('notes.txt', b'not an image')\n"
      "z.close()\n");
  MakeZip(dir.path(), archive, script);

  CommandResult upload = ingest.Upload(dataset, archive);
  INFO(upload.output);
  // The text file is rejected, so the command fails, but the three images are stored.
  CHECK(upload.exit_code == 1);
  CHECK(absl::StrContains(upload.output, "3 stored, 0 duplicate, 1 rejected"));
  CHECK(absl::StrContains(upload.output, "rejected   notes.txt"));
  CHECK(absl::StrContains(upload.output, "skipped    3 folder, index or hidden entries of study.zip"));
  CHECK_FALSE(absl::StrContains(upload.output, "DS_Store"));
  CHECK(ingest.InstanceCount(dataset) == 3);

  SECTION("sending the archive again stores nothing twice") {
    CommandResult again = ingest.Upload(dataset, archive);
    INFO(again.output);
    CHECK(absl::StrContains(again.output, "0 stored, 3 duplicate, 1 rejected"));
    CHECK(ingest.InstanceCount(dataset) == 3);
  }
}

TEST_CASE("ailab ingest upload sends many files over several streams", "[service]") {
  Ingest ingest;
  std::string dataset = ingest.CreateDataset("many");
  ailab::testing::TempDir dir;
  const std::string archive = dir.path() + "/many.zip";
  // 120 entries, each a copy of one of three images: more files than one stream takes.
  MakeZip(dir.path(), archive,
          "import sys, zipfile\n"
          "z = zipfile.ZipFile(sys.argv[1], 'w')\n"
          "for i in range(120):\n"
          "    z.write(sys.argv[2 + i % 3], 'IM%03d' % i)\n"
          "z.close()\n");

  CommandResult upload = ingest.Upload(dataset, archive);
  INFO(upload.output);
  CHECK(upload.exit_code == 0);
  // Totals add up over the streams, and a copy in a later stream is a duplicate.
  CHECK(absl::StrContains(upload.output, "3 stored, 117 duplicate, 0 rejected"));
  CHECK(ingest.InstanceCount(dataset) == 3);
}

TEST_CASE("ailab ingest upload says what to do when the service is gone", "[service]") {
  Ingest ingest;
  std::string dataset = ingest.CreateDataset("gone");
  ingest.Stop();
  CommandResult upload = ingest.Upload(dataset, Uncompressed("CT_small.dcm"));
  INFO(upload.output);
  CHECK(upload.exit_code != 0);
  CHECK(absl::StrContains(upload.output, "upload of files 1 to 1 of 1 failed"));
  CHECK(absl::StrContains(upload.output, "run the same command again"));
}

TEST_CASE("ailab ingest upload names a broken zip archive", "[service]") {
  Ingest ingest;
  std::string dataset = ingest.CreateDataset("broken-zip");
  ailab::testing::TempDir dir;
  const std::string archive = dir.path() + "/half.zip";
  REQUIRE(Run(absl::StrCat("head -c 300 ", Uncompressed("CT_small.dcm"), " >", archive))
              .exit_code == 0);
  CommandResult upload = ingest.Upload(dataset, archive);
  INFO(upload.output);
  CHECK(upload.exit_code != 0);
  CHECK(absl::StrContains(upload.output, "cannot read zip archive"));
  CHECK(absl::StrContains(upload.output, "half.zip"));
  CHECK(ingest.InstanceCount(dataset) == 0);
}

TEST_CASE("ailab ingest upload follows a DICOMDIR", "[service]") {
  Ingest ingest;
  ailab::testing::TempDir dir;
  const std::string medium = dir.path() + "/medium";
  fs::create_directories(medium + "/MEDIA/IMG");
  int i = 1;
  for (const char* name : {"CT_small.dcm", "DX_MONO1_highdicom.dcm", "MR_rorden_0051.dcm"}) {
    fs::copy_file(Uncompressed(name), absl::StrCat(medium, "/MEDIA/IMG/IM000", i++));
  }
  CommandResult made = Run(absl::StrCat("cd '", medium, "' && dcmmkdir --recurse --invent +id . MEDIA"));
  INFO(made.output);
  REQUIRE(made.exit_code == 0);

  SECTION("the DICOMDIR's files are uploaded") {
    std::string dataset = ingest.CreateDataset("medium");
    CommandResult upload = ingest.Upload(dataset, medium + "/DICOMDIR");
    INFO(upload.output);
    CHECK(upload.exit_code == 0);
    CHECK(absl::StrContains(upload.output, "3 stored, 0 duplicate, 0 rejected"));
    CHECK(ingest.InstanceCount(dataset) == 3);
  }

  SECTION("the folder of a medium is uploaded without its index") {
    std::string dataset = ingest.CreateDataset("medium-folder");
    CommandResult upload = ingest.Upload(dataset, medium);
    INFO(upload.output);
    CHECK(upload.exit_code == 0);
    CHECK(absl::StrContains(upload.output, "a DICOMDIR index; its images are in the folder"));
    CHECK(absl::StrContains(upload.output, "3 stored, 0 duplicate, 0 rejected"));
  }

  SECTION("a DICOMDIR that points outside its medium is refused") {
    std::string dataset = ingest.CreateDataset("escaping");
    const std::string bad = dir.path() + "/bad";
    fs::create_directories(bad);
    fs::copy_file(medium + "/DICOMDIR", bad + "/DICOMDIR");
    // Same length, so the element lengths stay right (dcmodify would rewrite the meta
    // header and make the file no DICOMDIR at all).
    REQUIRE(Run(absl::StrCat("/usr/bin/python3 -c \"import sys; p=sys.argv[1]; "
                             "d=open(p,'rb').read().replace(b'MEDIA\\\\IMG\\\\IM0001', "
                             "b'..\\\\AAAAAA\\\\IM0001'); open(p,'wb').write(d)\" '",
                             bad, "/DICOMDIR'"))
                .exit_code == 0);
    CommandResult upload = ingest.Upload(dataset, bad + "/DICOMDIR");
    INFO(upload.output);
    CHECK(upload.exit_code != 0);
    CHECK(absl::StrContains(upload.output, "which leaves the medium"));
    CHECK(ingest.InstanceCount(dataset) == 0);
  }

  SECTION("a file named DICOMDIR that is an image is not an index") {
    std::string dataset = ingest.CreateDataset("not-an-index");
    const std::string fake = dir.path() + "/fake";
    fs::create_directories(fake);
    fs::copy_file(Uncompressed("CT_small.dcm"), fake + "/DICOMDIR");
    CommandResult upload = ingest.Upload(dataset, fake + "/DICOMDIR");
    INFO(upload.output);
    CHECK(upload.exit_code != 0);
    CHECK(absl::StrContains(upload.output, "is not a readable DICOMDIR"));
  }
}

}  // namespace
