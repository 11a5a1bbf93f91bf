// Storage SCP on DCMTK's association (ASC) and DIMSE layers (dcmnet).
//
// DCMTK's own acceptor binds its listening socket to every interface, so this SCP
// opens and binds the socket itself and hands it to a DCMTK network object. The
// listener thread accepts a connection and reads its A-ASSOCIATE request; negotiation
// and the DIMSE loop then run on a thread per association.
#include "ailab/dicom/storage_scp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "dcmtk/dcmdata/dcostrma.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dcmtrans.h"
#include "dcmtk/dcmnet/dimse.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/dul.h"
#include "dcmtk/dcmnet/dulstruc.h"
#include "internal.h"

namespace ailab::dicom {
namespace {

// Transfer syntaxes accepted for every SOP class, preferred first when a presentation
// context proposes several: the uncompressed default, then lossless compression, then
// the other uncompressed encodings, then lossy compression (taken only when proposed).
// The HTJ2K UIDs have no DCMTK 3.6.7 constant; the data set is stored as received, so
// the SCP does not need a codec for them.
constexpr const char* kTransferSyntaxes[] = {
    UID_LittleEndianExplicitTransferSyntax,
    UID_JPEGLSLosslessTransferSyntax,
    UID_JPEG2000LosslessOnlyTransferSyntax,
    UID_JPEGProcess14SV1TransferSyntax,
    UID_JPEGProcess14TransferSyntax,
    UID_RLELosslessTransferSyntax,
    UID_DeflatedExplicitVRLittleEndianTransferSyntax,
    "1.2.840.10008.1.2.4.201",  // HTJ2K lossless
    "1.2.840.10008.1.2.4.202",  // HTJ2K lossless RPCL
    UID_JPEG2000Part2MulticomponentImageCompressionLosslessOnlyTransferSyntax,
    UID_LittleEndianImplicitTransferSyntax,
    UID_BigEndianExplicitTransferSyntax,
    UID_JPEGProcess1TransferSyntax,
    UID_JPEGProcess2_4TransferSyntax,
    UID_JPEGLSLossyTransferSyntax,
    UID_JPEG2000TransferSyntax,
    "1.2.840.10008.1.2.4.203",  // HTJ2K
    UID_JPEG2000Part2MulticomponentImageCompressionTransferSyntax,
    UID_MPEG2MainProfileAtMainLevelTransferSyntax,
    UID_MPEG2MainProfileAtHighLevelTransferSyntax,
    UID_MPEG4HighProfileLevel4_1TransferSyntax,
    UID_MPEG4BDcompatibleHighProfileLevel4_1TransferSyntax,
    UID_MPEG4HighProfileLevel4_2_For2DVideoTransferSyntax,
    UID_MPEG4HighProfileLevel4_2_For3DVideoTransferSyntax,
    UID_MPEG4StereoHighProfileLevel4_2TransferSyntax,
    UID_HEVCMainProfileLevel5_1TransferSyntax,
    UID_HEVCMain10ProfileLevel5_1TransferSyntax,
};
constexpr int kTransferSyntaxCount = sizeof(kTransferSyntaxes) / sizeof(kTransferSyntaxes[0]);

// Seconds the listener and idle associations wait before checking for Stop().
constexpr int kPollSeconds = 1;

Uint16 StoreStatusFor(const absl::Status& status) {
  if (status.ok()) return STATUS_Success;
  if (status.code() == absl::StatusCode::kInvalidArgument ||
      status.code() == absl::StatusCode::kFailedPrecondition) {
    return STATUS_STORE_Error_CannotUnderstand;
  }
  return STATUS_STORE_Refused_OutOfResources;
}

// DCMTK consumer that appends a received data set to a string, up to a limit. Bytes
// past the limit are dropped and the consumer turns bad, so memory stays bounded
// whether DIMSE stops at the first rejected write (the SCP then aborts the association)
// or reads the data set to its end (the request then gets 0xA700).
class StringConsumer : public DcmConsumer {
 public:
  explicit StringConsumer(int64_t max_bytes) : max_bytes_(max_bytes) {}

