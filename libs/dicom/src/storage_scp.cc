// Storage SCP on DCMTK's DcmSCP (dcmnet).
#include "ailab/dicom/storage_scp.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/scp.h"
#include "internal.h"

namespace ailab::dicom {
namespace {

// Transfer syntaxes accepted for every offered SOP class, preferred first.
OFList<OFString> AcceptedTransferSyntaxes() {
  OFList<OFString> syntaxes;
  for (const char* uid :
       {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
        UID_BigEndianExplicitTransferSyntax, UID_DeflatedExplicitVRLittleEndianTransferSyntax,
        UID_RLELosslessTransferSyntax, UID_JPEGProcess1TransferSyntax,
        UID_JPEGProcess2_4TransferSyntax, UID_JPEGProcess14TransferSyntax,
        UID_JPEGProcess14SV1TransferSyntax, UID_JPEGLSLosslessTransferSyntax,
        UID_JPEGLSLossyTransferSyntax, UID_JPEG2000LosslessOnlyTransferSyntax,
        UID_JPEG2000TransferSyntax}) {
    syntaxes.push_back(uid);
  }
  return syntaxes;
}

Uint16 StoreStatusFor(const absl::Status& status) {
  if (status.ok()) return STATUS_Success;
  if (status.code() == absl::StatusCode::kInvalidArgument ||
      status.code() == absl::StatusCode::kFailedPrecondition) {
    return STATUS_STORE_Error_CannotUnderstand;
  }
  return STATUS_STORE_Refused_OutOfResources;
}

class Scp : public DcmSCP {
 public:
  Scp(StoreHandler handler, std::string ae_title)
      : handler_(std::move(handler)), ae_title_(std::move(ae_title)) {}

  void RequestStop() { stop_.store(true); }

 protected:
  OFBool stopAfterConnectionTimeout() override { return stop_.load(); }
  OFBool stopAfterCurrentAssociation() override { return stop_.load(); }

  // Associations addressed to another AE title are refused.
  OFBool checkCalledAETitleAccepted(const OFString& called) override {
    return std::string(called.c_str()) == ae_title_;
  }

  OFCondition handleIncomingCommand(T_DIMSE_Message* message,
                                    const DcmPresentationContextInfo& context) override {
    if (message->CommandField != DIMSE_C_STORE_RQ) {
      // C-ECHO, and the refusal of everything else.
      return DcmSCP::handleIncomingCommand(message, context);
    }
    T_DIMSE_C_StoreRQ& request = message->msg.CStoreRQ;
    DcmDataset* received = nullptr;
    OFCondition condition = receiveSTORERequest(request, context.presentationContextID, received);
    if (condition.bad()) {
      delete received;
      return condition;
    }

    // The received data set becomes a Part 10 file in its transfer syntax.
    DcmFileFormat file(received);
    delete received;
    E_TransferSyntax xfer = file.getDataset()->getOriginalXfer();
    if (xfer == EXS_Unknown) xfer = EXS_LittleEndianExplicit;
    absl::StatusOr<std::string> bytes =
        internal::WriteWithDcmtk(file, xfer, EWM_createNewMeta, "C-STORE");
    absl::Status status = bytes.status();
    if (bytes.ok()) {
      status = handler_(ReceivedInstance{getPeerAETitle().c_str(), getPeerIP().c_str(),
                                         std::move(*bytes)});
    }
    return sendSTOREResponse(context.presentationContextID, request, StoreStatusFor(status));
  }

 private:
  StoreHandler handler_;
  std::string ae_title_;
  std::atomic<bool> stop_{false};
};

}  // namespace

struct StorageScp::Impl {
  StorageScpOptions options;
  std::unique_ptr<Scp> scp;
  std::thread thread;
};

StorageScp::StorageScp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

StorageScp::~StorageScp() { Stop(); }

uint16_t StorageScp::port() const { return impl_->options.port; }

void StorageScp::Stop() {
  if (impl_->scp != nullptr) impl_->scp->RequestStop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

absl::StatusOr<std::unique_ptr<StorageScp>> StorageScp::Start(const StorageScpOptions& options,
                                                              StoreHandler handler) {
  AILAB_RETURN_IF_ERROR(internal::InitializeDcmtk());
  if (options.ae_title.empty() || options.ae_title.size() > 16) {
    return InvalidArgument("INVALID_AE_TITLE", "ae_title",
                           absl::StrCat("AE title \"", options.ae_title,
                                        "\" is invalid; use 1 to 16 characters"));
  }

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->scp = std::make_unique<Scp>(std::move(handler), options.ae_title);
  Scp& scp = *impl->scp;
  scp.setPort(options.port);
  scp.setAETitle(options.ae_title.c_str());
  scp.setMaxReceivePDULength(options.max_pdu_bytes);
  scp.setACSETimeout(static_cast<Uint32>(options.acse_timeout_seconds));
  scp.setDIMSETimeout(static_cast<Uint32>(options.dimse_timeout_seconds));
  scp.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
  // Without blocking, the accept loop wakes every second to check for Stop().
  scp.setConnectionBlockingMode(DUL_NOBLOCK);
  scp.setConnectionTimeout(1);
  scp.setHostLookupEnabled(OFFalse);

  // DCMTK 3.6.7 allows at most 128 presentation contexts per profile, fewer than its
  // 186 storage SOP classes, so the image classes and a few report classes are offered.
  OFCondition condition = scp.setEnableVerification();
  OFList<OFString> syntaxes = AcceptedTransferSyntaxes();
  for (int i = 0; condition.good() && i < numberOfDcmImageSOPClassUIDs; ++i) {
    condition = scp.addPresentationContext(dcmImageSOPClassUIDs[i], syntaxes);
  }
  for (const char* uid : {UID_BasicTextSRStorage, UID_EnhancedSRStorage, UID_ComprehensiveSRStorage,
                          UID_MammographyCADSRStorage, UID_KeyObjectSelectionDocumentStorage,
                          UID_GrayscaleSoftcopyPresentationStateStorage}) {
    if (condition.good()) condition = scp.addPresentationContext(uid, syntaxes);
  }
  if (condition.good()) condition = scp.openListenPort();
  if (condition.bad()) {
    return FailedPrecondition("SCP_START_FAILED",
                              absl::StrCat("the DICOM storage SCP could not listen on port ",
                                           options.port, ": ", condition.text(),
                                           "; choose a free port"),
                              {{"port", absl::StrCat(options.port)}});
  }
  impl->thread = std::thread([&scp] { scp.acceptAssociations(); });
  return std::unique_ptr<StorageScp>(new StorageScp(std::move(impl)));
}

}  // namespace ailab::dicom
