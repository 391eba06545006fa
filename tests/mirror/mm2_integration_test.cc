// Apache Kafka's sample mm2.properties (tests/mirror/mm2/apache-kafka-sample.properties), run as
// is on a two-region testbed named after its clusters A and B, with only the bootstrap servers,
// the offsets directory, test-speed intervals and one named consumer group added: records copy
// both ways exactly once without loops, MM2 heartbeats appear in both regions (and are copied
// onward, never back), and the named group's checkpoints translate to exactly the next record.
// Heartbeats and checkpoints are read and decoded with kafka-python (tests/tools/mm2_read.py),
// not with our code. Also `run --check` on properties files (with Connect transforms).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include "common/kafka_client.h"
#include "testbed/control_client.h"
#include "tests/offsets/offsets_kafka_support.h"
#include "tests/support/mirror_helpers.h"
#include "tests/support/process.h"
#include "tests/support/testbed_fixture.h"
#include "tests/util/test_util.h"

namespace rm::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string SampleFile() {
  return (SourceDir() / "tests" / "mirror" / "mm2" / "apache-kafka-sample.properties").string();
}

// The sample with the testbed's addresses and `extra` lines appended.
std::string SampleFor(const std::string& a, const std::string& b, const std::string& extra) {
  std::string text = ReadFile(SampleFile());
  text = std::regex_replace(text, std::regex("A\\.bootstrap\\.servers = [^\\n]*"),
                            "A.bootstrap.servers = " + a);
  text = std::regex_replace(text, std::regex("B\\.bootstrap\\.servers = [^\\n]*"),
                            "B.bootstrap.servers = " + b);
  return text + "\n# added by the test\n" + extra;
}

std::vector<json> Mm2Read(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/python3",
                                   (SourceDir() / "tests" / "tools" / "mm2_read.py").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = RunCommand(argv, 2min);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::vector<json> out;
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '{') out.push_back(json::parse(line));
  }
  return out;
}

std::set<std::pair<std::string, std::string>> HeartbeatPairs(const std::string& bootstrap,
                                                             const std::string& topic) {
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& h : Mm2Read({"heartbeats", "--bootstrap", bootstrap, "--topic", topic})) {
    pairs.insert(
        {h["sourceClusterAlias"].get<std::string>(), h["targetClusterAlias"].get<std::string>()});
  }
  return pairs;
}

size_t HeartbeatCount(const std::string& bootstrap, const std::string& topic) {
  return Mm2Read({"heartbeats", "--bootstrap", bootstrap, "--topic", topic}).size();
}

bool TopicExists(const std::string& bootstrap, const std::string& topic) {
  // A metadata request for all topics does not auto-create the one we look for.
  auto md = common::Consumer({{"bootstrap.servers", bootstrap}}, nullptr, "md")
                .Metadata(std::nullopt, 5s);
  EXPECT_TRUE(md.ok());
  return md.ok() && md->Find(topic) != nullptr;
}

class Mm2Integration : public ::testing::Test {
 protected:
  void SetUp() override {
    tb_ = std::make_unique<ScopedTestbed>(std::vector<std::string>{"a", "b"});
  }
  void TearDown() override { tb_.reset(); }
  // The testbed's regions are a and b; the file calls their clusters A and B.
  std::string Bootstrap(const std::string& alias) const {
    return tb_->Bootstrap(alias == "A" ? "a" : "b");
  }
  void CreateTopic(const std::string& alias, const std::string& topic, int partitions) {
    tb_->CreateTopic(alias == "A" ? "a" : "b", topic, partitions);
  }
  TempDir tmp_;
  std::unique_ptr<ScopedTestbed> tb_;
};

