// Named spdlog loggers, one per service or component.
//
// Every logger writes to standard error through one shared sink, in the format
// `2026-12-04T14:36:40.123Z info [catalog] message key=value ...`. The level comes
// from SetLevel() or, if that was never called, from the AILAB_LOG_LEVEL environment
// variable (trace, debug, info, warn, error; default info).
//
// Log ids (resource names, job ids, request ids), never patient data: messages must
// not contain patient names, patient ids, birth dates or original DICOM UIDs.
//
// Logger() is thread-safe; spdlog loggers are thread-safe.
#pragma once

#include <memory>
#include "absl/strings/string_view.h"

#include "spdlog/spdlog.h"

namespace ailab::log {

// Returns the logger named `component`, creating it on first use.
std::shared_ptr<spdlog::logger> Logger(absl::string_view component);

// Sets the level of every existing and future logger ("info", "debug", ...).
void SetLevel(absl::string_view level);

}  // namespace ailab::log
