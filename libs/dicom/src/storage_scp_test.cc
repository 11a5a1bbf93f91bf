#include "ailab/dicom/storage_scp.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ailab/dicom/dicom.h"
#include "ailab/dicom/storage_scu.h"
#include "ailab/status/status.h"
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/scu.h"
#include "test_files.h"

namespace {

using ailab::dicom::ReceivedInstance;
using ailab::dicom::StorageScp;
using ailab::dicom::StorageScpOptions;
using ailab::dicom::testing::DicomDataDir;
using ailab::dicom::testing::ReadTestFile;

// Status returned by SendFile when the association is not accepted.
constexpr Uint16 kNotAssociated = 0xFFFF;
// Status returned by SendFile when the association broke during the C-STORE.
constexpr Uint16 kStoreFailed = 0xFFFE;

// Sends `path` (relative to the test data) by C-STORE after a C-ECHO; returns the
// C-STORE response status, or one of the two codes above.
Uint16 SendFile(uint16_t port, const std::string& path, const std::string& called_ae,
                const std::string& calling_ae = "TESTSCU") {
  DcmFileFormat file;
  if (file.loadFile((DicomDataDir() + "/" + path).c_str()).bad()) return kStoreFailed;
  OFString sop_class;
  file.getDataset()->findAndGetOFString(DCM_SOPClassUID, sop_class);
  DcmXfer xfer(file.getDataset()->getOriginalXfer());

  DcmSCU scu;
  scu.setAETitle(calling_ae.c_str());
  scu.setPeerAETitle(called_ae.c_str());
  scu.setPeerHostName("127.0.0.1");
  scu.setPeerPort(port);
  scu.setACSETimeout(10);
  scu.setDIMSETimeout(10);
  scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
  OFList<OFString> syntaxes;
  syntaxes.push_back(xfer.getXferID());
  scu.addPresentationContext(sop_class, syntaxes);
  OFList<OFString> verification;
  verification.push_back(UID_LittleEndianImplicitTransferSyntax);
  scu.addPresentationContext(UID_VerificationSOPClass, verification);
  if (scu.initNetwork().bad()) return kNotAssociated;
  if (scu.negotiateAssociation().bad()) return kNotAssociated;
  if (scu.sendECHORequest(0).bad()) return kStoreFailed;
  Uint16 status = kStoreFailed;
  OFCondition sent = scu.sendSTORERequest(0, "", file.getDataset(), status);
  if (sent.bad()) return kStoreFailed;
  scu.releaseAssociation();
  return status;
}

// An SCP on a free loopback port that keeps every instance it receives.
struct Recorder {
  std::mutex mutex;
  std::vector<ReceivedInstance> received;

  absl::StatusOr<std::unique_ptr<StorageScp>> Start(StorageScpOptions options) {
    options.port = 0;
    return StorageScp::Start(options, [this](ReceivedInstance instance) {
      std::lock_guard<std::mutex> lock(mutex);
      received.push_back(std::move(instance));
      return absl::OkStatus();
    });
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mutex);
    return received.size();
  }
};

TEST_CASE("StorageScp: C-STORE hands each instance to the handler", "[dicom]") {
  Recorder recorder;
  StorageScpOptions options;
  options.ae_titles = {"AILABTEST", "SECOND"};
  auto scp = recorder.Start(options);
  INFO(scp.status().ToString());
  REQUIRE(scp.ok());
  uint16_t port = (*scp)->port();
  CHECK(port != 0);

  CHECK(SendFile(port, "uncompressed/CT_small.dcm", "AILABTEST") == 0);
  CHECK(SendFile(port, "compressed/MR_small_RLE.dcm", "SECOND") == 0);
  (*scp)->Stop();

  REQUIRE(recorder.received.size() == 2);
  CHECK(recorder.received[0].calling_ae_title == "TESTSCU");
  CHECK(recorder.received[0].called_ae_title == "AILABTEST");
  CHECK(recorder.received[0].peer_address == "127.0.0.1");
  CHECK(recorder.received[1].called_ae_title == "SECOND");
  auto ct = ailab::dicom::ParseDicom(recorder.received[0].bytes, "ct.dcm");
  INFO(ct.status().ToString());
  REQUIRE(ct.ok());
  auto original = ailab::dicom::ParseDicom(ReadTestFile("uncompressed/CT_small.dcm"), "o.dcm");
  REQUIRE(original.ok());
  CHECK(ct->header().sop_instance_uid == original->header().sop_instance_uid);
  CHECK(ct->header().rows == original->header().rows);
  auto rle = ailab::dicom::ParseDicom(recorder.received[1].bytes, "rle.dcm");
  REQUIRE(rle.ok());
  CHECK(rle->header().transfer_syntax_uid == "1.2.840.10008.1.2.5");
  CHECK((*scp)->stats().instances_received == 2);
}