TEST_F(Mm2Integration, KafkasSampleFileRunsActiveActiveWithHeartbeatsAndExactCheckpoints) {
  const std::string a = Bootstrap("A"), b = Bootstrap("B");
  // The mock cannot create topics: everything the mirror writes is created up front with the
  // partition counts MM2 would give it.
  CreateTopic("A", "orders", 3);
  CreateTopic("B", "A.orders", 3);
  CreateTopic("B", "payments", 3);
  CreateTopic("A", "B.payments", 3);
  for (const std::string r : {"A", "B"}) {
    const std::string other = r == "A" ? "B" : "A";
    CreateTopic(r, "heartbeats", 1);
    CreateTopic(r, other + ".heartbeats", 1);
    CreateTopic(r, other + ".checkpoints.internal", 1);
    CreateTopic(r, "mm2-offset-syncs." + other + ".internal", 1);
  }
  const auto orders = ProduceWithOurClient(a, "orders", MakeRecords(600, 3));
  ProduceWithOurClient(b, "payments", MakeRecords(400, 3, 16, 1'800'000'000'000));

  // The group stopped at these positions on A (next record to read), one at the end.
  const std::map<int32_t, int64_t> committed = {{0, 57}, {1, 200}, {2, 123}};
  std::vector<common::TopicPartition> commits;
  for (auto [p, o] : committed) commits.push_back({"orders", p, o});
  CommitGroupOffsets(a, "orders-app", commits);

  const std::string config = (tmp_.path() / "mm2.properties").string();
  WriteFile(config, SampleFor(a, b,
                              "regionmirror.offsets.dir = " + (tmp_.path() / "offsets").string() +
                                  "\n"
                                  "groups = .*, orders-app\n"
                                  "emit.checkpoints.interval.seconds = 1\n"
                                  "refresh.topics.interval.seconds = 1\n"
                                  "A.consumer.fetch.wait.max.ms = 10\n"
                                  "B.consumer.fetch.wait.max.ms = 10\n" +
                                  fmt::format("A.consumer.session.timeout.ms = {0}\n"
                                              "B.consumer.session.timeout.ms = {0}\n"
                                              "A.consumer.heartbeat.interval.ms = {1}\n"
                                              "B.consumer.heartbeat.interval.ms = {1}\n",
                                              kTestSessionTimeoutMs, kTestHeartbeatIntervalMs)));
  const std::string log = (tmp_.path() / "mirror.log").string();
  ChildProcess mirror({RegionmirrorPath(), "run", "--config", config, "--admin_port", "0"}, log);

  // Records both ways, exactly once.
  EXPECT_EQ(WaitForTotal(b, "A.orders", 600, 120s), 600) << ReadFile(log);
  EXPECT_EQ(WaitForTotal(a, "B.payments", 400, 120s), 400) << ReadFile(log);
  CopyCheck ab = CheckExactCopy(a, "orders", b, "A.orders", "A");
  EXPECT_EQ(ab.target_copies, 600u);
  EXPECT_EQ(ab.lost + ab.duplicated + ab.misplaced + ab.mismatched, 0u) << ab.first_problem;
  CopyCheck ba = CheckExactCopy(b, "payments", a, "B.payments", "B");
  EXPECT_EQ(ba.target_copies, 400u);
  EXPECT_EQ(ba.lost + ba.duplicated + ba.misplaced + ba.mismatched, 0u) << ba.first_problem;

  // Checkpoints of the named group, decoded by kafka-python: each points at the copy of exactly
  // the record the group reads next.
  std::map<int32_t, json> checkpoints;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (checkpoints.size() < committed.size() && std::chrono::steady_clock::now() < deadline) {
    for (const auto& c :
         Mm2Read({"checkpoints", "--bootstrap", b, "--topic", "A.checkpoints.internal"})) {
      const auto partition = c["partition"].get<int32_t>();
      if (c["group"].get<std::string>() == "orders-app" &&
          c["topic"].get<std::string>() == "A.orders" && committed.count(partition) &&
          c["upstreamOffset"].get<int64_t>() == committed.at(partition)) {
        checkpoints[partition] = c;
      }
    }
  }
  ASSERT_EQ(checkpoints.size(), committed.size()) << ReadFile(log);
  for (const auto& [p, c] : checkpoints) {
    const auto upstream = c["upstreamOffset"].get<int64_t>();
    const auto downstream = c["offset"].get<int64_t>();
    if (upstream == 200) {  // the group is at the end: so is its translated position
      EXPECT_EQ(downstream, 200);
      continue;
    }
    auto copy = Mm2Read({"record", "--bootstrap", b, "--topic", "A.orders", "--partition",
                         std::to_string(p), "--offset", std::to_string(downstream)});
    ASSERT_EQ(copy.size(), 1u);
    std::string key;
    for (const auto& r : orders) {
      if (r.partition == p && r.offset == upstream) key = *r.key;
    }
    EXPECT_EQ(copy[0]["k"].get<std::string>(), Hex(key))
        << "partition " << p << " checkpoint " << c.dump();
  }

  // Heartbeats in both regions, in MM2's format, copied onward to the other region.
  const auto deadline_hb = std::chrono::steady_clock::now() + 60s;
  // Each read waits out 2 s of silence, so this loop is paced by the reads themselves.
  while ((HeartbeatCount(b, "A.heartbeats") < 2 || HeartbeatCount(a, "B.heartbeats") < 2) &&
         std::chrono::steady_clock::now() < deadline_hb) {
  }
  using Pair = std::pair<std::string, std::string>;
  EXPECT_EQ(HeartbeatPairs(b, "heartbeats"), (std::set<Pair>{{"A", "B"}}));
  EXPECT_EQ(HeartbeatPairs(a, "heartbeats"), (std::set<Pair>{{"B", "A"}}));
  EXPECT_EQ(HeartbeatPairs(b, "A.heartbeats"), (std::set<Pair>{{"B", "A"}}));
  EXPECT_EQ(HeartbeatPairs(a, "B.heartbeats"), (std::set<Pair>{{"A", "B"}}));
  EXPECT_GE(HeartbeatCount(b, "heartbeats"), 2u);
  EXPECT_GE(HeartbeatCount(a, "heartbeats"), 2u);

  // The heartbeat metrics: a count and the time of the last one, per cluster pair.
  std::smatch m;
  const std::regex admin_re("admin API on http://([0-9.]+:[0-9]+)");
  const std::string started = ReadFile(log);
  ASSERT_TRUE(std::regex_search(started, m, admin_re)) << started;
  const double now_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto metrics = testbed::ControlClient(m[1]).Request("GET", "/metrics", "");
  ASSERT_TRUE(metrics.ok());
  for (const std::string pair : {"source=\"A\",target=\"B\"", "source=\"B\",target=\"A\""}) {
    std::smatch v;
    const std::string& text = metrics->second;
    ASSERT_TRUE(std::regex_search(
        text, v, std::regex("rm_mirror_heartbeats_emitted_total\\{" + pair + "\\} ([0-9.e+]+)")))
        << text;
    EXPECT_GE(std::stod(v[1]), 2.0) << pair;
    ASSERT_TRUE(
        std::regex_search(text, v,
                          std::regex("rm_mirror_heartbeat_last_emitted_timestamp_seconds\\{" +
                                     pair + "\\} ([0-9.e+]+)")))
        << text;
    // Emitted every second while the test read the topics: within the last minute.
    EXPECT_GT(std::stod(v[1]), now_s - 60) << pair;
    EXPECT_LE(std::stod(v[1]), now_s + 1) << pair;
  }

  // No loops: nothing came back under a name of its own origin.
  for (const auto& [region, topic] : std::vector<Pair>{{"A", "B.A.orders"},
                                                       {"B", "A.B.payments"},
                                                       {"A", "A.heartbeats"},
                                                       {"B", "B.heartbeats"},
                                                       {"A", "B.A.heartbeats"},
                                                       {"B", "A.B.heartbeats"}}) {
    EXPECT_FALSE(TopicExists(Bootstrap(region), topic)) << region << " has " << topic;
  }
  mirror.Signal(SIGTERM);
  EXPECT_EQ(mirror.Wait(60s), std::optional<int>(0)) << ReadFile(log);
  EXPECT_EQ(TotalHighWatermark(a, "orders"), 600);
  EXPECT_EQ(TotalHighWatermark(b, "payments"), 400);

  // One warning about groups that cannot be listed on this cluster, one block of keys not
  // applied.
  const std::string text = ReadFile(log);
  EXPECT_NE(text.find("does not list consumer groups"), std::string::npos) << text;
  // offset.storage / status.storage / config.storage.replication.factor: Connect's own topics.
  EXPECT_NE(text.find("3 keys not applied"), std::string::npos) << text;
}

