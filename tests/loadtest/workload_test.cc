#include "loadtest/workload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "common/result.h"
#include "tests/util/test_util.h"

namespace rm::loadtest {
namespace {

using rm::testing::SourceDir;
using rm::testing::TempDir;
using rm::testing::WriteFile;
using ::testing::HasSubstr;

std::filesystem::path Workloads() { return SourceDir() / "tests/loadtest/workloads"; }

std::string ErrorOf(const std::string& yaml, const std::string& base_dir = "") {
  try {
    ParseWorkload(yaml, "w.yaml", base_dir);
  } catch (const common::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Workload, EveryOmbFormatFileInTheWorkloadsFolderParses) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(Workloads())) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    SCOPED_TRACE(entry.path().string());
    Workload w = LoadWorkloadFile(entry.path().string());
    EXPECT_TRUE(ValidateWorkload(w).empty());
    EXPECT_FALSE(w.name.empty());
  }
  EXPECT_GE(files, 5);
}

TEST(Workload, OmbFieldsKeepTheirMeaning) {
  Workload w = LoadWorkloadFile(
      (Workloads() / "1-topic-3-partitions-json-3producers-with-key.yaml").string());
  EXPECT_EQ(w.topics, 1);
  EXPECT_EQ(w.partitions_per_topic, 3);
  EXPECT_EQ(w.message_size, 94);
  EXPECT_EQ(w.key_distributor, KeyDistributor::kKeyRoundRobin);
  EXPECT_EQ(w.producers_per_topic, 3);
  EXPECT_DOUBLE_EQ(w.producer_rate, 50);
  EXPECT_DOUBLE_EQ(w.test_duration_minutes, 2);
  // payloadFile resolves against the workload file's folder.
  EXPECT_EQ(std::filesystem::path(w.payload_file), Workloads() / "payload/payload-json.data");
  // OMB's consumer fields are read and said to be without effect, not rejected.
  ASSERT_EQ(w.warnings.size(), 2u);
  EXPECT_THAT(w.warnings[0], HasSubstr("without effect"));

  Workload r = LoadWorkloadFile((Workloads() / "2-topics-6-partitions-100b-random.yaml").string());
  EXPECT_TRUE(r.use_randomized_payloads);
  EXPECT_DOUBLE_EQ(r.random_bytes_ratio, 0.5);
  EXPECT_EQ(r.randomized_payload_pool_size, 1000);
  EXPECT_EQ(r.key_distributor, KeyDistributor::kRandomNano);
  EXPECT_DOUBLE_EQ(r.warmup_duration_minutes, 1);
}

TEST(Workload, TheReplicationBlockIsOurs) {
  Workload w = LoadWorkloadFile((Workloads() / "1-topic-6-partitions-1kb-100ms-rtt.yaml").string());
  EXPECT_EQ(w.replication.rtt_ms, 100);
  EXPECT_EQ(w.replication.producer.at("linger.ms"), "5");
  EXPECT_EQ(w.replication.consumer.at("fetch.wait.max.ms"), "10");
  ASSERT_TRUE(w.replication.mirror.IsMap());
  EXPECT_EQ(w.replication.mirror["max_inflight_per_partition"].as<int>(), 50000);
  EXPECT_TRUE(w.warnings.empty());
}

TEST(Workload, UnknownKeysAreWarningsNamingFileAndKey) {
  Workload w =
      LoadWorkloadFile((Workloads() / "1-topic-10-partitions-1kb-newer-omb-fields.yaml").string());
  EXPECT_EQ(w.partitions_per_topic, 10);
  std::string all;
  for (const auto& s : w.warnings) all += s + "\n";
  EXPECT_THAT(all, HasSubstr("newer-omb-fields.yaml: partitionsPerTopicList: unknown field"));
  EXPECT_THAT(all, HasSubstr("producerRateList: unknown field"));
  EXPECT_THAT(all, HasSubstr("logIntervalMillis: unknown field"));
}

TEST(Workload, AnUnreadableFileIsAnErrorNamingIt) {
  try {
    LoadWorkloadFile("/nonexistent/w.yaml");
    FAIL() << "no error";
  } catch (const common::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/w.yaml: cannot read file"));
  }
}

TEST(Workload, BadValuesAreErrorsNamingFileAndField) {
  EXPECT_THAT(ErrorOf("topics: [1"), HasSubstr("w.yaml: not valid YAML"));
  EXPECT_THAT(ErrorOf("- a\n- b\n"), HasSubstr("w.yaml: expected a map"));
  EXPECT_THAT(ErrorOf("topics: many\n"), HasSubstr("w.yaml:1: topics: expected an integer"));
  EXPECT_THAT(ErrorOf("topics: 1\n? [a]\n: 2\n"),
              HasSubstr("w.yaml: (top level): a key at line 2, column 3 is a list"));
  EXPECT_THAT(ErrorOf("replication:\n  {a: 1}: 2\n"),
              HasSubstr("w.yaml:1: replication: a key at line 2, column 3 is a map"));
  EXPECT_THAT(ErrorOf("partitionsPerTopic: 0\n"),
              HasSubstr("w.yaml:1: partitionsPerTopic: 0 is not a positive count"));
  EXPECT_THAT(ErrorOf("keyDistributor: HASH\n"),
              HasSubstr("w.yaml:1: keyDistributor: must be one of NO_KEY, KEY_ROUND_ROBIN, "
                        "RANDOM_NANO (got \"HASH\")"));
  EXPECT_THAT(ErrorOf("messageSize: 10\n"), HasSubstr("messageSize: 10 is below the 40 bytes"));
  EXPECT_THAT(ErrorOf("consumerBacklogSizeGB: -1\n"),
              HasSubstr("consumerBacklogSizeGB: -1 is negative"));
  EXPECT_THAT(ErrorOf("consumerBacklogSizeGB: 1\nproducerRate: 0\n"),
              HasSubstr("consumerBacklogSizeGB: a backlog needs a producerRate"));
  EXPECT_THAT(ErrorOf("backlogDrainRatio: 1.5\n"),
              HasSubstr("backlogDrainRatio: 1.5 is not between 0 and 1"));
  EXPECT_THAT(ErrorOf("replication: {mirror: 3}\n"),
              HasSubstr("w.yaml:1: replication.mirror: expected a map"));
  EXPECT_THAT(ErrorOf("payloadFile: nope.data\n", "/tmp"),
              HasSubstr("w.yaml:1: payloadFile: cannot read /tmp/nope.data"));
}

TEST(Workload, EveryProblemIsReportedAtOnce) {
  std::string e = ErrorOf("topics: x\nproducerRate: fast\nkeyDistributor: HASH\n");
  EXPECT_THAT(e, HasSubstr("3 problems"));
  EXPECT_THAT(e, HasSubstr("topics"));
  EXPECT_THAT(e, HasSubstr("producerRate"));
  EXPECT_THAT(e, HasSubstr("keyDistributor"));
}

}  // namespace
}  // namespace rm::loadtest
