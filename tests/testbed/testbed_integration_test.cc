// The testbed, checked with clients no one here wrote (kafka-python, kcat) as well as ours.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/asio.h"
#include "common/kafka_client.h"
#include "testbed/control_client.h"
#include "tests/support/kafka_helpers.h"
#include "tests/support/process.h"
#include "tests/support/testbed_fixture.h"

namespace rm::testing {
namespace {

using namespace std::chrono_literals;

void ExpectSameRecords(const std::vector<Record>& want, const std::vector<Record>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(want[i].partition, got[i].partition) << i;
    EXPECT_EQ(want[i].offset, got[i].offset) << i;
    EXPECT_EQ(want[i].key, got[i].key) << i;
    EXPECT_EQ(want[i].value, got[i].value) << i;
    EXPECT_EQ(want[i].timestamp_ms, got[i].timestamp_ms) << i;
    ASSERT_EQ(want[i].headers.size(), got[i].headers.size()) << i;
    for (size_t h = 0; h < want[i].headers.size(); ++h) {
      EXPECT_EQ(want[i].headers[h].key, got[i].headers[h].key);
      EXPECT_EQ(want[i].headers[h].value, got[i].headers[h].value);
    }
  }
}

std::vector<Record> Sorted(std::vector<Record> rs) {
  std::sort(rs.begin(), rs.end(), [](const Record& a, const Record& b) {
    return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset);
  });
  return rs;
}

class TestbedIntegration : public TestbedTest {};

TEST_F(TestbedIntegration, OurProducerIsReadBackByKafkaPythonInEachRegion) {
  for (const std::string region : {"us-east", "eu-west"}) {
    tb().CreateTopic(region, "orders", 3);
    auto records = MakeRecords(300, 3);
    records[7].key.reset();    // null key
    records[8].value.reset();  // tombstone
    auto written = Sorted(ProduceWithOurClient(Bootstrap(region), "orders", records));
    auto read = ConsumeWithKafkaPython(Bootstrap(region), "orders", written.size());
    ExpectSameRecords(written, read);
  }
}

TEST_F(TestbedIntegration, OurProducerIsReadBackByKcat) {
  tb().CreateTopic("us-east", "kc", 1);
  auto written = ProduceWithOurClient(Bootstrap("us-east"), "kc", MakeRecords(50, 1));
  auto res = RunCommand({"kcat", "-b", Bootstrap("us-east"), "-C", "-t", "kc", "-o", "beginning",
                         "-e", "-q", "-f", "%o %k %s\n"},
                        60s);
  ASSERT_EQ(res.exit_code, 0) << res.output;
  std::istringstream lines(res.output);
  std::string line;
  size_t n = 0;
  while (std::getline(lines, line)) {
    ASSERT_LT(n, written.size());
    EXPECT_EQ(line, fmt::format("{} {} {}", written[n].offset, *written[n].key, *written[n].value));
    ++n;
  }
  EXPECT_EQ(n, written.size());
}

TEST_F(TestbedIntegration, KafkaPythonProducerIsReadBackByOurConsumerInEachRegion) {
  for (const std::string region : {"us-east", "eu-west"}) {
    tb().CreateTopic(region, "payments", 2);
    ProduceWithKafkaPython(Bootstrap(region), "payments", 200, region);
    auto read = ConsumeWithOurClient(Bootstrap(region), "payments", 200);
    ASSERT_EQ(read.size(), 200u);
    std::set<std::string> keys;
    for (const auto& r : read) {
      ASSERT_TRUE(r.key && r.value);
      std::string i = r.key->substr(region.size() + 1);
      EXPECT_EQ(*r.value, region + "-value-" + i);
      ASSERT_EQ(r.headers.size(), 1u);
      EXPECT_EQ(r.headers[0].key, "n");
      EXPECT_EQ(r.headers[0].value, i);
      keys.insert(*r.key);
    }
    EXPECT_EQ(keys.size(), 200u);
  }
}

TEST_F(TestbedIntegration, KcatProducerIsReadBackByOurConsumer) {
  tb().CreateTopic("eu-west", "lines", 1);
  auto res = RunCommand({"kcat", "-b", Bootstrap("eu-west"), "-P", "-t", "lines", "-K", ":"}, 60s,
                        {}, "a:one\nb:two\nc:three\n");
  ASSERT_EQ(res.exit_code, 0) << res.output;
  auto read = ConsumeWithOurClient(Bootstrap("eu-west"), "lines", 3);
  ASSERT_EQ(read.size(), 3u);
  EXPECT_EQ(*read[0].key, "a");
  EXPECT_EQ(*read[0].value, "one");
  EXPECT_EQ(*read[2].key, "c");
  EXPECT_EQ(*read[2].value, "three");
}

