#include "loadtest/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "common/result.h"

namespace rm::loadtest {
namespace {

double Ms(int64_t us) { return static_cast<double>(us) / 1000.0; }

// The percentiles OMB reports, with its field suffixes.
const std::vector<std::pair<double, std::string>> kOmbPercentiles = {
    {50, "50pct"}, {75, "75pct"},    {95, "95pct"},
    {99, "99pct"}, {99.9, "999pct"}, {99.99, "9999pct"}};

nlohmann::json HistogramJson(const LatencyHistogram& h) {
  nlohmann::json j;
  j["count"] = h.count();
  j["avgMs"] = h.mean() / 1000.0;
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    j[fmt::format("p{}Ms", p == 99.9 ? "999" : fmt::format("{:.0f}", p))] = Ms(h.Percentile(p));
  }
  j["maxMs"] = Ms(h.max());
  return j;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

struct Series {
  std::string name;
  std::string color;
  std::vector<std::pair<double, double>> points;
  std::vector<std::string> labels;  // scatter: one per point (optional)
};

// Round tick steps (1, 2, 5 x 10^n) covering [lo, hi] with about `n` ticks.
std::vector<double> Ticks(double lo, double hi, int n) {
  if (hi <= lo) hi = lo + 1;
  const double raw = (hi - lo) / n;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  std::vector<double> out;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push_back(v);
  return out;
}

std::string Num(double v) {
  if (std::fabs(v) >= 1e6) return fmt::format("{:.1f}M", v / 1e6);
  if (std::fabs(v) >= 1e4) return fmt::format("{:.0f}k", v / 1e3);
  if (std::fabs(v) >= 100 || v == std::floor(v)) return fmt::format("{:.0f}", v);
  return fmt::format("{:.3g}", v);
}

struct ChartOptions {
  std::string id;
  std::string title;
  std::string x_label;
  std::string y_label;
  bool scatter = false;
  // Custom x tick labels (value, text); empty: numeric ticks.
  std::vector<std::pair<double, std::string>> x_ticks;
};

std::string Chart(const ChartOptions& o, const std::vector<Series>& series) {
  // The title on the first line, the legend on the second, the plot below.
  constexpr double W = 760, H = 320, L = 70, R = 20, T = 50, B = 46;
  double x0 = INFINITY, x1 = -INFINITY, y1 = 0;
  for (const auto& s : series) {
    for (const auto& [x, y] : s.points) {
      x0 = std::min(x0, x), x1 = std::max(x1, x), y1 = std::max(y1, y);
    }
  }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1;
  if (x1 <= x0) x1 = x0 + 1;
  if (o.scatter) {  // room around the points for their marks and labels
    const double pad = (x1 - x0) * 0.1;
    x0 = std::max(0.0, x0 - pad), x1 += pad;
  }
  if (y1 <= 0) y1 = 1;
  auto yt = Ticks(0, y1 * 1.05, 5);
  y1 = std::max(y1 * 1.05, yt.back());
  auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  auto py = [&](double y) { return H - B - y / y1 * (H - T - B); };
  std::string svg = fmt::format(
      "<svg class=\"chart\" id=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" "
      "height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">\n"
      "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n"
      "<text x=\"{}\" y=\"20\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
      o.id, W, H, W, H, Escape(o.title), W, H, L, Escape(o.title));
  for (double v : yt) {
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#dddddd\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"end\">{}</text>\n",
        L, py(v), W - R, py(v), L - 6, py(v) + 4, Num(v));
  }
  std::vector<std::pair<double, std::string>> xt = o.x_ticks;
  if (xt.empty()) {
    for (double v : Ticks(x0, x1, 8)) xt.push_back({v, Num(v)});
  }
  for (const auto& [v, text] : xt) {
    if (v < x0 - 1e-9 || v > x1 + 1e-9) continue;
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#eeeeee\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n",
        px(v), T, px(v), H - B, px(v), H - B + 16, Escape(text));
  }
  svg += fmt::format(
      "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#333333\"/>"
      "<line x1=\"{0}\" y1=\"{3}\" x2=\"{0}\" y2=\"{1}\" stroke=\"#333333\"/>\n"
      "<text x=\"{4}\" y=\"{5}\" font-size=\"12\" text-anchor=\"middle\">{6}</text>\n"
      "<text x=\"14\" y=\"{7}\" font-size=\"12\" text-anchor=\"middle\" "
      "transform=\"rotate(-90 14 {7})\">{8}</text>\n",
      L, H - B, W - R, T, (L + W - R) / 2, H - 8, Escape(o.x_label), (T + H - B) / 2,
      Escape(o.y_label));
  double legend_x = W - R - 10;
  for (auto it = series.rbegin(); it != series.rend(); ++it) {
    legend_x -= 12 + 7 * static_cast<double>(it->name.size());
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"27\" width=\"10\" height=\"10\" fill=\"{}\"/>"
        "<text x=\"{:.1f}\" y=\"36\" font-size=\"11\">{}</text>\n",
        legend_x, it->color, legend_x + 13, Escape(it->name));
    legend_x -= 8;
  }
  for (size_t si = 0; si < series.size(); ++si) {
    const Series& s = series[si];
    if (o.scatter) {
      for (size_t i = 0; i < s.points.size(); ++i) {
        const auto& [x, y] = s.points[i];
        svg += fmt::format(
            "<circle class=\"point\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"{}\"/>\n", px(x),
            py(y), s.color);
        if (i < s.labels.size()) {
          const bool right_half = px(x) > (L + W - R) / 2;
          svg += fmt::format(
              "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" text-anchor=\"{}\">{}</text>\n",
              right_half ? px(x) - 7 : px(x) + 7, py(y) - 6, right_half ? "end" : "start",
              Escape(s.labels[i]));
        }
      }
      continue;
    }
    std::string pts;
    for (const auto& [x, y] : s.points) pts += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
    svg += fmt::format(
        "<polyline class=\"series\" data-name=\"{}\" fill=\"none\" stroke=\"{}\" "
        "stroke-width=\"2\" points=\"{}\"/>\n",
        Escape(s.name), s.color, pts);
  }
  return svg + "</svg>\n";
}