  OFBool good() const override { return !exceeded_; }
  OFCondition status() const override { return exceeded_ ? EC_InvalidStream : EC_Normal; }
  OFBool isFlushed() const override { return OFTrue; }
  offile_off_t avail() const override { return 1 << 30; }
  offile_off_t write(const void* buf, offile_off_t buflen) override {
    if (exceeded_ || static_cast<int64_t>(bytes_.size()) + buflen > max_bytes_) {
      exceeded_ = true;
      return buflen;
    }
    bytes_.append(static_cast<const char*>(buf), static_cast<size_t>(buflen));
    return buflen;
  }
  void flush() override {}

  bool exceeded() const { return exceeded_; }
  std::string& bytes() { return bytes_; }

 private:
  const int64_t max_bytes_;
  bool exceeded_ = false;
  std::string bytes_;
};

// The consumer is a base, so it is constructed before DcmOutputStream stores its address.
struct ConsumerHolder {
  explicit ConsumerHolder(int64_t max_bytes) : consumer(max_bytes) {}
  StringConsumer consumer;
};

class StringOutputStream : private ConsumerHolder, public DcmOutputStream {
 public:
  explicit StringOutputStream(int64_t max_bytes)
      : ConsumerHolder(max_bytes), DcmOutputStream(&consumer) {}
  StringConsumer& sink() { return consumer; }
};

void AppendUint16(std::string& out, uint16_t value) {
  out.push_back(static_cast<char>(value & 0xFF));
  out.push_back(static_cast<char>(value >> 8));
}

void AppendUint32(std::string& out, uint32_t value) {
  AppendUint16(out, static_cast<uint16_t>(value & 0xFFFF));
  AppendUint16(out, static_cast<uint16_t>(value >> 16));
}

// Appends a group 0002 element with a short-form VR (UI, SH, AE, UL) in explicit VR
// little endian, padded to even length as the VR requires.
void AppendMetaElement(std::string& out, uint16_t element, const char* vr, std::string value) {
  if (value.size() % 2 != 0) value.push_back(vr[0] == 'U' ? '\0' : ' ');
  AppendUint16(out, 0x0002);
  AppendUint16(out, element);
  out.append(vr, 2);
  AppendUint16(out, static_cast<uint16_t>(value.size()));
  out.append(value);
}

// Builds a Part 10 file: preamble, "DICM", file meta information from the C-STORE
// request and the negotiated transfer syntax, then the data set bytes as received.
std::string BuildPart10(const std::string& sop_class_uid, const std::string& sop_instance_uid,
                        const std::string& transfer_syntax_uid, const std::string& source_ae,
                        const std::string& dataset) {
  std::string meta;
  // (0002,0001) File Meta Information Version: OB, long form, value 00 01.
  AppendUint16(meta, 0x0002);
  AppendUint16(meta, 0x0001);
  meta.append("OB");
  AppendUint16(meta, 0);
  AppendUint32(meta, 2);
  meta.push_back('\0');
  meta.push_back('\1');
  AppendMetaElement(meta, 0x0002, "UI", sop_class_uid);
  AppendMetaElement(meta, 0x0003, "UI", sop_instance_uid);
  AppendMetaElement(meta, 0x0010, "UI", transfer_syntax_uid);
  AppendMetaElement(meta, 0x0012, "UI", OFFIS_IMPLEMENTATION_CLASS_UID);
  AppendMetaElement(meta, 0x0013, "SH", OFFIS_DTK_IMPLEMENTATION_VERSION_NAME);
  if (!source_ae.empty()) AppendMetaElement(meta, 0x0016, "AE", source_ae);

  std::string file(128, '\0');
  file.reserve(128 + 4 + 12 + meta.size() + dataset.size());
  file.append("DICM");
  // (0002,0000) File Meta Information Group Length.
  AppendUint16(file, 0x0002);
  AppendUint16(file, 0x0000);
  file.append("UL");
  AppendUint16(file, 4);
  AppendUint32(file, static_cast<uint32_t>(meta.size()));
  file.append(meta);
  file.append(dataset);
  return file;
}

bool Contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// Closes the connection of `assoc` and frees it. After a release or a rejection DCMTK
// waits up to `wait_seconds` for the peer to close first, which keeps the TIME_WAIT
// state on the peer's side.
void DropAssociation(T_ASC_Association*& assoc, int wait_seconds = 1) {
  if (assoc == nullptr) return;
  if (wait_seconds > 0) {
    ASC_dropSCPAssociation(assoc, wait_seconds);
  } else {
    ASC_dropAssociation(assoc);
  }
  ASC_destroyAssociation(&assoc);
  assoc = nullptr;
}

void RejectAssociation(T_ASC_Association*& assoc, T_ASC_RejectParametersResult result,
                       T_ASC_RejectParametersSource source, T_ASC_RejectParametersReason reason) {
  T_ASC_RejectParameters rejection = {result, source, reason};
  ASC_rejectAssociation(assoc, &rejection);
  DropAssociation(assoc);
}

// DcmTransportConnection::getSocket() is protected; a member pointer taken through a
// derived class reaches it without instantiating anything.
struct SocketAccess : DcmTransportConnection {
  static DcmNativeSocketType Get(DcmTransportConnection& connection) {
    return (connection.*(&SocketAccess::getSocket))();
  }
};

// Returns the socket of an association, or -1.
int AssociationSocket(T_ASC_Association* assoc) {
  DcmTransportConnection* connection = DUL_getTransportConnection(assoc->DULassociation);
  return connection == nullptr ? -1 : SocketAccess::Get(*connection);
}

void SetNoDelay(int fd) {
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

// Asks Linux to acknowledge received segments at once. The kernel leaves this mode on
// its own, so it is set again before each message and after each received PDV.
void SetQuickAck(int fd) {
  if (fd < 0) return;
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof(on));
}

// Writes an A-ABORT PDU (source: service provider, reason: not specified) to `fd`.
// ASC_abortAssociation() would then wait up to the ACSE timeout for the peer to close
// the connection, which holds up Stop() when the peer is idle, so the SCP sends the PDU
// itself and closes the connection at once.
void SendAbort(int fd) {
  if (fd < 0) return;
  const unsigned char pdu[10] = {0x07, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x02, 0x00};
  ssize_t ignored = send(fd, pdu, sizeof(pdu), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)ignored;
}

// DIMSE progress callback; `context` points to the socket descriptor.
void QuickAckCallback(void* context, unsigned long /*byte_count*/) {
  SetQuickAck(*static_cast<int*>(context));
}

}  // namespace

struct StorageScp::Impl {
  StorageScpOptions options;
  StoreHandler handler;
  int listen_fd = -1;
  uint16_t port = 0;
  T_ASC_Network* network = nullptr;
  std::thread listener;
  std::atomic<bool> stop{false};

