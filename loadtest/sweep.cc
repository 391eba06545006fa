#include "loadtest/sweep.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "common/config_reader.h"
#include "common/result.h"

namespace rm::loadtest {
namespace {

using common::ConfigError;

const std::set<std::string> kMirrorProducer = {"linger.ms", "batch.size", "compression.type"};
const std::set<std::string> kMirrorConsumer = {"fetch.wait.max.ms", "fetch.max.bytes"};
const std::set<std::string> kMirrorCaps = {"max_inflight_per_partition", "max_inflight_total",
                                           "max_inflight_bytes"};

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep)) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// The full key: "mirror.producer.linger.ms", "producer.linger.ms", "rate", ...
std::string Qualify(const std::string& key) {
  if (key == "rate") return key;
  if (kMirrorProducer.count(key)) return "mirror.producer." + key;
  if (kMirrorConsumer.count(key)) return "mirror.consumer." + key;
  if (kMirrorCaps.count(key)) return "mirror." + key;
  for (const char* prefix : {"mirror.producer.", "mirror.consumer.", "producer.", "consumer."}) {
    if (key.rfind(prefix, 0) == 0 && key.size() > std::string(prefix).size()) return key;
  }
  if (key.rfind("mirror.", 0) == 0 && key.size() > 7) return key;
  return "";
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

std::vector<SweepAxis> ParseSweepSpec(const std::string& spec) {
  std::vector<SweepAxis> axes;
  std::vector<std::string> problems;
  for (const auto& part : Split(spec, ';')) {
    auto eq = part.find('=');
    if (eq == std::string::npos) {
      problems.push_back(fmt::format("--sweep: '{}' is not key=value,value,...", part));
      continue;
    }
    std::string key = part.substr(0, eq);
    key.erase(key.find_last_not_of(" \t") + 1);
    std::string full = Qualify(key);
    if (full.empty()) {
      problems.push_back(fmt::format(
          "--sweep: unknown key '{}' (rate, linger.ms, batch.size, compression.type, "
          "fetch.wait.max.ms, fetch.max.bytes, max_inflight_per_partition, max_inflight_total, "
          "max_inflight_bytes, or mirror.producer.*, mirror.consumer.*, producer.*, consumer.*)",
          key));
      continue;
    }
    auto values = Split(part.substr(eq + 1), ',');
    if (values.empty()) {
      problems.push_back(fmt::format("--sweep: '{}' has no values", key));
      continue;
    }
    for (const auto& v : values) {
      const bool numeric =
          full == "rate" || (full.rfind("mirror.", 0) == 0 && kMirrorCaps.count(full.substr(7)));
      if (numeric) {
        char* end = nullptr;
        double d = std::strtod(v.c_str(), &end);
        if (*end != '\0' || !(d > 0)) {
          problems.push_back(fmt::format("--sweep: {}: '{}' is not a positive number", key, v));
        }
      }
    }
    if (std::any_of(axes.begin(), axes.end(), [&](const SweepAxis& a) { return a.key == full; })) {
      problems.push_back(fmt::format("--sweep: '{}' appears twice", key));
      continue;
    }
    axes.push_back({full, values});
  }
  if (axes.empty() && problems.empty()) problems.push_back("--sweep: no settings to sweep");
  common::ThrowIfProblems(problems);
  return axes;
}

std::vector<SweepSetting> ExpandGrid(const std::vector<SweepAxis>& axes) {
  std::vector<SweepSetting> points = {{}};
  for (const auto& axis : axes) {
    std::vector<SweepSetting> next;
    for (const auto& p : points) {
      for (const auto& v : axis.values) {
        SweepSetting s = p;
        s.push_back({axis.key, v});
        next.push_back(std::move(s));
      }
    }
    points = std::move(next);
  }
  return points;
}

LoadTestOptions ApplySetting(const LoadTestOptions& base, const SweepSetting& setting) {
  LoadTestOptions o = base;
  YAML::Node mirror = base.workload.replication.mirror
                          ? YAML::Clone(base.workload.replication.mirror)
                          : YAML::Node(YAML::NodeType::Map);
  for (const auto& [key, value] : setting) {
    if (key == "rate") {
      o.workload.producer_rate = std::stod(value);
    } else if (key.rfind("mirror.producer.", 0) == 0) {
      mirror["producer"][key.substr(16)] = value;
    } else if (key.rfind("mirror.consumer.", 0) == 0) {
      mirror["consumer"][key.substr(16)] = value;
    } else if (key.rfind("mirror.", 0) == 0) {
      mirror[key.substr(7)] = YAML::Load(value);  // numbers stay numbers
    } else if (key.rfind("producer.", 0) == 0) {
      o.workload.replication.producer[key.substr(9)] = value;
    } else if (key.rfind("consumer.", 0) == 0) {
      o.workload.replication.consumer[key.substr(9)] = value;
    }
  }
  // reset(), not operator=: assigning a yaml-cpp Node writes through to the node it refers to,
  // which `o` shares with `base`.
  o.workload.replication.mirror.reset(mirror);
  return o;
}

std::string SettingLabel(const SweepSetting& s) {
  std::string out;
  for (const auto& [k, v] : s) {
    std::string shown = k;
    for (const char* prefix : {"mirror.producer.", "mirror.consumer.", "mirror."}) {
      if (shown.rfind(prefix, 0) == 0) {
        shown = shown.substr(std::string(prefix).size());
        break;
      }
    }
    out += (out.empty() ? "" : " ") + shown + "=" + v;
  }
  return out;
}

std::string MirrorSnippet(const SweepSetting& s) {
  YAML::Node mirror(YAML::NodeType::Map);
  std::string rate;
  for (const auto& [key, value] : s) {
    if (key.rfind("mirror.producer.", 0) == 0) {
      mirror["producer"][key.substr(16)] = value;
    } else if (key.rfind("mirror.consumer.", 0) == 0) {
      mirror["consumer"][key.substr(16)] = value;
    } else if (key.rfind("mirror.", 0) == 0) {
      mirror[key.substr(7)] = YAML::Load(value);
    } else if (key == "rate") {
      rate = value;
    }
  }
  std::string out;
  if (mirror.size() > 0) {
    YAML::Node root;
    root["mirror"] = mirror;
    YAML::Emitter e;
    e << root;
    out = std::string(e.c_str()) + "\n";
  } else {
    out = "# (no mirror setting swept: the defaults)\n";
  }
  if (!rate.empty()) out += fmt::format("# measured at {} records/s offered\n", rate);
  return out;
}

void Summarize(SweepPointResult& p) {
  p.throughput = Median(p.throughputs);
  p.p99_ms = Median(p.p99s_ms);
}

int Recommend(const std::vector<SweepPointResult>& points, double p99_bound_ms) {
  int best = -1;
  for (size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (!p.sustainable || p.p99_ms > p99_bound_ms || p.throughputs.empty()) continue;
    if (best < 0 || p.throughput > points[best].throughput ||
        (p.throughput == points[best].throughput && p.p99_ms < points[best].p99_ms)) {
      best = static_cast<int>(i);
    }
  }
  return best;
}

SweepOutcome RunSweep(const LoadTestOptions& base, const std::vector<SweepAxis>& axes, int runs,
                      double p99_bound_ms, const RunFunction& run,
                      const std::function<bool()>& stopped, FILE* log) {
  SweepOutcome out;
  const auto grid = ExpandGrid(axes);
  std::vector<RunResult> last_of_point;
  for (size_t i = 0; i < grid.size() && !stopped(); ++i) {
    SweepPointResult point;
    point.setting = grid[i];
    LoadTestOptions o = ApplySetting(base, grid[i]);
    RunResult last;
    for (int k = 0; k < runs && !stopped(); ++k) {
      if (log) {
        fmt::print(log, "sweep: point {}/{} ({}), run {}/{}\n", i + 1, grid.size(),
                   SettingLabel(grid[i]), k + 1, runs);
        std::fflush(log);
      }
      last = run(o);
      if (last.interrupted) break;
      point.throughputs.push_back(last.consume_rate);
      point.p99s_ms.push_back(static_cast<double>(last.from_intended_us.Percentile(99)) / 1000.0);
      auto note = [&point](const std::string& why) {
        point.sustainable = false;
        if (std::find(point.why_not.begin(), point.why_not.end(), why) == point.why_not.end()) {
          point.why_not.push_back(why);
        }
      };
      if (last.fell_behind) note("sends fell behind schedule");
      if (last.backlog_grew) note("backlog grew");
      if (!last.ok()) note(fmt::format("{}", fmt::join(last.problems, "; ")));
    }
    if (point.throughputs.empty()) break;  // interrupted before a whole run
    Summarize(point);
    out.points.push_back(std::move(point));
    last_of_point.push_back(std::move(last));
  }
  out.recommended = Recommend(out.points, p99_bound_ms);
  if (!last_of_point.empty()) {
    out.last_run = out.recommended >= 0 ? last_of_point[out.recommended] : last_of_point.back();
  }
  return out;
}

std::vector<SweepPoint> ForReport(const SweepOutcome& outcome) {
  std::vector<SweepPoint> out;
  for (size_t i = 0; i < outcome.points.size(); ++i) {
    const auto& p = outcome.points[i];
    out.push_back({SettingLabel(p.setting), p.throughput, p.p99_ms, p.sustainable,
                   static_cast<int>(i) == outcome.recommended});
  }
  return out;
}

nlohmann::json SweepJson(const SweepOutcome& outcome, double p99_bound_ms) {
  nlohmann::json points = nlohmann::json::array();
  for (size_t i = 0; i < outcome.points.size(); ++i) {
    const auto& p = outcome.points[i];
    nlohmann::json setting = nlohmann::json::object();
    for (const auto& [k, v] : p.setting) setting[k] = v;
    points.push_back({{"setting", setting},
                      {"label", SettingLabel(p.setting)},
                      {"throughputs", p.throughputs},
                      {"p99sMs", p.p99s_ms},
                      {"throughput", p.throughput},
                      {"p99Ms", p.p99_ms},
                      {"sustainable", p.sustainable},
                      {"whyNot", p.why_not},
                      {"recommended", static_cast<int>(i) == outcome.recommended}});
  }
  nlohmann::json j = {{"p99BoundMs", p99_bound_ms}, {"points", points}};
  if (outcome.recommended >= 0) {
    j["recommendation"] = {
        {"label", SettingLabel(outcome.points[outcome.recommended].setting)},
        {"mirrorYaml", MirrorSnippet(outcome.points[outcome.recommended].setting)}};
  }
  return j;
}

std::string SweepSummaryText(const SweepOutcome& outcome, double p99_bound_ms) {
  std::string out =
      fmt::format("{:<60} {:>12} {:>10}  {}\n", "setting", "records/s", "p99 ms", "sustainable");
  for (size_t i = 0; i < outcome.points.size(); ++i) {
    const auto& p = outcome.points[i];
    out += fmt::format("{:<60} {:>12.0f} {:>10.1f}  {}{}\n", SettingLabel(p.setting), p.throughput,
                       p.p99_ms,
                       p.sustainable ? "yes" : fmt::format("no ({})", fmt::join(p.why_not, "; ")),
                       static_cast<int>(i) == outcome.recommended ? "  <- recommended" : "");
  }
  if (outcome.recommended < 0) {
    out += fmt::format("no sustainable setting met p99 <= {} ms\n", p99_bound_ms);
  } else {
    const auto& best = outcome.points[outcome.recommended];
    out += fmt::format("recommended (highest throughput with p99 <= {} ms): {}\nmirror YAML:\n{}",
                       p99_bound_ms, SettingLabel(best.setting), MirrorSnippet(best.setting));
  }
  return out;
}

}  // namespace rm::loadtest