TEST_F(TestbedIntegration, PreCreatedSixPartitionTopicShowsSixPartitionsToThirdPartyClients) {
  tb().CreateTopic("us-east", "six", 6);
  EXPECT_EQ(PartitionsSeenByKafkaPython(Bootstrap("us-east"), "six"), 6);
  auto res = RunCommand({"kcat", "-b", Bootstrap("us-east"), "-L", "-t", "six"}, 60s);
  ASSERT_EQ(res.exit_code, 0) << res.output;
  EXPECT_NE(res.output.find("with 6 partitions"), std::string::npos) << res.output;
}

// Median time of a produce + flush of one record.
double MedianProduceMs(const std::string& bootstrap, const std::string& topic) {
  common::Producer p({{"bootstrap.servers", bootstrap}, {"linger.ms", "0"}}, nullptr, "rtt");
  std::vector<double> ms;
  for (int i = 0; i < 7; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    common::ProduceRecord r{topic, 0, std::string_view("k"), std::string_view("v"), 0, {}};
    EXPECT_EQ(p.Produce(r, nullptr), RD_KAFKA_RESP_ERR_NO_ERROR);
    EXPECT_TRUE(p.Flush(10s).ok());
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

TEST_F(TestbedIntegration, RttInjectionRaisesProduceLatency) {
  tb().CreateTopic("us-east", "rtt", 1);
  ASSERT_TRUE(tb().testbed().SetPartitionLeader("us-east", "rtt", 0, 1).ok());
  MedianProduceMs(Bootstrap("us-east"), "rtt");  // warm up connections
  double base = MedianProduceMs(Bootstrap("us-east"), "rtt");
  testbed::ControlClient control(tb().ControlAddress());
  ASSERT_TRUE(control.SetBrokerRtt("us-east", 1, 200).ok());
  double slow = MedianProduceMs(Bootstrap("us-east"), "rtt");
  EXPECT_GT(slow, base + 150) << "base " << base << " ms, with 200 ms RTT " << slow << " ms";
  ASSERT_TRUE(control.SetBrokerRtt("us-east", 1, 0).ok());
  EXPECT_LT(MedianProduceMs(Bootstrap("us-east"), "rtt"), slow - 150);
}

TEST_F(TestbedIntegration, BrokerDownCausesErrorsThatClearWhenItComesBack) {
  tb().CreateTopic("us-east", "down", 1);
  ASSERT_TRUE(tb().testbed().SetPartitionLeader("us-east", "down", 0, 2).ok());
  testbed::ControlClient control(tb().ControlAddress());
  ASSERT_TRUE(control.SetBrokerDown("us-east", 2).ok());
  {
    std::atomic<int> errors{0};
    common::Producer p(
        {{"bootstrap.servers", Bootstrap("us-east")}, {"message.timeout.ms", "2000"}},
        [&](const rd_kafka_message_t& m) {
          if (m.err) ++errors;
        },
        "down");
    common::ProduceRecord r{"down", 0, std::string_view("k"), std::string_view("v"), 0, {}};
    ASSERT_EQ(p.Produce(r, nullptr), RD_KAFKA_RESP_ERR_NO_ERROR);
    EXPECT_FALSE(p.Flush(10s).ok() && errors == 0);
    EXPECT_EQ(errors.load(), 1);
  }
  ASSERT_TRUE(control.SetBrokerUp("us-east", 2).ok());
  auto written = ProduceWithOurClient(Bootstrap("us-east"), "down", MakeRecords(5, 1));
  EXPECT_EQ(ConsumeWithOurClient(Bootstrap("us-east"), "down", 5).size(), 5u);
}

// While a broker is down any socket may take its port (an outgoing connection's ephemeral
// port); the mock binds the port again on up and, in librdkafka 2.0.2, aborts the process when
// it cannot. SetBrokerUp waits until the port is free instead (this test aborted before).
TEST_F(TestbedIntegration, BrokerUpWaitsForItsPortWhileAnotherSocketHoldsIt) {
  tb().CreateTopic("us-east", "busy", 1);
  ASSERT_TRUE(tb().testbed().SetPartitionLeader("us-east", "busy", 0, 2).ok());
  ASSERT_TRUE(tb().testbed().SetBrokerDown("us-east", 2).ok());
  const std::string bootstrap = Bootstrap("us-east");
  const std::string second = bootstrap.substr(bootstrap.find(',') + 1);
  const std::string address = second.substr(0, second.find(','));
  namespace ip = boost::asio::ip;
  boost::asio::io_context io;
  ip::tcp::acceptor holder(io);
  const ip::tcp::endpoint endpoint(ip::make_address(address.substr(0, address.rfind(':'))),
                                   std::stoi(address.substr(address.rfind(':') + 1)));
  holder.open(endpoint.protocol());
  holder.set_option(ip::tcp::acceptor::reuse_address(true));
  holder.bind(endpoint);
  holder.listen();
  std::atomic<bool> released{false};
  std::thread release([&] {
    std::this_thread::sleep_for(500ms);
    released = true;
    holder.close();
  });
  EXPECT_TRUE(tb().testbed().SetBrokerUp("us-east", 2).ok());
  EXPECT_TRUE(released.load()) << "brought up while the port was taken";
  release.join();
  ProduceWithOurClient(bootstrap, "busy", MakeRecords(5, 1));
  EXPECT_EQ(ConsumeWithOurClient(bootstrap, "busy", 5).size(), 5u);
}

// The mock checks an idempotent producer's sequence numbers only when the producer is
// transactional (librdkafka 2.0.2, rdkafka_mock.c rd_kafka_mock_validate_records), so a produce
// it appended but whose response it never sent is appended again when the client retries it:
// duplicates a real broker would refuse. Setting a broker down dropped every response still
// waiting out the broker's RTT; the testbed now sends them before it closes the connections.
TEST_F(TestbedIntegration, BrokerDownFirstSendsTheResponsesItOwesSoRetriesDoNotDuplicate) {
  tb().CreateTopic("us-east", "owed", 1);
  ASSERT_TRUE(tb().testbed().SetPartitionLeader("us-east", "owed", 0, 1).ok());
  testbed::ControlClient control(tb().ControlAddress());
  std::atomic<int> delivered{0};
  std::atomic<int> failed{0};
  common::Producer p(
      {{"bootstrap.servers", Bootstrap("us-east")},
       {"enable.idempotence", "true"},
       {"linger.ms", "2"}},
      [&](const rd_kafka_message_t& m) {
        if (m.err) ++failed;
        ++delivered;
      },
      "owed");
  constexpr int kRecords = 3000;
  std::vector<std::string> values;
  for (int i = 0; i < kRecords; ++i) values.push_back(fmt::format("v{}", i));
  auto produce = [&](int i) {
    common::ProduceRecord r{"owed", 0, std::string_view("k"), std::string_view(values[i]), 0, {}};
    while (p.Produce(r, nullptr) == RD_KAFKA_RESP_ERR__QUEUE_FULL) p.Poll(10ms);
  };
  produce(0);  // connected before the RTT slows every request down
  ASSERT_TRUE(p.Flush(10s).ok());
  ASSERT_TRUE(control.SetBrokerRtt("us-east", 1, 400).ok());
  bool went_down = false;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1; i < kRecords; ++i) {
    std::this_thread::sleep_until(start + i * 1ms);  // 1,000 records a second
    produce(i);
    p.Poll(0ms);
    if (!went_down && delivered >= 500) {
      // Every produce sent in the last 400 ms is appended and its response not yet sent.
      ASSERT_GT(p.OutstandingCount(), 0);
      ASSERT_TRUE(control.SetBrokerDown("us-east", 1).ok());
      std::this_thread::sleep_for(300ms);
      ASSERT_TRUE(control.SetBrokerUp("us-east", 1).ok());
      ASSERT_TRUE(control.SetBrokerRtt("us-east", 1, 0).ok());
      went_down = true;
    }
  }
  ASSERT_TRUE(p.Flush(60s).ok());
  ASSERT_TRUE(went_down);
  EXPECT_EQ(failed.load(), 0);
  const auto got = ConsumeWholeTopic(Bootstrap("us-east"), "owed", 1);
  std::map<std::string, int> seen;
  for (const auto& r : got) ++seen[r.value.value_or("")];
  int duplicated = 0;
  for (const auto& [value, n] : seen) duplicated += n - 1;
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRecords));
  EXPECT_EQ(duplicated, 0) << got.size() << " records read for " << kRecords << " produced";
}

