// The README's demo (scripts/demo-run.sh, what scripts/demo.sh runs after building): every step
// shows what it should, and Ctrl-C then stops the mirror and both regions, leaving nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <regex>
#include <thread>

#include "tests/support/process.h"
#include "tests/util/test_util.h"

namespace rm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(Demo, ShowsLinkMirrorLoadTranslationAndFailoverThenCtrlCLeavesNothingRunning) {
  TempDir tmp;
  const auto log = (tmp.path() / "demo.log").string();
  ChildProcess demo(
      {(SourceDir() / "scripts/demo-run.sh").string(), "--testbed", RegionmirrorPath()}, log,
      {{"DEMO_WAIT", "always"},
       {"DEMO_LOAD_S", "3"},
       {"DEMO_RTT_MS", "20"},
       {"DEMO_RECORDS", "2000"}});
  auto deadline = std::chrono::steady_clock::now() + 150s;
  std::string text;
  while (std::chrono::steady_clock::now() < deadline && demo.running()) {
    text = ReadFile(log);
    if (text.find("Ctrl-C stops") != std::string::npos) break;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_THAT(text, HasSubstr("Ctrl-C stops")) << text;
  EXPECT_THAT(text, HasSubstr("link us-east <-> eu-west: 20 ms round trip"));
  EXPECT_THAT(text, HasSubstr("eu-west has 2120 records"));
  EXPECT_THAT(text, HasSubstr("rm_mirror_records_copied_total"));
  EXPECT_THAT(text, HasSubstr("PASSED"));  // the harness's verified load
  // The app reads 800 of 2000 records: which partitions it got records from (and so commits)
  // depends on the fetches, so no partition is named.
  EXPECT_TRUE(std::regex_search(text, std::regex(R"(committed in us-east: orders\[[0-9]\] at)")))
      << text;
  EXPECT_THAT(text, HasSubstr("us-east.orders"));  // offsets translate's answer
  EXPECT_THAT(text, HasSubstr("1 of 1 groups done"));
  // The copies sit after records eu-west held before, so the position moved is not the source's.
  std::smatch moved;
  ASSERT_TRUE(std::regex_search(
      text, moved,
      std::regex(
          R"(orders\[([0-9])\] ([0-9]+) \(checkpoint[^)]*\) -> us-east\.orders\[\1\] ([0-9]+))")))
      << text;
  EXPECT_GT(std::stol(moved[3]), std::stol(moved[2])) << moved[0];
  // The failover moved demo-app to a real position in eu-west on every partition it had
  // committed in us-east.
  std::smatch before;
  ASSERT_TRUE(std::regex_search(text, before, std::regex("committed in us-east: (.*)"))) << text;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex("committed in eu-west: (.*)"))) << text;
  const std::string committed = before[1].str();
  const std::regex partition(R"(orders\[([0-9])\])");
  int partitions = 0;
  for (std::sregex_iterator it(committed.begin(), committed.end(), partition);
       it != std::sregex_iterator(); ++it, ++partitions) {
    EXPECT_THAT(m[1].str(),
                ::testing::Not(HasSubstr("us-east.orders[" + (*it)[1].str() + "] at -")))
        << text;
  }
  EXPECT_GT(partitions, 0) << text;
  std::smatch pid;
  ASSERT_TRUE(std::regex_search(text, pid, std::regex("running, pid ([0-9]+)"))) << text;
  const pid_t mirror = std::stoi(pid[1]);
  EXPECT_FALSE(ProcessGone(mirror));

  // Ctrl-C on a terminal: SIGINT to the whole foreground process group.
  ASSERT_EQ(kill(-demo.pid(), SIGINT), 0);
  auto rc = demo.Wait(60s);
  ASSERT_TRUE(rc.has_value()) << ReadFile(log);
  EXPECT_NE(*rc, 0);
  EXPECT_THAT(ReadFile(log), HasSubstr("stopping the mirror and both regions"));
  EXPECT_TRUE(ProcessGone(mirror));
  // Nothing of the group is left: no testbed, no mirror, no shell.
  EXPECT_EQ(kill(-demo.pid(), 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

}  // namespace
}  // namespace rm::testing