TEST_CASE("StorageScp: every transfer syntax of the test files", "[dicom]") {
  Recorder recorder;
  auto scp = recorder.Start({});
  REQUIRE(scp.ok());
  const std::vector<std::string> files = {
      "uncompressed/MR_small_implicit.dcm",     "uncompressed/MR_small_bigendian.dcm",
      "uncompressed/image_dfl.dcm",             "compressed/CT1_J2KI.dcm",
      "compressed/CT2_JPLL.dcm",                "compressed/JPGExtended.dcm",
      "compressed/MR3_JLSN.dcm",                "compressed/MR_small_jp2klossless.dcm",
      "compressed/MR_small_jpeg_ls_lossless.dcm", "compressed/SC_rgb_jpeg_dcmtk.dcm",
      "other/test-SR.dcm",                      "other/waveform_ecg.dcm",
      "other/liver_1frame.dcm",                 "multiframe/rtdose.dcm"};
  // NOTE: compressed/HTJ2KLossless_08_RGB.dcm is missing because DCMTK 3.6.7's DcmSCU
  // cannot send a transfer syntax it does not know; the SCP accepts the HTJ2K UIDs.
  for (const std::string& file : files) {
    INFO(file);
    CHECK(SendFile((*scp)->port(), file, "AILAB") == 0);
  }
  (*scp)->Stop();
  REQUIRE(recorder.received.size() == files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    INFO(files[i]);
    auto received = ailab::dicom::ParseDicom(recorder.received[i].bytes, files[i]);
    auto original = ailab::dicom::ParseDicom(ReadTestFile(files[i]), files[i]);
    INFO(received.status().ToString());
    REQUIRE(received.ok());
    REQUIRE(original.ok());
    CHECK(received->header().transfer_syntax_uid == original->header().transfer_syntax_uid);
    CHECK(received->header().sop_instance_uid == original->header().sop_instance_uid);
  }
}

TEST_CASE("StorageScp: handler errors become failure statuses", "[dicom]") {
  StorageScpOptions options;
  options.port = 0;
  auto invalid = StorageScp::Start(options, [](ReceivedInstance) {
    return absl::InvalidArgumentError("rejected by the test");
  });
  REQUIRE(invalid.ok());
  CHECK(SendFile((*invalid)->port(), "uncompressed/CT_small.dcm", "AILAB") == 0xC000);

  auto unavailable = StorageScp::Start(options, [](ReceivedInstance) {
    return absl::UnavailableError("database down in the test");
  });
  REQUIRE(unavailable.ok());
  CHECK(SendFile((*unavailable)->port(), "uncompressed/CT_small.dcm", "AILAB") == 0xA700);
}