// README, "Migrating from MirrorMaker 2": a flow moved from MM2 onto the remote topics MM2 wrote
// finds none of its own copies there (MM2's carry no provenance header), so it copies the
// source's retained history a second time, also when its consumer group was committed first at
// MM2's positions: a partition whose group says it was copied while the target holds none of the
// flow's copies and deleted none is taken for a target that lost them (mirror/README.md, "A
// target that lost copies"). This pins down what the guide says.
TEST_F(Mm2Integration, FlowMovedFromMm2OntoItsTopicsCopiesTheHistoryAgainDespiteACommittedGroup) {
  const std::string a = Bootstrap("A"), b = Bootstrap("B");
  CreateTopic("A", "orders", 1);
  CreateTopic("B", "A.orders", 1);
  CreateTopic("B", "heartbeats", 1);
  CreateTopic("B", "A.checkpoints.internal", 1);
  CreateTopic("B", "mm2-offset-syncs.A.internal", 1);
  ProduceWithOurClient(a, "orders", MakeRecords(50, 1));
  ProduceWithOurClient(b, "A.orders", MakeRecords(50, 1));  // what MM2 copied: no header of ours
  CommitGroupOffsets(a, "regionmirror.A->B", {{"orders", 0, 50}});  // where MM2 stopped

  const std::string config = (tmp_.path() / "mm2.properties").string();
  WriteFile(config, SampleFor(a, b,
                              "regionmirror.offsets.dir = " + (tmp_.path() / "offsets").string() +
                                  "\n"
                                  "B->A.enabled = false\n"
                                  "emit.heartbeats.enabled = false\n"
                                  "A.consumer.fetch.wait.max.ms = 10\n"));
  const std::string log = (tmp_.path() / "mirror.log").string();
  ChildProcess mirror({RegionmirrorPath(), "run", "--config", config, "--admin_port", "0"}, log);
  EXPECT_EQ(WaitForTotal(b, "A.orders", 100, 60s, 2s), 100) << ReadFile(log);
  mirror.Signal(SIGTERM);
  EXPECT_EQ(mirror.Wait(60s), std::optional<int>(0)) << ReadFile(log);
  EXPECT_NE(ReadFile(log).find("the target lost them; copying again from the source's start"),
            std::string::npos)
      << ReadFile(log);
}