// x = -log10(1 - q): 0 at the median's left edge, 1 at p90, 2 at p99, ...
std::vector<std::pair<double, double>> PercentileCurve(const LatencyHistogram& h) {
  std::vector<std::pair<double, double>> pts;
  if (h.count() == 0) return pts;
  const double top = std::min(5.0, std::log10(static_cast<double>(h.count())));
  for (double x = 0; x <= top + 1e-9; x += 0.05) {
    const double q = 100.0 * (1.0 - std::pow(10, -x));
    pts.push_back({x, Ms(h.Percentile(q))});
  }
  return pts;
}

}  // namespace

nlohmann::json ReportJson(const RunResult& r) {
  nlohmann::json j;
  j["workload"] = r.settings.value("workload", nlohmann::json::object()).value("name", "");
  j["driver"] = "regionmirror";
  j["settings"] = r.settings;
  std::vector<double> publish, consume, e2e50, e2e99, e2e999, e2emax;
  std::vector<int64_t> backlog;
  nlohmann::json intervals = nlohmann::json::array();
  for (const auto& s : r.intervals) {
    publish.push_back(s.publish_rate);
    consume.push_back(s.consume_rate);
    backlog.push_back(s.backlog);
    e2e50.push_back(s.p50_ms);
    e2e99.push_back(s.p99_ms);
    e2e999.push_back(s.p999_ms);
    e2emax.push_back(s.max_ms);
    intervals.push_back({{"t", s.t_s},
                         {"warmup", s.warmup},
                         {"publishRate", s.publish_rate},
                         {"consumeRate", s.consume_rate},
                         {"publishMBps", s.publish_mb_s},
                         {"consumeMBps", s.consume_mb_s},
                         {"backlog", s.backlog},
                         {"p50Ms", s.p50_ms},
                         {"p90Ms", s.p90_ms},
                         {"p99Ms", s.p99_ms},
                         {"p999Ms", s.p999_ms},
                         {"maxMs", s.max_ms},
                         {"p99FromSendMs", s.p99_from_send_ms},
                         {"maxScheduleDelayMs", s.max_schedule_delay_ms},
                         {"cpuCores", s.cpu_cores},
                         {"mirrorRate", s.mirror_rate},
                         {"mirrorLag", s.mirror_lag}});
  }
  // OMB's per-interval series (its interval is 10 s; ours is 1 s).
  j["publishRate"] = publish;
  j["consumeRate"] = consume;
  j["backlog"] = backlog;
  j["endToEndLatency50pct"] = e2e50;
  j["endToEndLatency99pct"] = e2e99;
  j["endToEndLatency999pct"] = e2e999;
  j["endToEndLatencyMax"] = e2emax;
  const LatencyHistogram& h = r.from_intended_us;
  j["aggregatedEndToEndLatencyAvg"] = h.mean() / 1000.0;
  for (const auto& [p, suffix] : kOmbPercentiles) {
    j["aggregatedEndToEndLatency" + suffix] = Ms(h.Percentile(p));
  }
  j["aggregatedEndToEndLatencyMax"] = Ms(h.max());
  nlohmann::json quantiles = nlohmann::json::object();
  for (double p : {50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0}) {
    quantiles[fmt::format("{}", p)] = Ms(h.Percentile(p));
  }
  j["aggregatedEndToEndLatencyQuantiles"] = quantiles;
  // Ours.
  j["intervalSeconds"] = 1;
  j["intervals"] = intervals;
  j["measuredSeconds"] = r.measured_seconds;
  j["aggregatedPublishRate"] = r.publish_rate;
  j["aggregatedConsumeRate"] = r.consume_rate;
  j["aggregatedPublishMBps"] = r.publish_mb_s;
  j["aggregatedConsumeMBps"] = r.consume_mb_s;
  j["endToEndLatencyFromIntended"] = HistogramJson(r.from_intended_us);
  j["endToEndLatencyFromSend"] = HistogramJson(r.from_sent_us);
  j["scheduleDelay"] = HistogramJson(r.generator.schedule_delay_us);
  j["scheduleDelay"]["fellBehind"] = r.fell_behind;
  j["backlogGrew"] = r.backlog_grew;
  j["sustainable"] = !r.fell_behind && !r.backlog_grew;
  const Verification& v = r.verification;
  j["verification"] = {{"ok", v.ok()},
                       {"sent", r.generator.sent},
                       {"acknowledged", r.generator.acked},
                       {"deliveryErrors", r.generator.delivery_errors},
                       {"received", v.received},
                       {"lost", v.lost},
                       {"duplicates", v.duplicates},
                       {"reordered", v.reordered},
                       {"misplaced", v.misplaced},
                       {"foreign", v.foreign},
                       {"firstProblem", v.first_problem}};
  j["cpu"] = {{"busyFraction", r.cpu.busy_fraction}, {"coresBusy", r.cpu.cores_busy}};
  j["mirror"] = r.mirror.is_null() ? nlohmann::json::object() : r.mirror;
  j["chaos"] = r.chaos_events;
  if (r.backlog) {
    // OMB logs these ("Completed backlog build/draining in N s"); ours in the report.
    const auto& b = *r.backlog;
    j["backlog"] = {{"requestedRecords", b.requested_records}, {"builtRecords", b.built_records},
                    {"buildSeconds", b.build_seconds},         {"drained", b.drained},
                    {"drainLevelRecords", b.drain_level},      {"drainSeconds", b.drain_seconds},
                    {"drainedRecords", b.drained_records},     {"drainRate", b.drain_rate}};
  }
  if (!r.rate_search.empty()) {
    // producerRate 0: OMB's "find the maximum sustainable rate", step by step.
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& st : r.rate_search) {
      steps.push_back({{"rate", st.rate},
                       {"sustainable", st.sustainable},
                       {"why", st.why},
                       {"seconds", st.figures.seconds},
                       {"published", st.figures.published},
                       {"backlogStart", st.figures.backlog_start},
                       {"backlogEnd", st.figures.backlog_end},
                       {"endScheduleDelayMs", st.figures.end_delay_ms}});
    }
    j["rateSearch"] = steps;
    j["maxSustainableRate"] = r.max_sustainable_rate;
  }
  j["interrupted"] = r.interrupted;
  j["ok"] = r.ok();
  j["problems"] = r.problems;
  return j;
}