TEST_CASE("StorageScp: SendStore and SendEcho", "[dicom]") {
  Recorder recorder;
  auto scp = recorder.Start({});
  INFO(scp.status().ToString());
  REQUIRE(scp.ok());
  ailab::dicom::ScuOptions scu;
  scu.port = (*scp)->port();
  CHECK(ailab::dicom::SendEcho(scu).ok());
  auto status = ailab::dicom::SendStore(scu, ReadTestFile("compressed/CT2_JPLL.dcm"));
  INFO(status.status().ToString());
  REQUIRE(status.ok());
  CHECK(*status == 0);
  (*scp)->Stop();
  CHECK(recorder.count() == 1);

  // The SCP has stopped, so the port is closed.
  CHECK(ailab::dicom::SendEcho(scu).code() == absl::StatusCode::kUnavailable);
  CHECK(ailab::dicom::SendStore(scu, "not dicom").status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("StorageScp: called and calling AE titles", "[dicom]") {
  Recorder recorder;
  StorageScpOptions options;
  options.ae_titles = {"AILAB"};
  options.allowed_calling_ae_titles = {"MODALITY1"};
  auto scp = recorder.Start(options);
  REQUIRE(scp.ok());
  uint16_t port = (*scp)->port();
  CHECK(SendFile(port, "uncompressed/CT_small.dcm", "SOMEONE", "MODALITY1") == kNotAssociated);
  CHECK(SendFile(port, "uncompressed/CT_small.dcm", "AILAB", "INTRUDER") == kNotAssociated);
  CHECK(SendFile(port, "uncompressed/CT_small.dcm", "AILAB", "MODALITY1") == 0);
  CHECK(recorder.count() == 1);
  CHECK((*scp)->stats().associations_rejected == 2);
}

TEST_CASE("StorageScp: bad options and a busy port", "[dicom]") {
  auto ok = [](ReceivedInstance) { return absl::OkStatus(); };
  StorageScpOptions options;
  options.port = 0;
  auto first = StorageScp::Start(options, ok);
  REQUIRE(first.ok());

  options.port = (*first)->port();
  auto second = StorageScp::Start(options, ok);
  CHECK(second.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ailab::GetErrorReason(second.status()) == "SCP_START_FAILED");

  options.port = 0;
  StorageScpOptions bad = options;
  bad.ae_titles = {""};
  CHECK(StorageScp::Start(bad, ok).status().code() == absl::StatusCode::kInvalidArgument);
  bad = options;
  bad.ae_titles = {"THIS_TITLE_IS_TOO_LONG"};
  CHECK(StorageScp::Start(bad, ok).status().code() == absl::StatusCode::kInvalidArgument);
  bad = options;
  bad.bind_address = "localhost:1";
  CHECK(ailab::GetErrorReason(StorageScp::Start(bad, ok).status()) == "INVALID_BIND_ADDRESS");
  bad = options;
  bad.max_associations = 0;
  CHECK(StorageScp::Start(bad, ok).status().code() == absl::StatusCode::kInvalidArgument);
  bad = options;
  bad.max_dataset_bytes = 0;
  CHECK(StorageScp::Start(bad, ok).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("StorageScp: data set above the size limit", "[dicom]") {
  Recorder recorder;
  StorageScpOptions options;
  options.max_dataset_bytes = 20000;  // CT_small is 39 kB, MR_small_RLE 8 kB.
  auto scp = recorder.Start(options);
  REQUIRE(scp.ok());
  uint16_t port = (*scp)->port();
  Uint16 status = SendFile(port, "uncompressed/CT_small.dcm", "AILAB");
  // The request fails: by 0xA700 when DIMSE reads the data set to its end, or by an
  // aborted association when it stops at the first rejected write.
  CHECK((status == 0xA700 || status == kStoreFailed));
  CHECK(recorder.count() == 0);
  // The SCP keeps serving.
  CHECK(SendFile(port, "compressed/MR_small_RLE.dcm", "AILAB") == 0);
  CHECK(recorder.count() == 1);
}

TEST_CASE("StorageScp: concurrent associations", "[dicom]") {
  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};
  std::atomic<int> received{0};
  StorageScpOptions options;
  options.port = 0;
  options.max_associations = 8;
  auto scp = StorageScp::Start(options, [&](ReceivedInstance) {
    int now = ++inside;
    int seen = most_inside.load();
    while (now > seen && !most_inside.compare_exchange_weak(seen, now)) {
    }
    // Long enough for the other senders to arrive while this one is inside.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    --inside;
    ++received;
    return absl::OkStatus();
  });
  REQUIRE(scp.ok());
  uint16_t port = (*scp)->port();

  std::vector<std::thread> senders;
  std::vector<Uint16> statuses(6, kStoreFailed);
  for (size_t i = 0; i < statuses.size(); ++i) {
    senders.emplace_back([&, i] {
      for (int k = 0; k < 3; ++k) {
        Uint16 status = SendFile(port, "compressed/MR_small_RLE.dcm", "AILAB");
        if (k == 0 || status != 0) statuses[i] = status;
      }
    });
  }
  for (std::thread& sender : senders) sender.join();
  for (Uint16 status : statuses) CHECK(status == 0);
  CHECK(received.load() == 18);
  CHECK(most_inside.load() > 1);
  CHECK((*scp)->stats().associations_peak > 1);
}

TEST_CASE("StorageScp: associations above the limit are rejected", "[dicom]") {
  std::atomic<bool> release{false};
  StorageScpOptions options;
  options.port = 0;
  options.max_associations = 1;
  auto scp = StorageScp::Start(options, [&](ReceivedInstance) {
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return absl::OkStatus();
  });
  REQUIRE(scp.ok());
  uint16_t port = (*scp)->port();
  std::thread holder([&] { CHECK(SendFile(port, "compressed/MR_small_RLE.dcm", "AILAB") == 0); });
  while ((*scp)->stats().associations_active == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(SendFile(port, "compressed/MR_small_RLE.dcm", "AILAB") == kNotAssociated);
  release.store(true);
  holder.join();
  CHECK((*scp)->stats().associations_rejected == 1);
}

TEST_CASE("StorageScp: Stop ends idle associations", "[dicom]") {
  Recorder recorder;
  auto scp = recorder.Start({});
  REQUIRE(scp.ok());

  DcmSCU scu;
  scu.setAETitle("IDLE");
  scu.setPeerAETitle("AILAB");
  scu.setPeerHostName("127.0.0.1");
  scu.setPeerPort((*scp)->port());
  OFList<OFString> syntaxes;
  syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
  scu.addPresentationContext(UID_VerificationSOPClass, syntaxes);
  REQUIRE(scu.initNetwork().good());
  REQUIRE(scu.negotiateAssociation().good());
  CHECK(scu.sendECHORequest(0).good());
  // The association stays open and idle; Stop() must not wait for its DIMSE timeout.
  (*scp)->Stop();
  CHECK((*scp)->stats().associations_active == 0);
  CHECK((*scp)->stats().associations_aborted == 1);
  // The SCP aborted the association, so the next request fails.
  CHECK(scu.sendECHORequest(0).bad());
}

}  // namespace
