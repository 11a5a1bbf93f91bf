#include "ailab/dicom/storage_scp.h"

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <vector>

#include "ailab/dicom/dicom.h"
#include "ailab/dicom/storage_scu.h"
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/scu.h"
#include "test_files.h"

namespace {

using ailab::dicom::ReceivedInstance;
using ailab::dicom::StorageScp;
using ailab::dicom::testing::DicomDataDir;
using ailab::dicom::testing::ReadTestFile;

// A loopback port that was free a moment ago.
uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// Sends `path` (relative to the test data) by C-STORE; returns the response status.
Uint16 SendFile(uint16_t port, const std::string& path, const std::string& called_ae) {
  DcmFileFormat file;
  REQUIRE(file.loadFile((DicomDataDir() + "/" + path).c_str()).good());
  OFString sop_class;
  file.getDataset()->findAndGetOFString(DCM_SOPClassUID, sop_class);
  DcmXfer xfer(file.getDataset()->getOriginalXfer());

  DcmSCU scu;
  scu.setAETitle("TESTSCU");
  scu.setPeerAETitle(called_ae.c_str());
  scu.setPeerHostName("127.0.0.1");
  scu.setPeerPort(port);
  OFList<OFString> syntaxes;
  syntaxes.push_back(xfer.getXferID());
  scu.addPresentationContext(sop_class, syntaxes);
  OFList<OFString> verification;
  verification.push_back(UID_LittleEndianImplicitTransferSyntax);
  scu.addPresentationContext(UID_VerificationSOPClass, verification);
  REQUIRE(scu.initNetwork().good());
  if (scu.negotiateAssociation().bad()) return 0xFFFF;
  CHECK(scu.sendECHORequest(0).good());
  Uint16 status = 0xFFFF;
  OFCondition sent = scu.sendSTORERequest(0, "", file.getDataset(), status);
  CHECK(sent.good());
  scu.releaseAssociation();
  return status;
}

TEST_CASE("StorageScp: C-STORE hands each instance to the handler", "[dicom]") {
  std::mutex mutex;
  std::vector<ReceivedInstance> received;
  ailab::dicom::StorageScpOptions options;
  options.port = FreePort();
  options.ae_title = "AILABTEST";
  auto scp = StorageScp::Start(options, [&](ReceivedInstance instance) {
    std::lock_guard<std::mutex> lock(mutex);
    auto parsed = ailab::dicom::ParseDicom(instance.bytes, "received.dcm");
    received.push_back(std::move(instance));
    if (!parsed.ok()) return parsed.status();
    return absl::OkStatus();
  });
  INFO(scp.status().ToString());
  REQUIRE(scp.ok());

  CHECK(SendFile(options.port, "uncompressed/CT_small.dcm", "AILABTEST") == 0);
  CHECK(SendFile(options.port, "compressed/MR_small_RLE.dcm", "AILABTEST") == 0);
  (*scp)->Stop();

  std::lock_guard<std::mutex> lock(mutex);
  REQUIRE(received.size() == 2);
  CHECK(received[0].calling_ae_title == "TESTSCU");
  auto ct = ailab::dicom::ParseDicom(received[0].bytes, "ct.dcm");
  REQUIRE(ct.ok());
  auto original = ailab::dicom::ParseDicom(ReadTestFile("uncompressed/CT_small.dcm"), "o.dcm");
  REQUIRE(original.ok());
  CHECK(ct->header().sop_instance_uid == original->header().sop_instance_uid);
  auto rle = ailab::dicom::ParseDicom(received[1].bytes, "rle.dcm");
  REQUIRE(rle.ok());
  CHECK(rle->header().transfer_syntax_uid == "1.2.840.10008.1.2.5");
}

TEST_CASE("StorageScp: handler errors become failure statuses", "[dicom]") {
  ailab::dicom::StorageScpOptions options;
  options.port = FreePort();
  auto scp = StorageScp::Start(options, [](ReceivedInstance) {
    return absl::InvalidArgumentError("rejected by the test");
  });
  INFO(scp.status().ToString());
  REQUIRE(scp.ok());
  CHECK(SendFile(options.port, "uncompressed/CT_small.dcm", "AILAB") == 0xC000);
}

TEST_CASE("SendStore and SendEcho: the library's own SCU", "[dicom]") {
  std::vector<std::string> received;
  ailab::dicom::StorageScpOptions options;
  options.port = FreePort();
  auto scp = StorageScp::Start(options, [&](ReceivedInstance instance) {
    received.push_back(instance.bytes);
    return absl::OkStatus();
  });
  INFO(scp.status().ToString());
  REQUIRE(scp.ok());
  ailab::dicom::ScuOptions scu;
  scu.port = options.port;
  CHECK(ailab::dicom::SendEcho(scu).ok());
  auto status = ailab::dicom::SendStore(scu, ReadTestFile("compressed/CT2_JPLL.dcm"));
  INFO(status.status().ToString());
  REQUIRE(status.ok());
  CHECK(*status == 0);
  (*scp)->Stop();
  CHECK(received.size() == 1);

  // The SCP has stopped, so the port is closed.
  CHECK(ailab::dicom::SendEcho(scu).code() == absl::StatusCode::kUnavailable);
  CHECK(ailab::dicom::SendStore(scu, "not dicom").status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("StorageScp: wrong called AE title and busy port", "[dicom]") {
  ailab::dicom::StorageScpOptions options;
  options.port = FreePort();
  auto scp = StorageScp::Start(options, [](ReceivedInstance) { return absl::OkStatus(); });
  INFO(scp.status().ToString());
  REQUIRE(scp.ok());
  CHECK(SendFile(options.port, "uncompressed/CT_small.dcm", "SOMEONE") == 0xFFFF);

  auto second = StorageScp::Start(options, [](ReceivedInstance) { return absl::OkStatus(); });
  CHECK(second.status().code() == absl::StatusCode::kFailedPrecondition);

  options.ae_title = "";
  CHECK(StorageScp::Start(options, [](ReceivedInstance) { return absl::OkStatus(); })
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
