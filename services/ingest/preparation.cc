#include "preparation.h"

#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "ailab/dicom/pixels.h"
#include "ailab/imaging/npy.h"
#include "ailab/imaging/png.h"
#include "ailab/log/log.h"
#include "ailab/status/status.h"

namespace ailab::ingest {

absl::StatusOr<PreparedOutputs> PrepareInstance(const v1::Instance& instance,
                                                const v1::PreparationRun& run,
                                                const blob::BlobStore& blobs,
                                                const dicom::ParseLimits& limits) {
  bool png = false, array = false;
  for (int kind : run.kinds()) {
    png = png || kind == v1::PNG;
    array = array || kind == v1::ARRAY;
  }

  // Decode the first frame once for both outputs.
  AILAB_ASSIGN_OR_RETURN(std::string bytes, blobs.Get(instance.dicom_blob()));
  AILAB_ASSIGN_OR_RETURN(dicom::DicomObject object,
                         dicom::ParseDicom(bytes, instance.source_file(), limits));
  AILAB_ASSIGN_OR_RETURN(dicom::DisplayOptions display_options,
                         dicom::ParseWindowPreset(run.window_preset()));
  AILAB_ASSIGN_OR_RETURN(dicom::DecodedFrame frame, dicom::DecodeFrame(object, 0));
  AILAB_ASSIGN_OR_RETURN(std::vector<float> display,
                         dicom::ToDisplay(object, frame, display_options));

  PreparedOutputs outputs;
  if (png) {
    dicom::Display8 rendering = dicom::ToDisplay8(display, frame.rows, frame.columns);
    AILAB_ASSIGN_OR_RETURN(std::string encoded,
                           imaging::EncodePng8(rendering.pixels, rendering.columns,
                                               rendering.rows, 6));
    AILAB_ASSIGN_OR_RETURN(outputs.png_blob, blobs.Put(encoded));
  }
  if (array) {
    dicom::PrepareOptions options;
    options.size = run.array_size();
    AILAB_ASSIGN_OR_RETURN(dicom::PreparedArray prepared,
                           dicom::PrepareArrayFromDisplay(object, std::move(display), frame.rows,
                                                          frame.columns, options));
    imaging::Array out = std::move(prepared.array);
    if (run.array_dtype() == imaging::kUint16) {
      AILAB_ASSIGN_OR_RETURN(std::vector<float> values, out.AsFloat());
      std::vector<uint16_t> scaled(values.size());
      for (size_t i = 0; i < values.size(); ++i) {
        scaled[i] = static_cast<uint16_t>(std::lround(values[i] * 65535.0f));
      }
      AILAB_ASSIGN_OR_RETURN(out, imaging::Array::FromUint16(out.shape, scaled));
    }
    AILAB_ASSIGN_OR_RETURN(std::string encoded, imaging::EncodeNpy(out));
    AILAB_ASSIGN_OR_RETURN(outputs.array_blob, blobs.Put(encoded));
    outputs.array_shape = out.shape;
    outputs.array_dtype = out.dtype;
  }
  return outputs;
}

PreparationWorkers::PreparationWorkers(IngestStore& store, const blob::BlobStore& blobs,
                                       dicom::ParseLimits limits, int threads)
    : store_(store), blobs_(blobs), limits_(limits), thread_count_(std::max(1, threads)) {}

PreparationWorkers::~PreparationWorkers() { Stop(); }

void PreparationWorkers::Start() {
  for (int i = 0; i < thread_count_; ++i) threads_.emplace_back([this, i] { Loop(i); });
  ailab::log::Logger("ingest")->info("preparation workers started threads={}", thread_count_);
}

void PreparationWorkers::Notify() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++notifications_;
  wake_.notify_all();
}

void PreparationWorkers::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    wake_.notify_all();
  }
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  if (!threads_.empty()) ailab::log::Logger("ingest")->info("preparation workers stopped");
  threads_.clear();
}

void PreparationWorkers::Loop(int index) {
  auto logger = ailab::log::Logger("ingest");
  int consecutive_errors = 0;
  while (true) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      seen = notifications_;
    }

    absl::StatusOr<std::optional<ClaimedItem>> claimed = store_.ClaimNextItem();
    if (claimed.ok() && claimed->has_value()) {
      consecutive_errors = 0;
      const ClaimedItem& item = **claimed;
      absl::StatusOr<PreparedOutputs> outputs =
          PrepareInstance(item.instance, item.run, blobs_, limits_);
      absl::Status outcome = outputs.status();
      if (!outcome.ok()) {
        logger->warn("instance preparation failed run={} instance={} reason={}",
                     item.run.name(), item.instance.name(), GetErrorReason(outcome));
      }
      absl::StatusOr<v1::PreparationRun::State> state =
          store_.CompleteItem(item, outputs.ok() ? *outputs : PreparedOutputs{}, outcome);
      if (!state.ok()) {
        logger->error("recording a preparation result failed run={} instance={} error={}",
                      item.run.name(), item.instance.name(),
                      std::string(state.status().message()));
      } else if (*state == v1::PreparationRun::SUCCEEDED && item.run.state() != *state) {
        logger->info("preparation run finished name={}", item.run.name());
      }
      continue;
    }
    if (!claimed.ok()) {
      // Database down or similar: back off, and log the first error of a streak only.
      if (consecutive_errors++ == 0) {
        logger->error("claiming preparation work failed worker={} error={}", index,
                      std::string(claimed.status().message()));
      }
    }

    // Nothing to do: wait for a notification or the next poll.
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, std::chrono::seconds(1),
                   [&] { return stopping_ || notifications_ != seen; });
  }
}

}  // namespace ailab::ingest
