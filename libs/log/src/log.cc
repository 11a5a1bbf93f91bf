#include "ailab/log/log.h"

#include <cstdlib>
#include <mutex>
#include <string>

#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace ailab::log {
namespace {

std::mutex mutex;

spdlog::sink_ptr SharedSink() {
  static spdlog::sink_ptr sink = [] {
    auto s = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    s->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %v", spdlog::pattern_time_type::utc));
    return s;
  }();
  return sink;
}

spdlog::level::level_enum& CurrentLevel() {
  static spdlog::level::level_enum level = [] {
    const char* env = std::getenv("AILAB_LOG_LEVEL");
    return env != nullptr ? spdlog::level::from_str(env) : spdlog::level::info;
  }();
  return level;
}

}  // namespace

std::shared_ptr<spdlog::logger> Logger(absl::string_view component) {
  std::lock_guard<std::mutex> lock(mutex);
  std::string name(component);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, SharedSink());
  logger->set_level(CurrentLevel());
  logger->flush_on(spdlog::level::warn);
  spdlog::register_logger(logger);
  return logger;
}

void SetLevel(absl::string_view level) {
  std::lock_guard<std::mutex> lock(mutex);
  CurrentLevel() = spdlog::level::from_str(std::string(level));
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->set_level(CurrentLevel()); });
}

}  // namespace ailab::log