std::string ReportHtml(const RunResult& r, const std::vector<SweepPoint>& sweep) {
  Series publish{"published", "#1f77b4", {}}, consume{"verified on target", "#2ca02c", {}},
      mirror{"mirror copied", "#ff7f0e", {}};
  Series backlog{"backlog (sent - verified)", "#d62728", {}},
      mlag{"mirror lag (its metric)", "#9467bd", {}};
  Series p50{"p50", "#2ca02c", {}}, p99{"p99", "#d62728", {}}, pmax{"max", "#7f7f7f", {}};
  for (const auto& s : r.intervals) {
    publish.points.push_back({s.t_s, s.publish_rate});
    consume.points.push_back({s.t_s, s.consume_rate});
    if (s.mirror_rate >= 0) mirror.points.push_back({s.t_s, s.mirror_rate});
    backlog.points.push_back({s.t_s, static_cast<double>(s.backlog)});
    if (s.mirror_lag >= 0) mlag.points.push_back({s.t_s, s.mirror_lag});
    p50.points.push_back({s.t_s, s.p50_ms});
    p99.points.push_back({s.t_s, s.p99_ms});
    pmax.points.push_back({s.t_s, s.max_ms});
  }
  std::vector<Series> rate_series = {publish, consume};
  if (!mirror.points.empty()) rate_series.push_back(mirror);
  std::vector<Series> lag_series = {backlog};
  if (!mlag.points.empty()) lag_series.push_back(mlag);
  const Verification& v = r.verification;
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<title>regionmirror load test</title>\n<style>body{font-family:sans-serif;margin:24px;"
      "color:#222;background:#fff}table{border-collapse:collapse;margin:8px 0 20px}"
      "td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}.ok{color:#1a7f37;"
      "font-weight:bold}.bad{color:#c62828;font-weight:bold}svg{display:block;margin:12px 0 24px;"
      "border:1px solid #ddd}pre{background:#f6f6f6;padding:8px}</style>\n</head><body>\n";
  const std::string name = r.settings.value("workload", nlohmann::json::object()).value("name", "");
  html += fmt::format("<h1>regionmirror load test: {}</h1>\n", Escape(name));
  html += fmt::format("<p id=\"verdict\" class=\"{}\">{}</p>\n", r.ok() ? "ok" : "bad",
                      r.ok() ? "PASSED: every record arrived exactly once, in order"
                             : Escape("FAILED: " + fmt::format("{}", fmt::join(r.problems, "; "))));
  html += "<table id=\"summary\">\n";
  auto row = [&html](const std::string& k, const std::string& val) {
    html += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", Escape(k), Escape(val));
  };
  row("publish rate",
      fmt::format("{:.0f} records/s ({:.2f} MB/s)", r.publish_rate, r.publish_mb_s));
  row("consume rate (target)",
      fmt::format("{:.0f} records/s ({:.2f} MB/s)", r.consume_rate, r.consume_mb_s));
  const LatencyHistogram& h = r.from_intended_us;
  row("end-to-end latency from intended send",
      fmt::format("p50 {:.1f} ms, p90 {:.1f}, p99 {:.1f}, p99.9 {:.1f}, max {:.1f}",
                  Ms(h.Percentile(50)), Ms(h.Percentile(90)), Ms(h.Percentile(99)),
                  Ms(h.Percentile(99.9)), Ms(h.max())));
  const LatencyHistogram& hs = r.from_sent_us;
  row("end-to-end latency from actual send",
      fmt::format("p50 {:.1f} ms, p99 {:.1f}, max {:.1f}", Ms(hs.Percentile(50)),
                  Ms(hs.Percentile(99)), Ms(hs.max())));
  const LatencyHistogram& sd = r.generator.schedule_delay_us;
  row("sends behind schedule", fmt::format("p99 {:.1f} ms, max {:.1f} ms{}", Ms(sd.Percentile(99)),
                                           Ms(sd.max()), r.fell_behind ? " (fell behind)" : ""));
  row("verification",
      fmt::format("{} sent, {} received, {} lost, {} duplicated, {} reordered, {} "
                  "misplaced",
                  r.generator.sent, v.received, v.lost, v.duplicates, v.reordered, v.misplaced));
  row("machine CPU",
      fmt::format("{:.2f} cores busy ({:.0f}%)", r.cpu.cores_busy, r.cpu.busy_fraction * 100));
  if (r.mirror.contains("copyRate")) {
    row("mirror (its metrics)",
        fmt::format("{:.0f} records/s copied, errors {}, rebalances {}, max lag {}",
                    r.mirror["copyRate"].get<double>(), r.mirror["errors"].dump(),
                    r.mirror["rebalances"].dump(), r.mirror["maxLagRecords"].dump()));
  }
  if (!r.rate_search.empty()) {
    std::string steps;
    for (const auto& st : r.rate_search) {
      steps += fmt::format("{:.0f}{}; ", st.rate, st.sustainable ? "" : " (not: " + st.why + ")");
    }
    row("maximum sustainable rate",
        fmt::format("{:.0f} records/s, searched: {}", r.max_sustainable_rate, steps));
  }
  if (r.backlog) {
    row("backlog", fmt::format("{} records built in {:.1f} s, {} in {:.1f} s at {:.0f} records/s",
                               r.backlog->built_records, r.backlog->build_seconds,
                               r.backlog->drained ? "drained" : "NOT drained",
                               r.backlog->drain_seconds, r.backlog->drain_rate));
  }
  if (!r.chaos_events.empty()) {
    std::string events;
    for (const auto& e : r.chaos_events) {
      events += fmt::format("{:.1f} s: {}; ", e["t"].get<double>(), e["what"].get<std::string>());
    }
    row("chaos", events);
  }
  html += "</table>\n";
  html += Chart({"throughput", "Throughput over time", "seconds", "records/s"}, rate_series);
  ChartOptions pc{"latency-percentiles", "End-to-end latency by percentile", "percentile", "ms"};
  pc.x_ticks = {{0, "0%"}, {1, "90%"}, {2, "99%"}, {3, "99.9%"}, {4, "99.99%"}, {5, "99.999%"}};
  html += Chart(pc, {{"from intended send", "#d62728", PercentileCurve(r.from_intended_us)},
                     {"from actual send", "#1f77b4", PercentileCurve(r.from_sent_us)}});
  html += Chart({"lag", "Lag over time", "seconds", "records"}, lag_series);
  html += Chart({"latency-over-time", "End-to-end latency over time (per second)", "seconds", "ms"},
                {p50, p99, pmax});
  if (!sweep.empty()) {
    ChartOptions so{"sweep", "Sweep: throughput against p99 per setting", "p99 ms", "records/s"};
    so.scatter = true;
    Series ok{"sustainable", "#2ca02c", {}}, bad{"unsustainable", "#c62828", {}},
        best{"recommended", "#1f77b4", {}};
    for (const auto& p : sweep) {
      Series& into = p.recommended ? best : p.sustainable ? ok : bad;
      into.points.push_back({p.p99_ms, p.throughput});
      into.labels.push_back(p.label);
    }
    html += Chart(so, {ok, bad, best});
    html +=
        "<table id=\"sweep-table\"><tr><th>setting</th><th>records/s</th><th>p99 ms</th>"
        "<th>sustainable</th></tr>\n";
    for (const auto& p : sweep) {
      html += fmt::format("<tr><td>{}{}</td><td>{:.0f}</td><td>{:.1f}</td><td>{}</td></tr>\n",
                          Escape(p.label), p.recommended ? " (recommended)" : "", p.throughput,
                          p.p99_ms, p.sustainable ? "yes" : "no");
    }
    html += "</table>\n";
  }
  html +=
      fmt::format("<h2>Settings</h2>\n<pre id=\"settings\">{}</pre>\n", Escape(r.settings.dump(2)));
  // The one script: after layout, counts the charts whose lines or points have a drawn size and
  // writes it on <body>, so a headless browser's DOM dump shows the charts rendered.
  html +=
      "<script>window.addEventListener('load',function(){var n=0;"
      "document.querySelectorAll('svg.chart').forEach(function(c){var ok=false;"
      "c.querySelectorAll('polyline.series,circle.point').forEach(function(e){var b=e.getBBox();"
      "if(b.width>0||b.height>0)ok=true;});if(ok)n++;});"
      "document.body.setAttribute('data-charts-rendered',String(n));});</script>\n";
  html += "</body></html>\n";
  return html;
}

void WriteReport(const std::string& dir, const RunResult& r, const nlohmann::json& extra,
                 const std::vector<SweepPoint>& sweep) {
  nlohmann::json j = ReportJson(r);
  if (extra.is_object()) {
    for (const auto& [k, val] : extra.items()) j[k] = val;
  }
  auto write = [](const std::filesystem::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::trunc | std::ios::binary);
    out << text;
    if (!out) throw common::ConfigError(fmt::format("cannot write {}", p.string()));
  };
  write(std::filesystem::path(dir) / "report.json", j.dump(2) + "\n");
  write(std::filesystem::path(dir) / "report.html", ReportHtml(r, sweep));
}