// What keeps the mirror from fencing an instance paused longer than session.timeout.ms +
// takeover_wait_ms (mirror/README.md, "Fencing a paused instance"): against Kafka, a second
// producer with the same transactional.id bumps the epoch and the first one's commit fails as
// fenced. The mock (librdkafka 2.0.2) gives the second one a new producer id instead, so both
// commit. If this test fails, the testbed's librdkafka fences, and the mirror's transactional
// fence can be built and tested.
TEST_F(TestbedIntegration, TheMockDoesNotFenceAnOlderProducerWithTheSameTransactionalId) {
  tb().CreateTopic("us-east", "fence", 1);
  auto make = [&](const char* name) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (auto [k, v] : {std::pair{"bootstrap.servers", Bootstrap("us-east")},
                        std::pair{"transactional.id", std::string("same-id")}}) {
      EXPECT_EQ(rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof(err)), RD_KAFKA_CONF_OK) << err;
    }
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    EXPECT_NE(rk, nullptr) << name << ": " << err;
    return std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)>(rk, &rd_kafka_destroy);
  };
  auto ok = [](rd_kafka_error_t* e) {
    std::string what = e ? rd_kafka_error_string(e) : "";
    if (e) rd_kafka_error_destroy(e);
    return what;
  };
  auto old_producer = make("old");
  ASSERT_EQ(ok(rd_kafka_init_transactions(old_producer.get(), 30000)), "");
  ASSERT_EQ(ok(rd_kafka_begin_transaction(old_producer.get())), "");
  auto new_producer = make("new");  // the instance that took over, same transactional.id
  ASSERT_EQ(ok(rd_kafka_init_transactions(new_producer.get(), 30000)), "");
  ASSERT_EQ(ok(rd_kafka_begin_transaction(new_producer.get())), "");
  for (auto* rk : {old_producer.get(), new_producer.get()}) {
    ASSERT_EQ(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("fence"), RD_KAFKA_V_PARTITION(0),
                                RD_KAFKA_V_VALUE(const_cast<char*>("v"), 1), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  // Kafka: "Producer fenced by newer instance". The mock: committed.
  EXPECT_EQ(ok(rd_kafka_commit_transaction(old_producer.get(), 30000)), "");
  EXPECT_EQ(ok(rd_kafka_commit_transaction(new_producer.get(), 30000)), "");
  EXPECT_EQ(ConsumeWholeTopic(Bootstrap("us-east"), "fence", 1).size(), 2u);
}

TEST_F(TestbedIntegration, PushedRequestErrorsReachTheClient) {
  tb().CreateTopic("us-east", "errs", 1);
  testbed::ControlClient control(tb().ControlAddress());
  ASSERT_TRUE(control.PushRequestErrors("us-east", "Produce", {"MSG_SIZE_TOO_LARGE"}).ok());
  std::atomic<int> pushed_errors{0};
  common::Producer p(
      {{"bootstrap.servers", Bootstrap("us-east")}},
      [&](const rd_kafka_message_t& m) {
        if (m.err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) ++pushed_errors;
      },
      "errs");
  common::ProduceRecord r{"errs", 0, std::string_view("k"), std::string_view("v"), 0, {}};
  ASSERT_EQ(p.Produce(r, nullptr), RD_KAFKA_RESP_ERR_NO_ERROR);
  p.Flush(10s).PermitUnchecked();
  EXPECT_EQ(pushed_errors.load(), 1);
  // The error was used up: the next record goes through.
  ASSERT_EQ(p.Produce(r, nullptr), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_TRUE(p.Flush(10s).ok());
  EXPECT_EQ(pushed_errors.load(), 1);
}

TEST_F(TestbedIntegration, ControlApiRejectsBadInputClearly) {
  testbed::ControlClient control(tb().ControlAddress());
  auto st = control.CreateTopic("mars-1", "t", 3);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "http.404");
  EXPECT_NE(st.error().message.find("unknown region 'mars-1'"), std::string::npos);
  EXPECT_NE(st.error().message.find("us-east"), std::string::npos);

  auto raw = control.Request("POST", "/v1/topics", "{not json");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->first, 400);
  EXPECT_NE(raw->second.find("malformed JSON"), std::string::npos);

  raw = control.Request("POST", "/v1/topics", R"({"region":"us-east","topic":"t"})");
  EXPECT_EQ(raw->first, 400);
  EXPECT_NE(raw->second.find("missing field 'partitions'"), std::string::npos) << raw->second;

  raw = control.Request("POST", "/v1/brokers/down", R"({"region":"us-east","broker":9})");
  EXPECT_EQ(raw->first, 404);
  EXPECT_NE(raw->second.find("no broker 9"), std::string::npos) << raw->second;

  raw = control.Request("POST", "/v1/errors", R"({"region":"us-east","api":"Nope","errors":[]})");
  EXPECT_EQ(raw->first, 400);

  ASSERT_TRUE(control.CreateTopic("us-east", "dup", 1).ok());
  st = control.CreateTopic("us-east", "dup", 1);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "http.409");
  // Still serving after all that.
  EXPECT_TRUE(control.Endpoints().ok());
}

