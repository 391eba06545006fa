#include "common/cli.h"

#include <fmt/format.h>
#include <gflags/gflags.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>

#include "common/log.h"
#include "common/result.h"
#include "common/service.h"

DEFINE_string(log_level, "info", "Log level: trace, debug, info, warn, error, off.");

namespace rm::common {
namespace {

const std::vector<std::string> kGlobalFlags = {"log_level"};

void PrintTopHelp(FILE* out, const std::vector<Subcommand>& subs) {
  fmt::print(out, "usage: regionmirror <subcommand> [flags] [args]\n\nsubcommands:\n");
  size_t width = 0;
  for (const auto& s : subs) width = std::max(width, s.name.size());
  for (const auto& s : subs) fmt::print(out, "  {:<{}}  {}\n", s.name, width, s.summary);
  fmt::print(
      out,
      "\nglobal flags:\n  --log_level  trace, debug, info, warn, error, off (default info)\n\n"
      "`regionmirror <subcommand> --help` lists a subcommand's flags.\n");
}

void PrintFlag(FILE* out, const std::string& name) {
  gflags::CommandLineFlagInfo info;
  if (!gflags::GetCommandLineFlagInfo(name.c_str(), &info)) return;
  fmt::print(out, "  --{} ({}, default: {})\n      {}\n", name, info.type,
             info.default_value.empty() ? "\"\"" : info.default_value, info.description);
}

void PrintSubHelp(FILE* out, const Subcommand& sub) {
  fmt::print(out, "usage: regionmirror {} [flags]{}{}\n\n{}\n", sub.name,
             sub.args_usage.empty() ? "" : " ", sub.args_usage, sub.summary);
  if (!sub.flags.empty()) {
    fmt::print(out, "\nflags:\n");
    for (const auto& f : sub.flags) PrintFlag(out, f);
  }
  fmt::print(out, "\nglobal flags:\n");
  for (const auto& f : kGlobalFlags) PrintFlag(out, f);
}

int UsageError(const std::string& message) {
  fmt::print(stderr, "regionmirror: {}\n", message);
  return kUsageExit;
}

// Finds the subcommand whose words are the longest prefix of the positional words.
const Subcommand* Match(const std::vector<Subcommand>& subs, const std::vector<std::string>& words,
                        size_t* consumed) {
  const Subcommand* best = nullptr;
  size_t best_n = 0;
  for (const auto& s : subs) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= s.name.size()) {
      size_t end = s.name.find(' ', start);
      if (end == std::string::npos) end = s.name.size();
      parts.push_back(s.name.substr(start, end - start));
      start = end + 1;
    }
    if (parts.size() > words.size() || parts.size() <= best_n) continue;
    if (std::equal(parts.begin(), parts.end(), words.begin())) {
      best = &s;
      best_n = parts.size();
    }
  }
  *consumed = best_n;
  return best;
}

}  // namespace

int RunCli(int argc, char** argv, const std::vector<Subcommand>& subcommands) {
  // Split argv into words (subcommand and positional args), flags, and "--" passthrough.
  std::vector<std::string> words;
  std::vector<std::pair<std::string, std::optional<std::string>>> flags;
  bool help = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) words.emplace_back(argv[i]);
      break;
    }
    if (a == "-h" || a == "--help" || a == "-help" || a == "--helpshort") {
      help = true;
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      std::string body = a.substr(a[1] == '-' ? 2 : 1);
      auto eq = body.find('=');
      if (eq == std::string::npos) {
        flags.emplace_back(body, std::nullopt);
      } else {
        flags.emplace_back(body.substr(0, eq), body.substr(eq + 1));
      }
      // gflags names use '_'; accept the '-' spelling too (--dry-run is --dry_run).
      std::replace(flags.back().first.begin(), flags.back().first.end(), '-', '_');
      // `--flag value` for non-bool flags: take the next argument as the value.
      gflags::CommandLineFlagInfo info;
      if (!flags.back().second &&
          gflags::GetCommandLineFlagInfo(flags.back().first.c_str(), &info) &&
          info.type != "bool") {
        if (i + 1 >= argc) return UsageError(fmt::format("flag --{} needs a value", body));
        flags.back().second = argv[++i];
      }
      continue;
    }
    words.push_back(a);
  }

  if (!words.empty() && words[0] == "help") {
    help = true;
    words.erase(words.begin());
  }
  size_t consumed = 0;
  const Subcommand* sub = Match(subcommands, words, &consumed);
  if (sub == nullptr) {
    if (help || words.empty()) {
      PrintTopHelp(help ? stdout : stderr, subcommands);
      return help ? 0 : kUsageExit;
    }
    return UsageError(fmt::format("unknown subcommand '{}' (see regionmirror --help)", words[0]));
  }
  if (help) {
    PrintSubHelp(stdout, *sub);
    return 0;
  }
  std::vector<std::string> args(words.begin() + static_cast<long>(consumed), words.end());
  if (sub->args_usage.empty() && !args.empty()) {
    return UsageError(fmt::format("{}: unexpected argument '{}'", sub->name, args[0]));
  }

  for (auto& [name, value] : flags) {
    std::string flag = name;
    std::string val;
    gflags::CommandLineFlagInfo info;
    bool known = gflags::GetCommandLineFlagInfo(flag.c_str(), &info);
    if (!known && !value && flag.rfind("no", 0) == 0) {
      // --noverbose form for booleans.
      if (gflags::GetCommandLineFlagInfo(flag.substr(2).c_str(), &info) && info.type == "bool") {
        flag = flag.substr(2);
        known = true;
        val = "false";
      }
    } else if (known) {
      val = value ? *value : "true";
    }
    bool allowed = std::find(sub->flags.begin(), sub->flags.end(), flag) != sub->flags.end() ||
                   std::find(kGlobalFlags.begin(), kGlobalFlags.end(), flag) != kGlobalFlags.end();
    if (!known || !allowed) {
      return UsageError(fmt::format("{}: unknown flag --{} (see regionmirror {} --help)", sub->name,
                                    flag, sub->name));
    }
    if (info.type == "bool" && !value && val.empty()) val = "true";
    if (gflags::SetCommandLineOption(flag.c_str(), val.c_str()).empty()) {
      return UsageError(fmt::format("{}: invalid value '{}' for flag --{} ({})", sub->name, val,
                                    flag, info.type));
    }
  }

  if (!sub->handles_signals) UnblockShutdownSignals();
  try {
    InitLogging(FLAGS_log_level);
    return sub->run(args);
  } catch (const ConfigError& e) {
    fmt::print(stderr, "regionmirror {}: {}\n", sub->name, e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "regionmirror {}: error: {}\n", sub->name, e.what());
    return 1;
  }
}

}  // namespace rm::common
