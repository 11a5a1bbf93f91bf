// Storage SCU on DCMTK's DcmSCU (dcmnet).
#include "ailab/dicom/storage_scu.h"

#include "absl/strings/str_cat.h"
#include "ailab/dicom/dicom.h"
#include "ailab/status/status.h"
#include "dcmtk/dcmnet/scu.h"
#include "internal.h"

namespace ailab::dicom {
namespace {

absl::Status Failed(const ScuOptions& options, absl::string_view step, const OFCondition& c) {
  return Unavailable("DICOM_ASSOCIATION_FAILED",
                     absl::StrCat(step, " with ", options.called_ae_title, " at ", options.host,
                                  ":", options.port, " failed: ", c.text()),
                     {{"host", options.host}, {"port", absl::StrCat(options.port)}});
}

// Configures `scu` for `options` with one presentation context.
OFCondition Connect(DcmSCU& scu, const ScuOptions& options, const char* abstract_syntax,
                    const char* transfer_syntax) {
  scu.setAETitle(options.calling_ae_title.c_str());
  scu.setPeerAETitle(options.called_ae_title.c_str());
  scu.setPeerHostName(options.host.c_str());
  scu.setPeerPort(options.port);
  scu.setACSETimeout(static_cast<Uint32>(options.timeout_seconds));
  scu.setDIMSETimeout(static_cast<Uint32>(options.timeout_seconds));
  scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
  OFList<OFString> syntaxes;
  syntaxes.push_back(transfer_syntax);
  OFCondition condition = scu.addPresentationContext(abstract_syntax, syntaxes);
  if (condition.good()) condition = scu.initNetwork();
  if (condition.good()) condition = scu.negotiateAssociation();
  return condition;
}

}  // namespace

absl::Status SendEcho(const ScuOptions& options) {
  AILAB_RETURN_IF_ERROR(internal::InitializeDcmtk());
  DcmSCU scu;
  OFCondition condition =
      Connect(scu, options, UID_VerificationSOPClass, UID_LittleEndianImplicitTransferSyntax);
  if (condition.bad()) return Failed(options, "association", condition);
  condition = scu.sendECHORequest(0);
  scu.releaseAssociation();
  if (condition.bad()) return Failed(options, "C-ECHO", condition);
  return absl::OkStatus();
}

absl::StatusOr<uint16_t> SendStore(const ScuOptions& options, absl::string_view bytes) {
  AILAB_ASSIGN_OR_RETURN(DicomObject object, ParseDicom(bytes, "C-STORE input"));
  DcmDataset& dataset = object.impl().dataset();
  const DicomHeader& h = object.header();

  DcmSCU scu;
  OFCondition condition =
      Connect(scu, options, h.sop_class_uid.c_str(), h.transfer_syntax_uid.c_str());
  if (condition.bad()) return Failed(options, "association", condition);
  if (scu.findPresentationContextID(h.sop_class_uid.c_str(), h.transfer_syntax_uid.c_str()) == 0) {
    scu.releaseAssociation();
    return Unavailable("PRESENTATION_CONTEXT_REFUSED",
                       absl::StrCat(options.called_ae_title, " does not accept SOP class ",
                                    h.sop_class_uid, " in transfer syntax ",
                                    h.transfer_syntax_uid));
  }
  Uint16 status = 0;
  condition = scu.sendSTORERequest(0, "", &dataset, status);
  scu.releaseAssociation();
  if (condition.bad()) return Failed(options, "C-STORE", condition);
  return static_cast<uint16_t>(status);
}

}  // namespace ailab::dicom