// ---------------------------------------------------------------------------------------------
// The CLI mode, as scripts use it.

TEST(TestbedCli, RunsACommandWithTheTestbedUpAndLeavesNothingBehind) {
  TempDir tmp;
  std::string ep = (tmp / "ep.json").string();
  std::string script =
      "python3 -c \"import json,os; d=json.load(open(os.environ['RM_TESTBED_ENDPOINTS'])); "
      "print(sorted(d['regions']), d['control'])\"; echo parent=$PPID";
  auto res = RunCommand({RegionmirrorPath(), "testbed", "--regions", "r1,r2,r3", "--brokers", "1",
                         "--endpoints", ep, "--topics", "r1:t:6", "--", "bash", "-c", script},
                        60s);
  EXPECT_EQ(res.exit_code, 0) << res.output;
  EXPECT_NE(res.output.find("['r1', 'r2', 'r3'] 127.0.0.1:"), std::string::npos) << res.output;
  EXPECT_FALSE(std::filesystem::exists(ep));
  auto pos = res.output.find("parent=");
  ASSERT_NE(pos, std::string::npos);
  pid_t parent = std::stoi(res.output.substr(pos + 7));
  EXPECT_TRUE(ProcessGone(parent));
}

TEST(TestbedCli, PassesOnTheCommandsExitCode) {
  auto res = RunCommand({RegionmirrorPath(), "testbed", "--regions", "a", "--brokers", "1", "--",
                         "bash", "-c", "exit 7"},
                        60s);
  EXPECT_EQ(res.exit_code, 7) << res.output;
}