  mutable std::mutex mutex;
  std::condition_variable finished_changed;
  std::map<int64_t, std::thread> workers;  // guarded by mutex
  std::vector<int64_t> finished;           // guarded by mutex
  int64_t next_worker_id = 0;              // guarded by mutex
  StorageScpStats stats;                   // guarded by mutex

  ~Impl() { CloseNetwork(); }

  // Closes the listening socket, so that new connections are refused at once.
  void CloseNetwork() {
    if (network != nullptr) {
      // The socket is ours: detach it so DCMTK does not close it a second time.
      auto* key = reinterpret_cast<PRIVATE_NETWORKKEY*>(network->network);
      key->networkSpecific.TCP.listenSocket = DCMNET_INVALID_SOCKET;
      key->applicationFunction &= ~DICOM_APPLICATION_ACCEPTOR;
      ASC_dropNetwork(&network);
      network = nullptr;
    }
    if (listen_fd >= 0) close(listen_fd);
    listen_fd = -1;
  }

  void Count(int64_t StorageScpStats::*field) {
    std::lock_guard<std::mutex> lock(mutex);
    ++(stats.*field);
  }

  // Joins the workers whose associations have ended.
  void ReapFinished() {
    std::vector<std::thread> done;
    {
      std::lock_guard<std::mutex> lock(mutex);
      for (int64_t id : finished) {
        auto it = workers.find(id);
        if (it == workers.end()) continue;
        done.push_back(std::move(it->second));
        workers.erase(it);
      }
      finished.clear();
    }
    for (std::thread& thread : done) thread.join();
  }

