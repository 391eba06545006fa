#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>
#include <string>

#include "common/result.h"

namespace rm::common {
namespace {

std::shared_ptr<spdlog::logger>& LoggerSlot() {
  static std::shared_ptr<spdlog::logger> logger;
  return logger;
}

std::once_flag& InitFlag() {
  static std::once_flag flag;
  return flag;
}

void CreateLogger() {
  auto logger = spdlog::stderr_color_mt("regionmirror", spdlog::color_mode::automatic);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%L%$ [%t] %v");
  logger->set_level(spdlog::level::info);
  LoggerSlot() = std::move(logger);
}

}  // namespace

void InitLogging(std::string_view level) {
  std::call_once(InitFlag(), CreateLogger);
  auto parsed = spdlog::level::from_str(std::string(level));
  // from_str answers "off" for anything it does not know; only accept "off" when asked for.
  if (parsed == spdlog::level::off && level != "off") {
    throw ConfigError(fmt::format(
        "--log_level: unknown level '{}' (use trace, debug, info, warn, error, off)", level));
  }
  LoggerSlot()->set_level(parsed);
}

spdlog::logger& Log() {
  std::call_once(InitFlag(), CreateLogger);
  return *LoggerSlot();
}

}  // namespace rm::common
