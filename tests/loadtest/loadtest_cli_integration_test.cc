// `regionmirror loadtest` as users run it: a short run with its own testbed and mirror, its
// report opened in headless Chromium, Ctrl-C leaving nothing running, and bad arguments.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "tests/support/process.h"
#include "tests/util/test_util.h"

namespace rm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

CommandResult Loadtest(std::vector<std::string> args,
                       std::chrono::milliseconds timeout = std::chrono::seconds(90)) {
  args.insert(args.begin(), {RegionmirrorPath(), "loadtest", "--log_level", "warn"});
  return RunCommand(args, timeout);
}

// Headless Chromium with nothing reaching out of the machine (the flags turn off its own
// traffic); returns what it printed.
CommandResult Chromium(const std::filesystem::path& profile, std::vector<std::string> args) {
  std::vector<std::string> argv = {"chromium",
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-quic",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--disable-dev-shm-usage",
                                   "--user-data-dir=" + profile.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, std::chrono::seconds(60));
}

// Pixels of a PNG that are not white, and those in colour (a chart's lines; text and axes are
// grey), through the system Python's matplotlib.
std::pair<long, long> CountPixels(const std::filesystem::path& png) {
  auto r = RunCommand({"/usr/bin/python3", "-c",
                       "import sys, matplotlib.image as m\n"
                       "a = m.imread(sys.argv[1])[:, :, :3]\n"
                       "nonwhite = (a < 0.95).any(axis=2).sum()\n"
                       "colour = ((a.max(axis=2) - a.min(axis=2)) > 0.3).sum()\n"
                       "print(int(nonwhite), int(colour))\n",
                       png.string()});
  long nonwhite = -1, colour = -1;
  std::sscanf(r.output.c_str(), "%ld %ld", &nonwhite, &colour);
  return {nonwhite, colour};
}

