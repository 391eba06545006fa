#include "common/cli.h"

#include <gflags/gflags.h>
#include <gtest/gtest.h>

#include "common/result.h"

DEFINE_int32(cli_test_count, 1, "A flag the 'count' subcommand accepts.");
DEFINE_bool(cli_test_verbose, false, "A bool flag the 'count' subcommand accepts.");
DEFINE_string(cli_test_other, "", "A flag only the 'other' subcommand accepts.");

namespace rm::common {
namespace {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gflags::SetCommandLineOption("cli_test_count", "1");
    gflags::SetCommandLineOption("cli_test_verbose", "false");
    subs_ = {
        {"count",
         "Counts.",
         "",
         {"cli_test_count", "cli_test_verbose"},
         [this](const std::vector<std::string>&) {
           ran_ = "count";
           return 0;
         }},
        {"other",
         "Other.",
         "FILE",
         {"cli_test_other"},
         [this](const std::vector<std::string>& args) {
           ran_ = "other";
           args_ = args;
           return 0;
         }},
        {"cdc postgres run",
         "Nested.",
         "",
         {},
         [this](const std::vector<std::string>&) {
           ran_ = "nested";
           return 0;
         }},
        {"fails",
         "Throws a config error.",
         "",
         {},
         [](const std::vector<std::string>&) -> int {
           throw ConfigError("config.yaml: clusters[0].alias: missing");
         }},
    };
  }

  int Run(std::vector<std::string> words) {
    words.insert(words.begin(), "regionmirror");
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    return RunCli(static_cast<int>(argv.size()), argv.data(), subs_);
  }

  std::vector<Subcommand> subs_;
  std::string ran_;
  std::vector<std::string> args_;
};

TEST_F(CliTest, RunsTheNamedSubcommandWithItsFlags) {
  EXPECT_EQ(Run({"count", "--cli_test_count=7", "--cli_test_verbose"}), 0);
  EXPECT_EQ(ran_, "count");
  EXPECT_EQ(FLAGS_cli_test_count, 7);
  EXPECT_TRUE(FLAGS_cli_test_verbose);
}

TEST_F(CliTest, AcceptsFlagValueAsNextArgument) {
  EXPECT_EQ(Run({"count", "--cli_test_count", "9"}), 0);
  EXPECT_EQ(FLAGS_cli_test_count, 9);
}

TEST_F(CliTest, AcceptsDashesForUnderscoresInFlagNames) {
  EXPECT_EQ(Run({"count", "--cli-test-count=5", "--cli-test-verbose"}), 0);
  EXPECT_EQ(FLAGS_cli_test_count, 5);
  EXPECT_TRUE(FLAGS_cli_test_verbose);
}

TEST_F(CliTest, UnknownSubcommandExitsTwoNamingIt) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(Run({"bogus"}), kUsageExit);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("unknown subcommand 'bogus'"), std::string::npos) << err;
  EXPECT_TRUE(ran_.empty());
}

TEST_F(CliTest, UnknownFlagExitsTwoNamingIt) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(Run({"count", "--no_such_flag=1"}), kUsageExit);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("unknown flag --no_such_flag"), std::string::npos) << err;
  EXPECT_TRUE(ran_.empty());
}

TEST_F(CliTest, FlagOfAnotherSubcommandIsRejected) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(Run({"count", "--cli_test_other=x"}), kUsageExit);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("--cli_test_other"), std::string::npos) << err;
}

TEST_F(CliTest, BadFlagValueExitsTwo) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(Run({"count", "--cli_test_count=abc"}), kUsageExit);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("invalid value 'abc'"), std::string::npos) << err;
}

TEST_F(CliTest, HelpListsSubcommands) {
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(Run({"--help"}), 0);
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("count"), std::string::npos);
  EXPECT_NE(out.find("cdc postgres run"), std::string::npos);
}

TEST_F(CliTest, SubcommandHelpListsItsFlags) {
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(Run({"count", "--help"}), 0);
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("--cli_test_count"), std::string::npos) << out;
  EXPECT_EQ(out.find("--cli_test_other"), std::string::npos) << out;
  EXPECT_TRUE(ran_.empty());
}

TEST_F(CliTest, NoSubcommandIsAUsageError) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(Run({}), kUsageExit);
  ::testing::internal::GetCapturedStderr();
}

TEST_F(CliTest, MatchesMultiWordSubcommands) {
  EXPECT_EQ(Run({"cdc", "postgres", "run"}), 0);
  EXPECT_EQ(ran_, "nested");
}

TEST_F(CliTest, PassesPositionalArguments) {
  EXPECT_EQ(Run({"other", "file.sql"}), 0);
  EXPECT_EQ(args_, std::vector<std::string>{"file.sql"});
}

TEST_F(CliTest, UnexpectedPositionalArgumentIsAUsageError) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(Run({"count", "extra"}), kUsageExit);
  ::testing::internal::GetCapturedStderr();
}

TEST_F(CliTest, ConfigErrorIsOneLineAndExitOne) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(Run({"fails"}), 1);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "regionmirror fails: config.yaml: clusters[0].alias: missing\n");
}

}  // namespace
}  // namespace rm::common