TEST(TestbedCli, StopsCleanlyOnSigterm) {
  TempDir tmp;
  std::string ep = (tmp / "ep.json").string();
  ChildProcess child({RegionmirrorPath(), "testbed", "--regions", "us-east", "--endpoints", ep},
                     (tmp / "log").string());
  for (int i = 0; i < 200 && !std::filesystem::exists(ep); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(std::filesystem::exists(ep)) << ReadFile(tmp / "log");
  auto client = testbed::ControlClient::FromEndpointsFile(ep);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->CreateTopic("us-east", "x", 2).ok());
  child.Signal(SIGTERM);
  auto rc = child.Wait(20s);
  ASSERT_TRUE(rc.has_value()) << "testbed did not stop on SIGTERM";
  EXPECT_EQ(*rc, 0) << ReadFile(tmp / "log");
  EXPECT_FALSE(std::filesystem::exists(ep));
}

TEST(TestbedCli, UnknownRegionAndBadNamesAreClearErrors) {
  auto res = RunCommand(
      {RegionmirrorPath(), "testbed", "--regions", "us-east,Bad Name", "--", "true"}, 30s);
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.output.find("bad region name 'Bad Name'"), std::string::npos) << res.output;

  res = RunCommand({RegionmirrorPath(), "testbed", "--regions", "us-east", "--topics",
                    "eu-west:t:3", "--", "true"},
                   30s);
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.output.find("unknown region 'eu-west'"), std::string::npos) << res.output;

  res = RunCommand({RegionmirrorPath(), "testbed", "--bogus"}, 30s);
  EXPECT_EQ(res.exit_code, 2);
  EXPECT_NE(res.output.find("unknown flag --bogus"), std::string::npos) << res.output;
}

TEST(TestbedCli, ControlPortAlreadyTakenIsAClearError) {
  common::HttpServer taken({});
  auto res = RunCommand({RegionmirrorPath(), "testbed", "--regions", "a", "--control_port",
                         std::to_string(taken.port()), "--", "true"},
                        30s);
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.output.find("cannot listen on 127.0.0.1:" + std::to_string(taken.port())),
            std::string::npos)
      << res.output;
}

}  // namespace
}  // namespace rm::testing