std::string SummaryText(const RunResult& r) {
  const LatencyHistogram& h = r.from_intended_us;
  const Verification& v = r.verification;
  std::string s;
  if (!r.rate_search.empty()) {
    s += fmt::format("maximum sustainable rate: {:.0f} rec/s (searched", r.max_sustainable_rate);
    for (const auto& st : r.rate_search) {
      s += fmt::format(" {:.0f}{}", st.rate, st.sustainable ? "" : "x");
    }
    s += "; x: not sustainable)\n";
  }
  if (r.backlog) {
    s += fmt::format("backlog: {} records built in {:.1f} s; {} in {:.1f} s ({:.0f} rec/s)\n",
                     r.backlog->built_records, r.backlog->build_seconds,
                     r.backlog->drained ? "drained" : "NOT drained", r.backlog->drain_seconds,
                     r.backlog->drain_rate);
  }
  s += fmt::format(
      "publish {:.0f} rec/s ({:.2f} MB/s), target {:.0f} rec/s ({:.2f} MB/s)\n"
      "end to end from intended send: p50 {:.1f} ms, p90 {:.1f}, p99 {:.1f}, p99.9 {:.1f}, max "
      "{:.1f} (from actual send: p99 {:.1f})\n"
      "sends behind schedule: p99 {:.1f} ms, max {:.1f} ms{}{}\n"
      "verification: {} sent, {} received, {} lost, {} duplicated, {} reordered, {} misplaced\n"
      "machine CPU: {:.2f} cores busy\n",
      r.publish_rate, r.publish_mb_s, r.consume_rate, r.consume_mb_s, Ms(h.Percentile(50)),
      Ms(h.Percentile(90)), Ms(h.Percentile(99)), Ms(h.Percentile(99.9)), Ms(h.max()),
      Ms(r.from_sent_us.Percentile(99)), Ms(r.generator.schedule_delay_us.Percentile(99)),
      Ms(r.generator.schedule_delay_us.max()), r.fell_behind ? " (fell behind)" : "",
      r.backlog_grew ? ", backlog grew" : "", r.generator.sent, v.received, v.lost, v.duplicates,
      v.reordered, v.misplaced, r.cpu.cores_busy);
  if (r.mirror.contains("copyRate")) {
    s += fmt::format(
        "mirror: {:.0f} rec/s copied (its metrics), p99 replication latency <= {} ms\n",
        r.mirror["copyRate"].get<double>(), r.mirror["replicationLatency99pctMaxMs"].dump());
  }
  for (const auto& e : r.chaos_events) {
    s += fmt::format("chaos at {:.1f} s: {}\n", e["t"].get<double>(), e["what"].get<std::string>());
  }
  s += r.ok() ? "PASSED\n" : fmt::format("FAILED: {}\n", fmt::join(r.problems, "; "));
  return s;
}

}  // namespace rm::loadtest