  void Listen() {
    while (!stop.load()) {
      ReapFinished();
      if (!ASC_associationWaiting(network, kPollSeconds)) continue;
      // A connection is waiting; its A-ASSOCIATE request gets the full ACSE timeout.
      T_ASC_Association* assoc = nullptr;
      OFCondition condition = ASC_receiveAssociation(
          network, &assoc, static_cast<long>(options.max_pdu_bytes), nullptr, nullptr, OFFalse,
          DUL_NOBLOCK, options.acse_timeout_seconds);
      if (condition.bad()) {
        // A connection that closed or timed out before its A-ASSOCIATE request was read.
        if (condition != DUL_NOASSOCIATIONREQUEST) Count(&StorageScpStats::associations_aborted);
        DropAssociation(assoc, 0);
        continue;
      }
      if (options.tcp_nodelay) SetNoDelay(AssociationSocket(assoc));

      std::lock_guard<std::mutex> lock(mutex);
      if (stats.associations_active >= options.max_associations || stop.load()) {
        ++stats.associations_rejected;
        RejectAssociation(assoc, ASC_RESULT_REJECTEDTRANSIENT,
                          ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
                          ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED);
        continue;
      }
      ++stats.associations_active;
      stats.associations_peak = std::max(stats.associations_peak, stats.associations_active);
      int64_t id = next_worker_id++;
      workers.emplace(id, std::thread([this, id, assoc] {
                        Serve(assoc);
                        std::lock_guard<std::mutex> lock(mutex);
                        finished.push_back(id);
                      }));
    }
  }

  // Counts an association as active until End() or destruction. It ends before the
  // connection is dropped, because dropping after a release waits for the peer to close
  // first, and a sender that opens its next association at once must not find the SCP
  // full.
  class ActiveAssociation {
   public:
    explicit ActiveAssociation(Impl& impl) : impl_(impl) {}
    ~ActiveAssociation() { End(); }
    void End() {
      if (ended_) return;
      ended_ = true;
      std::lock_guard<std::mutex> lock(impl_.mutex);
      --impl_.stats.associations_active;
      impl_.finished_changed.notify_all();
    }

   private:
    Impl& impl_;
    bool ended_ = false;
  };

  // Negotiates one association and runs its DIMSE loop until release, abort or Stop().
  void Serve(T_ASC_Association* assoc) {
    ActiveAssociation active(*this);
    char calling[DIC_AE_LEN + 1] = {};
    char called[DIC_AE_LEN + 1] = {};
    char peer[128] = {};
    ASC_getAPTitles(assoc->params, calling, sizeof(calling), called, sizeof(called), nullptr, 0);
    ASC_getPresentationAddresses(assoc->params, peer, sizeof(peer), nullptr, 0);
    std::string called_ae = TrimAe(called);
    std::string calling_ae = TrimAe(calling);

    if (!Contains(options.ae_titles, called_ae)) {
      Count(&StorageScpStats::associations_rejected);
      active.End();
      RejectAssociation(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
                        ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED);
      return;
    }
    if (!options.allowed_calling_ae_titles.empty() &&
        !Contains(options.allowed_calling_ae_titles, calling_ae)) {
      Count(&StorageScpStats::associations_rejected);
      active.End();
      RejectAssociation(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
                        ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED);
      return;
    }

    const char* verification[] = {UID_VerificationSOPClass};
    const char* verification_syntaxes[] = {UID_LittleEndianExplicitTransferSyntax,
                                           UID_LittleEndianImplicitTransferSyntax,
                                           UID_BigEndianExplicitTransferSyntax};
    OFCondition condition =
        ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, verification, 1,
                                                        verification_syntaxes, 3);
    if (condition.good()) {
      condition = ASC_acceptContextsWithPreferredTransferSyntaxes(
          assoc->params, dcmAllStorageSOPClassUIDs, numberOfDcmAllStorageSOPClassUIDs,
          const_cast<const char**>(kTransferSyntaxes), kTransferSyntaxCount);
    }
    if (condition.good()) condition = ASC_acknowledgeAssociation(assoc);
    if (condition.bad()) {
      Count(&StorageScpStats::associations_aborted);
      active.End();
      DropAssociation(assoc, 0);
      return;
    }
    Count(&StorageScpStats::associations_accepted);