TEST(Mm2Check, PrintsWhatRunsWhatIsDefaultedAndWhatIsNotApplied) {
  CommandResult r =
      RunCommand({RegionmirrorPath(), "run", "--check", "--config", SampleFile(), "--offsets-dir",
                  (std::filesystem::temp_directory_path() / "rm-mm2-check").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* expected :
       {"apache-kafka-sample.properties: OK (2 clusters, 2 flows)", "  A->B\n", "  B->A\n",
        "remote topics: A.<topic>", "groups: .*; excluded: console-consumer-.*, connect-.*, __.*",
        "checkpoints into A.checkpoints.internal on B", "rm-mm2-check (offset syncs",
        "heartbeats: A->B every 1 s (replication factor 1), B->A every 1 s (replication factor 1)",
        "  emit.checkpoints.interval.seconds = 60", "  sync.topic.configs.interval.seconds = 600",
        "topic configs copied and kept in step every 600 s, except follower",
        "internal topics' replication factor: offset syncs 1, checkpoints 1", "3 keys not applied",
        "Kafka Connect's own internal topics"}) {
    EXPECT_NE(r.output.find(expected), std::string::npos) << expected << "\n" << r.output;
  }
}

TEST(Mm2Check, ExitsNonZeroNamingTheProblem) {
  TempDir tmp;
  const std::string bad = (tmp.path() / "bad.properties").string();
  WriteFile(bad,
            "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\n"
            "A->B.enabled = true\noffset-syncs.topic.location = source\n");
  CommandResult r = RunCommand({RegionmirrorPath(), "run", "--check", "--config", bad});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("offset-syncs.topic.location: 'source' is not supported"),
            std::string::npos)
      << r.output;
  // An offsets directory this user cannot create is an error too, before anything runs.
  const std::string good = (tmp.path() / "good.properties").string();
  WriteFile(good,
            "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\n"
            "A->B.enabled = true\n");
  WriteFile(tmp.path() / "file", "");
  r = RunCommand({RegionmirrorPath(), "run", "--check", "--config", good, "--offsets-dir",
                  (tmp.path() / "file" / "offsets").string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("is not a directory"), std::string::npos) << r.output;
}

TEST(Mm2Check, ListsEachFlowsTransformsInOrderAndRefusesOnesThatNeedTheValue) {
  TempDir tmp;
  const std::string head =
      "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\n"
      "A->B.enabled = true\nemit.heartbeats.enabled = false\nemit.checkpoints.enabled = false\n";
  const std::string good = (tmp.path() / "good.properties").string();
  WriteFile(good,
            head +
                "A->B.transforms = dropDebug, origin\n"
                "A->B.transforms.dropDebug.type = org.apache.kafka.connect.transforms.Filter\n"
                "A->B.transforms.dropDebug.predicate = isDebug\n"
                "A->B.transforms.origin.type = "
                "org.apache.kafka.connect.transforms.InsertHeader\n"
                "A->B.transforms.origin.header = origin\n"
                "A->B.transforms.origin.value.literal = A\n"
                "A->B.predicates = isDebug\n"
                "A->B.predicates.isDebug.type = "
                "org.apache.kafka.connect.transforms.predicates.TopicNameMatches\n"
                "A->B.predicates.isDebug.pattern = A\\\\.debug\\\\..*\n");
  CommandResult r = RunCommand({RegionmirrorPath(), "run", "--check", "--config", good,
                                "--offsets-dir", (tmp.path() / "offsets").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("    transforms, in order:\n"
                          "      1. dropDebug: Filter: drop the record, when the remote topic "
                          "matches 'A\\.debug\\..*'\n"
                          "      2. origin: InsertHeader: add header origin = \"A\"\n"),
            std::string::npos)
      << r.output;

  const std::string bad = (tmp.path() / "bad.properties").string();
  WriteFile(bad,
            head +
                "A->B.transforms = pii\n"
                "A->B.transforms.pii.type = org.apache.kafka.connect.transforms.MaskField$Value\n"
                "A->B.transforms.pii.fields = ssn\n");
  r = RunCommand({RegionmirrorPath(), "run", "--check", "--config", bad});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("A->B.transforms.pii.type: "
                          "org.apache.kafka.connect.transforms.MaskField$Value reads or rewrites "
                          "the record's key or value"),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace rm::testing
