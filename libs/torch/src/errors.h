// Turning LibTorch exceptions into text for absl::Status messages.
#pragma once

#include <c10/util/Exception.h>

#include <exception>
#include <string>

namespace ailab::torch::internal {

// The message of `e` without the C++ stack trace that c10::Error appends.
inline std::string ExceptionText(const std::exception& e) {
  if (const auto* error = dynamic_cast<const c10::Error*>(&e)) {
    return error->what_without_backtrace();
  }
  return e.what();
}

// Whether `e` reports an exhausted device or host allocator.
inline bool IsOutOfMemory(const std::exception& e) {
  return dynamic_cast<const c10::OutOfMemoryError*>(&e) != nullptr;
}

}  // namespace ailab::torch::internal