    bool ended_cleanly = RunDimseLoop(assoc, called_ae, calling_ae, peer);
    if (!ended_cleanly) Count(&StorageScpStats::associations_aborted);
    active.End();
    if (!ended_cleanly) SendAbort(AssociationSocket(assoc));
    DropAssociation(assoc, ended_cleanly ? 1 : 0);
  }

  static std::string TrimAe(const char* ae) {
    std::string value(ae);
    while (!value.empty() && value.back() == ' ') value.pop_back();
    size_t first = value.find_first_not_of(' ');
    return first == std::string::npos ? "" : value.substr(first);
  }

  // Returns true when the peer released the association, false when it has to be
  // aborted (idle timeout, Stop() or a network or protocol error).
  bool RunDimseLoop(T_ASC_Association* assoc, const std::string& called_ae,
                    const std::string& calling_ae, const std::string& peer) {
    int socket = AssociationSocket(assoc);
    for (;;) {
      // Armed before the next command arrives, so that its segments are acknowledged
      // at once, and again once it is there.
      if (options.tcp_quickack) SetQuickAck(socket);
      int idle_seconds = 0;
      while (!ASC_dataWaiting(assoc, kPollSeconds)) {
        idle_seconds += kPollSeconds;
        if (stop.load() || idle_seconds >= options.dimse_timeout_seconds) return false;
      }
      if (options.tcp_quickack) SetQuickAck(socket);
      T_ASC_PresentationContextID pres_id = 0;
      T_DIMSE_Message message;
      DcmDataset* status_detail = nullptr;
      OFCondition condition = DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING,
                                                   options.dimse_timeout_seconds, &pres_id,
                                                   &message, &status_detail);
      delete status_detail;
      if (condition == DUL_PEERREQUESTEDRELEASE) {
        ASC_acknowledgeRelease(assoc);
        return true;
      }
      if (condition.bad()) return false;

      if (message.CommandField == DIMSE_C_ECHO_RQ) {
        condition = DIMSE_sendEchoResponse(assoc, pres_id, &message.msg.CEchoRQ, STATUS_Success,
                                           nullptr);
      } else if (message.CommandField == DIMSE_C_STORE_RQ) {
        condition = HandleStore(assoc, pres_id, message.msg.CStoreRQ, called_ae, calling_ae, peer,
                                socket);
      } else {
        // Only storage and verification contexts are accepted, so nothing else is valid.
        return false;
      }
      if (condition.bad()) return false;
    }
  }

  OFCondition HandleStore(T_ASC_Association* assoc, T_ASC_PresentationContextID pres_id,
                          T_DIMSE_C_StoreRQ& request, const std::string& called_ae,
                          const std::string& calling_ae, const std::string& peer, int socket) {
    T_ASC_PresentationContext context;
    OFCondition condition = ASC_findAcceptedPresentationContext(assoc->params, pres_id, &context);
    if (condition.bad()) return condition;
    if (request.DataSetType == DIMSE_DATASET_NULL) return DIMSE_BADMESSAGE;

    StringOutputStream stream(options.max_dataset_bytes);
    T_ASC_PresentationContextID data_pres_id = pres_id;
    condition = DIMSE_receiveDataSetInFile(assoc, DIMSE_NONBLOCKING, options.dimse_timeout_seconds,
                                           &data_pres_id, &stream,
                                           options.tcp_quickack ? QuickAckCallback : nullptr,
                                           &socket);
    if (condition.bad()) return condition;
    if (data_pres_id != pres_id) return DIMSE_BADDATA;

    absl::Status status;
    if (stream.sink().exceeded()) {
      status = absl::ResourceExhaustedError(
          absl::StrCat("data set above the limit of ", options.max_dataset_bytes, " bytes"));
    } else {
      std::string file = BuildPart10(request.AffectedSOPClassUID, request.AffectedSOPInstanceUID,
                                     context.acceptedTransferSyntax, calling_ae,
                                     stream.sink().bytes());
      std::string().swap(stream.sink().bytes());
      Count(&StorageScpStats::instances_received);
      status = handler(ReceivedInstance{called_ae, calling_ae, peer, std::move(file)});
    }

    T_DIMSE_C_StoreRSP response;
    memset(&response, 0, sizeof(response));
    response.MessageIDBeingRespondedTo = request.MessageID;
    response.DataSetType = DIMSE_DATASET_NULL;
    response.DimseStatus = StoreStatusFor(status);
    OFStandard::strlcpy(response.AffectedSOPClassUID, request.AffectedSOPClassUID,
                        sizeof(response.AffectedSOPClassUID));
    OFStandard::strlcpy(response.AffectedSOPInstanceUID, request.AffectedSOPInstanceUID,
                        sizeof(response.AffectedSOPInstanceUID));
    response.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID;
    if (request.opts & O_STORE_RQ_BLANK_PADDING) response.opts |= O_STORE_RSP_BLANK_PADDING;
    return DIMSE_sendStoreResponse(assoc, pres_id, &request, &response, nullptr);
  }
};