TEST(LoadtestCommand, AShortRunPassesAndItsReportRendersInChromium) {
  TempDir tmp;
  const auto out = tmp.path() / "out";
  auto r = Loadtest({"--duration", "3", "--rate", "2000", "--partitions", "2", "--message_size",
                     "100", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("PASSED"));
  EXPECT_THAT(r.output, HasSubstr("report.html"));
  auto report = nlohmann::json::parse(ReadFile(out / "report.json"));
  EXPECT_TRUE(report["verification"]["ok"].get<bool>());
  EXPECT_EQ(report["verification"]["sent"].get<int64_t>(), 6000);
  EXPECT_EQ(report["verification"]["received"].get<int64_t>(), 6000);
  EXPECT_GE(report["publishRate"].size(), 3u);

  const std::string url = "file://" + (out / "report.html").string();
  auto dom = Chromium(tmp.path() / "profile1", {"--dump-dom", url});
  ASSERT_EQ(dom.exit_code, 0) << dom.output;
  // The inline script ran after layout and found drawn lines in all four charts.
  EXPECT_THAT(dom.output, HasSubstr("data-charts-rendered=\"4\""));
  for (const char* id : {"id=\"throughput\"", "id=\"latency-percentiles\"", "id=\"lag\"",
                         "id=\"latency-over-time\""}) {
    EXPECT_THAT(dom.output, HasSubstr(id));
  }
  EXPECT_THAT(dom.output, HasSubstr("PASSED"));

  const auto png = tmp.path() / "report.png";
  auto shot = Chromium(
      tmp.path() / "profile2",
      {"--screenshot=" + png.string(), "--window-size=1000,1600", "--hide-scrollbars", url});
  ASSERT_TRUE(std::filesystem::exists(png)) << shot.output;
  auto [nonwhite, colour] = CountPixels(png);
  // Text, axes and grid make the page far from blank; the coloured lines are the charts.
  EXPECT_GT(nonwhite, 20000) << "screenshot " << png;
  EXPECT_GT(colour, 2000) << "screenshot " << png;
  if (const char* keep = std::getenv("RM_KEEP_SCREENSHOT")) {
    std::filesystem::copy_file(png, keep, std::filesystem::copy_options::overwrite_existing);
  }
}

TEST(LoadtestCommand, SigtermStopsTheRunAndLeavesNoMirrorRunning) {
  TempDir tmp;
  const auto log = (tmp.path() / "harness.log").string();
  ChildProcess harness({RegionmirrorPath(), "loadtest", "--duration", "120", "--rate", "500",
                        "--partitions", "2", "--out", (tmp.path() / "out").string()},
                       log);
  // Wait until the mirror copies its partitions, then Ctrl-C-like SIGTERM.
  std::smatch m;
  static const std::regex pid_re("mirror started \\(pid ([0-9]+)");
  pid_t mirror_pid = -1;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = ReadFile(log);
    if (std::regex_search(text, m, pid_re)) mirror_pid = std::stoi(m[1]);
    if (mirror_pid > 0 && text.find("] resumes at ") != std::string::npos) break;
    if (mirror_pid > 0 &&
        ReadFile(tmp.path() / "out/mirror.log").find("] resumes at ") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_GT(mirror_pid, 0) << ReadFile(log);
  EXPECT_FALSE(ProcessGone(mirror_pid));
  kill(harness.pid(), SIGTERM);
  auto rc = harness.Wait(60s);
  ASSERT_TRUE(rc.has_value()) << ReadFile(log);
  EXPECT_EQ(*rc, 1) << ReadFile(log);  // interrupted: not a pass
  EXPECT_THAT(ReadFile(log), HasSubstr("interrupted"));
  EXPECT_TRUE(ProcessGone(mirror_pid));
  EXPECT_TRUE(std::filesystem::exists(tmp.path() / "out/report.json"));
}

TEST(LoadtestCommand, ASweepRunsEveryPointThreeTimesAndRecommendsOne) {
  // On one cluster (no mirror to start per run) so it stays short: 2 points x 3 runs x 0.5 s.
  TempDir tmp;
  const auto out = tmp.path() / "out";
  auto r =
      Loadtest({"--no_mirror", "--sweep", "producer.linger.ms=1,5", "--duration", "1", "--rate",
                "1000", "--partitions", "2", "--p99_ms", "5000", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("<- recommended"));
  EXPECT_THAT(r.output, HasSubstr("mirror YAML:"));
  auto report = nlohmann::json::parse(ReadFile(out / "report.json"));
  const auto& points = report["sweep"]["points"];
  ASSERT_EQ(points.size(), 2u);
  for (const auto& p : points) EXPECT_EQ(p["throughputs"].size(), 3u);
  EXPECT_TRUE(report["sweep"].contains("recommendation"));
  EXPECT_THAT(ReadFile(out / "report.html"), HasSubstr("id=\"sweep\""));

  r = Loadtest({"--sweep", "linger=1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("--sweep: unknown key 'linger'"));
  r = Loadtest({"--sweep", "linger.ms=1", "--sweep_runs", "2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("--sweep_runs: 2 is below 3"));
}

TEST(LoadtestCommand, BadArgumentsGetOneClearLine) {
  auto r = Loadtest({"--partitions", "0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("partitionsPerTopic: 0 is not a positive count"));

  r = Loadtest({"--workload", "/nonexistent/w.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("/nonexistent/w.yaml: cannot read file"));

  r = Loadtest({"--rate", "fast"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("invalid value 'fast' for flag --rate"));

  r = Loadtest({"--linger=5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("unknown flag --linger"));

  r = Loadtest({"--source_bootstrap", "127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("--source-bootstrap and --target-bootstrap go together"));

  r = Loadtest({"--key_distributor", "HASH"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("--key_distributor: 'HASH'"));

  r = Loadtest({"--chaos", "--no_mirror"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("--chaos needs the testbed and its mirror"));

  TempDir tmp;
  WriteFile(tmp.path() / "w.yaml", "topics: 1\nmessageSize: 8\n");
  r = Loadtest({"--workload", (tmp.path() / "w.yaml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("w.yaml:2: messageSize: 8 is below the 40 bytes"));
}

}  // namespace
}  // namespace rm::testing
