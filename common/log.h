// Logging: one process-wide spdlog logger. librdkafka's own log lines are routed here too
// (see kafka_config.cc), so a deployment reads one log.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace rm::common {

// Sets up the process logger writing to stderr. level: trace, debug, info, warn, error.
// Throws ConfigError naming the level if it is not one of those.
void InitLogging(std::string_view level = "info");

// The process logger (created on first use with level info if InitLogging was not called).
spdlog::logger& Log();

}  // namespace rm::common

#define RM_LOG_TRACE(...) ::rm::common::Log().trace(__VA_ARGS__)
#define RM_LOG_DEBUG(...) ::rm::common::Log().debug(__VA_ARGS__)
#define RM_LOG_INFO(...) ::rm::common::Log().info(__VA_ARGS__)
#define RM_LOG_WARN(...) ::rm::common::Log().warn(__VA_ARGS__)
#define RM_LOG_ERROR(...) ::rm::common::Log().error(__VA_ARGS__)