StorageScp::StorageScp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

StorageScp::~StorageScp() { Stop(); }

uint16_t StorageScp::port() const { return impl_->port; }

StorageScpStats StorageScp::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->stats;
}

void StorageScp::Stop() {
  impl_->stop.store(true);
  if (impl_->listener.joinable()) impl_->listener.join();
  impl_->CloseNetwork();
  // Workers see the stop flag within a poll interval once their peer is idle.
  std::unique_lock<std::mutex> lock(impl_->mutex);
  impl_->finished_changed.wait(lock, [this] { return impl_->stats.associations_active == 0; });
  // The workers are only dropping their connections now.
  std::map<int64_t, std::thread> workers = std::move(impl_->workers);
  impl_->workers.clear();
  impl_->finished.clear();
  lock.unlock();
  for (auto& [id, thread] : workers) thread.join();
}

namespace {

absl::Status CheckOptions(const StorageScpOptions& options) {
  if (options.ae_titles.empty()) {
    return InvalidArgument("INVALID_AE_TITLE", "ae_titles",
                           "no AE title is set for the storage SCP; give at least one");
  }
  for (const std::string& title : options.ae_titles) {
    if (title.empty() || title.size() > 16) {
      return InvalidArgument("INVALID_AE_TITLE", "ae_titles",
                             absl::StrCat("AE title \"", title,
                                          "\" is invalid; use 1 to 16 characters"));
    }
  }
  if (options.max_associations < 1) {
    return InvalidArgument("INVALID_MAX_ASSOCIATIONS", "max_associations",
                           absl::StrCat("max_associations ", options.max_associations,
                                        " is invalid; use 1 or more"));
  }
  if (options.max_dataset_bytes < 1) {
    return InvalidArgument("INVALID_MAX_DATASET_BYTES", "max_dataset_bytes",
                           absl::StrCat("max_dataset_bytes ", options.max_dataset_bytes,
                                        " is invalid; use 1 or more"));
  }
  if (options.max_pdu_bytes < ASC_MINIMUMPDUSIZE || options.max_pdu_bytes > ASC_MAXIMUMPDUSIZE) {
    return InvalidArgument("INVALID_MAX_PDU", "max_pdu_bytes",
                           absl::StrCat("max_pdu_bytes ", options.max_pdu_bytes,
                                        " is invalid; use ", ASC_MINIMUMPDUSIZE, " to ",
                                        ASC_MAXIMUMPDUSIZE));
  }
  if (options.acse_timeout_seconds < 1 || options.dimse_timeout_seconds < 1) {
    return InvalidArgument("INVALID_TIMEOUT", "dimse_timeout_seconds",
                           "the ACSE and DIMSE timeouts must be at least 1 second");
  }
  return absl::OkStatus();
}

// Opens a listening TCP socket on `address`:`port` and returns its descriptor.
absl::StatusOr<int> OpenListenSocket(const std::string& address, uint16_t port, bool no_delay) {
  sockaddr_in bind_address{};
  bind_address.sin_family = AF_INET;
  bind_address.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &bind_address.sin_addr) != 1) {
    return InvalidArgument("INVALID_BIND_ADDRESS", "bind_address",
                           absl::StrCat("bind address \"", address,
                                        "\" is not an IPv4 address; use for example 127.0.0.1"));
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return FailedPrecondition("SCP_START_FAILED",
                              absl::StrCat("could not create a socket: ", strerror(errno)));
  }
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  // Linux copies TCP_NODELAY from the listening socket to the accepted ones.
  if (no_delay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  if (bind(fd, reinterpret_cast<sockaddr*>(&bind_address), sizeof(bind_address)) != 0 ||
      listen(fd, 64) != 0) {
    std::string error = strerror(errno);
    close(fd);
    return FailedPrecondition("SCP_START_FAILED",
                              absl::StrCat("the DICOM storage SCP could not listen on ", address,
                                           ":", port, ": ", error, "; choose a free port"),
                              {{"port", absl::StrCat(port)}, {"bind_address", address}});
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<StorageScp>> StorageScp::Start(const StorageScpOptions& options,
                                                              StoreHandler handler) {
  AILAB_RETURN_IF_ERROR(internal::InitializeDcmtk());
  AILAB_RETURN_IF_ERROR(CheckOptions(options));
  // Reverse DNS lookups of callers can stall the listener for seconds.
  dcmDisableGethostbyaddr.set(OFTrue);

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  AILAB_ASSIGN_OR_RETURN(impl->listen_fd,
                         OpenListenSocket(options.bind_address, options.port, options.tcp_nodelay));
  sockaddr_in bound{};
  socklen_t length = sizeof(bound);
  getsockname(impl->listen_fd, reinterpret_cast<sockaddr*>(&bound), &length);
  impl->port = ntohs(bound.sin_port);

  // A requestor network has no listening socket of its own; ours becomes its acceptor
  // socket. PRIVATE_NETWORKKEY is DCMTK's network structure (dcmnet/dulstruc.h).
  OFCondition condition =
      ASC_initializeNetwork(NET_REQUESTOR, 0, options.acse_timeout_seconds, &impl->network);
  if (condition.bad()) {
    return FailedPrecondition("SCP_START_FAILED",
                              absl::StrCat("DCMTK network initialization failed: ",
                                           condition.text()));
  }
  auto* key = reinterpret_cast<PRIVATE_NETWORKKEY*>(impl->network->network);
  key->applicationFunction |= DICOM_APPLICATION_ACCEPTOR;
  key->networkSpecific.TCP.listenSocket = impl->listen_fd;
  key->networkSpecific.TCP.port = impl->port;
  impl->network->role = NET_ACCEPTORREQUESTOR;
  impl->network->acceptorPort = impl->port;

  Impl* raw = impl.get();
  impl->listener = std::thread([raw] { raw->Listen(); });
  return std::unique_ptr<StorageScp>(new StorageScp(std::move(impl)));
}

}  // namespace ailab::dicom
