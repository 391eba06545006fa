// `regionmirror run --topology` against a two-region testbed: residency enforced in the data
// path (issue 13, scenario 5), local reads through a region outage with GET /topology/route
// (scenario 3), and the start-up errors of a bad topology or scope.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <regex>
#include <thread>

#include "common/kafka_client.h"
#include "testbed/control_client.h"
#include "tests/support/kafka_helpers.h"
#include "tests/support/mirror_helpers.h"
#include "tests/support/process.h"
#include "tests/support/testbed_fixture.h"

namespace rm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// The regionmirror process of a test: `run` with `args`, its log in `dir`.
class RunProcess {
 public:
  RunProcess(std::vector<std::string> args, const std::string& dir) : log_(dir + "/run.log") {
    args.insert(args.begin(), {RegionmirrorPath(), "run"});
    child_ = std::make_unique<ChildProcess>(args, log_);
  }
  std::string Log() const { return ReadFile(log_); }
  // The admin API's address once it is up ("" if it is not within 30 s).
  std::string AwaitAdmin() const {
    static const std::regex re("admin API on http://([0-9.]+:[0-9]+)");
    for (auto deadline = std::chrono::steady_clock::now() + 30s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
      std::smatch m;
      std::string log = Log();
      if (std::regex_search(log, m, re)) return m[1];
    }
    return "";
  }
  int Stop() {
    child_->Signal(SIGTERM);
    return child_->Wait(60s).value_or(-1);
  }

 private:
  std::string log_;
  std::unique_ptr<ChildProcess> child_;
};

std::pair<int, std::string> Get(const std::string& address, const std::string& target) {
  auto r = testbed::ControlClient(address).Request("GET", target, "");
  if (!r.ok()) return {-1, r.error().message};
  return *r;
}

// The value of one sample of /metrics ("name{labels}"), -1 when absent.
double Metric(const std::string& address, const std::string& sample) {
  auto [status, body] = Get(address, "/metrics");
  if (status != 200) return -1;
  auto at = body.find(sample + " ");
  if (at == std::string::npos) return -1;
  return std::stod(body.substr(at + sample.size() + 1));
}

bool Await(const std::function<bool()>& done, std::chrono::milliseconds timeout = 60s) {
  for (auto deadline = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
    if (done()) return true;
  }
  return done();
}

class RunTopology : public TestbedTest {
 protected:
  std::string Regions() {
    return fmt::format(R"(
health: {{probe_interval_ms: 500, max_lag_ms: 30000}}
regions:
  - name: us-east
    zones: [use1-az1]
    clusters:
      - alias: us-east
        bootstrap_servers: "{}"
  - name: eu-west
    zones: [euw1-az1]
    clusters:
      - alias: eu-west
        bootstrap_servers: "{}"
links:
  - regions: [us-east, eu-west]
    rtt_ms: 80
mirror:
  refresh_interval_ms: 1000
  commit_interval_ms: 300
  drain_timeout_ms: 20000
  consumer: {}
)",
                       Bootstrap("us-east"), Bootstrap("eu-west"), TestConsumerYaml());
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (tmp_ / name).string();
    WriteFile(path, text);
    return path;
  }
  nlohmann::json Route(const std::string& admin, const std::string& topic,
                       const std::string& region) {
    auto [status, body] =
        Get(admin, fmt::format("/topology/route?topic={}&region={}", topic, region));
    if (status != 200) return nlohmann::json{{"status", status}, {"body", body}};
    return nlohmann::json::parse(body);
  }
  // Every broker of `region` down (or up) through the testbed's control API.
  void SetRegion(const std::string& region, bool up) {
    testbed::ControlClient control(tb().ControlAddress());
    for (int32_t b = 1; b <= 3; ++b) {  // the fixture's 3 brokers per region
      auto st = up ? control.SetBrokerUp(region, b) : control.SetBrokerDown(region, b);
      ASSERT_TRUE(st.ok()) << st.error().message;
    }
  }
};

// Scenario 5: personal data whose rule allows only eu-* regions is never copied to us-east,
// even by a hand-written flow whose regex (".*") matches it; the flow's other topics are.
TEST_F(RunTopology, ResidencyStopsAHandWrittenFlowFromCopyingPersonalDataOutOfTheEu) {
  const std::string topo = Write("topology.yaml", Regions() + R"(
topics:
  - pattern: 'pii\..*'
    home: eu-west
    allowed_regions: [eu-*]
  - pattern: '.*'
    home: eu-west
    replicate_to: [us-east]
)");
  MirrorSpec spec;
  spec.clusters = {{"us-east", Bootstrap("us-east")}, {"eu-west", Bootstrap("eu-west")}};
  spec.flows = {{"eu-west", "us-east", {".*"}}};
  const std::string config = Write("mirror.yaml", MirrorYaml(spec));

  tb().CreateTopic("eu-west", "pii.users", 2);
  tb().CreateTopic("eu-west", "orders", 2);
  tb().CreateTopic("us-east", "eu-west.orders", 2);
  ProduceWithOurClient(Bootstrap("eu-west"), "pii.users", MakeRecords(200, 2));
  ProduceWithOurClient(Bootstrap("eu-west"), "orders", MakeRecords(300, 2));

  RunProcess run({"--config", config, "--topology", topo}, tmp_.path());
  const std::string admin = run.AwaitAdmin();
  ASSERT_FALSE(admin.empty()) << run.Log();
  ASSERT_EQ(WaitForTotal(Bootstrap("us-east"), "eu-west.orders", 300, 60s), 300) << run.Log();

  // Every personal record was read, refused and counted; none produced.
  const std::string sample =
      R"(rm_mirror_residency_refused_total{flow="eu-west->us-east",topic="pii.users"})";
  EXPECT_TRUE(Await([&] { return Metric(admin, sample) == 200; })) << Metric(admin, sample) << "\n"
                                                                   << run.Log();
  auto md = common::Consumer({{"bootstrap.servers", Bootstrap("us-east")}}, nullptr, "md")
                .Metadata(std::nullopt, 5s);
  ASSERT_TRUE(md.ok());
  EXPECT_EQ(md->Find("eu-west.pii.users"), nullptr) << "not even an empty remote topic";
  // Health says so, naming topic, rule and region; so does the log.
  auto [status, health] = Get(admin, "/healthz");
  EXPECT_EQ(status, 503);
  EXPECT_THAT(health, HasSubstr("topic 'pii.users' may not be copied to us-east: topics[0]"));
  EXPECT_THAT(run.Log(), HasSubstr("topic 'pii.users' may not be copied to us-east: topics[0] "
                                   "(pattern 'pii\\..*', line"));
  // Records that arrive later are refused too.
  ProduceWithOurClient(Bootstrap("eu-west"), "pii.users", MakeRecords(50, 2));
  EXPECT_TRUE(Await([&] { return Metric(admin, sample) == 250; })) << run.Log();
  EXPECT_EQ(run.Stop(), 0) << run.Log();

  // The position moved past the refused records (they are deliberately never copied): a
  // restart does not read them again.
  common::Consumer group(
      {{"bootstrap.servers", Bootstrap("eu-west")}, {"group.id", "regionmirror.eu-west->us-east"}},
      nullptr, "committed");
  auto committed = group.Committed({{"pii.users", 0, 0}, {"pii.users", 1, 0}}, 10s);
  ASSERT_TRUE(committed.ok()) << committed.error().message;
  int64_t total = 0;
  for (const auto& tp : *committed) total += tp.offset;
  EXPECT_EQ(total, 250);
}

// Scenario 5, the other half: a file asking for a copy outside allowed_regions never runs.
TEST_F(RunTopology, RefusesToStartFromAFileThatAsksForACopyOutsideAllowedRegions) {
  const std::string topo = Write("bad.yaml", Regions() + R"(
topics:
  - pattern: 'pii\..*'
    home: eu-west
    replicate_to: ["*"]
    allowed_regions: [eu-*]
)");
  auto r = RunCommand({RegionmirrorPath(), "run", "--topology", topo, "--pair", "us-east:eu-west",
                       "--admin_port", "-1"},
                      60s);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("topics[0].replicate_to[0]: '*' reaches us-east"));
}

TEST_F(RunTopology, StartupErrorsNameTheFileOrTheScope) {
  const std::string topo = Write("t.yaml", Regions() +
                                               "topics:\n  - topic: orders\n    home: us-east\n"
                                               "    replicate_to: [eu-west]\n");
  auto run = [](std::vector<std::string> args) {
    args.insert(args.begin(), {RegionmirrorPath(), "run"});
    return RunCommand(args, 60s);
  };
  auto missing = run({"--topology", (tmp_ / "nope.yaml").string(), "--pair", "a:b"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.output, HasSubstr("nope.yaml"));
  auto mars = run({"--topology", topo, "--region", "mars"});
  EXPECT_EQ(mars.exit_code, 1);
  EXPECT_THAT(mars.output, HasSubstr("unknown region 'mars'"));
  auto no_scope = run({"--topology", topo});
  EXPECT_EQ(no_scope.exit_code, 1);
  EXPECT_THAT(no_scope.output, HasSubstr("give --pair A:B"));
  auto bad_pair = run({"--topology", topo, "--pair", "us-east"});
  EXPECT_EQ(bad_pair.exit_code, 1);
  EXPECT_THAT(bad_pair.output, HasSubstr("--pair 'us-east' is not A:B"));
  // --check: the planned flows load, nothing runs.
  auto check = run({"--topology", topo, "--pair", "us-east:eu-west", "--check"});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_THAT(check.output, HasSubstr("OK (2 clusters, 1 flows)"));
  // --region: the flows into it; none into us-east here.
  auto into = run({"--topology", topo, "--region", "eu-west", "--check"});
  EXPECT_EQ(into.exit_code, 0) << into.output;
  EXPECT_THAT(into.output, HasSubstr("OK (2 clusters, 1 flows)"));
  auto none = run({"--topology", topo, "--region", "us-east", "--check"});
  EXPECT_EQ(none.exit_code, 1) << none.output;
  EXPECT_THAT(none.output, HasSubstr("the plan into us-east has no flow"));
  auto both = run({"--topology", topo, "--config", topo, "--pair", "us-east:eu-west"});
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_THAT(both.output, HasSubstr("with --config the flows are the file's"));
}

// Scenario 3: clients of each region resolve through GET /topology/route and read their local
// copy while the other region is down; the dead region is demoted, and promoted when back.
TEST_F(RunTopology, LocalReadsContinueThroughAnOutageOfTheOtherRegion) {
  const std::string topo = Write("topology.yaml", Regions() + R"(
topics:
  - topic: orders
    home: us-east
    replicate_to: [eu-west]
  - topic: events
    home: eu-west
    replicate_to: [us-east]
)");
  tb().CreateTopic("us-east", "orders", 2);
  tb().CreateTopic("eu-west", "us-east.orders", 2);
  tb().CreateTopic("eu-west", "events", 2);
  tb().CreateTopic("us-east", "eu-west.events", 2);
  ProduceWithOurClient(Bootstrap("us-east"), "orders", MakeRecords(150, 2));
  ProduceWithOurClient(Bootstrap("eu-west"), "events", MakeRecords(120, 2));

  RunProcess run({"--topology", topo, "--pair", "us-east:eu-west", "--admin_port", "0"},
                 tmp_.path());
  const std::string admin = run.AwaitAdmin();
  ASSERT_FALSE(admin.empty()) << run.Log();
  ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.orders", 150, 60s), 150) << run.Log();
  ASSERT_EQ(WaitForTotal(Bootstrap("us-east"), "eu-west.events", 120, 60s), 120) << run.Log();

  // Bad requests are answered, not guessed at.
  EXPECT_EQ(Get(admin, "/topology/route?region=eu-west").first, 400);
  EXPECT_EQ(Get(admin, "/topology/route?topic=orders").first, 400);
  EXPECT_EQ(Get(admin, "/topology/route?topic=orders&region=eu-west&bogus=1").first, 400);
  auto mars = Get(admin, "/topology/route?topic=orders&region=mars");
  EXPECT_EQ(mars.first, 404);
  EXPECT_THAT(mars.second, HasSubstr("unknown region 'mars'"));
  EXPECT_EQ(Get(admin, "/topology/route?topic=nothing&region=eu-west").first, 404);

  // Reads where the client is, from what the route says; the same answer as the CLI.
  auto read_first = [&](const std::string& topic, const std::string& region) -> size_t {
    auto route = Route(admin, topic, region);
    if (!route.contains("candidates")) {
      ADD_FAILURE() << route.dump();
      return 0;
    }
    const auto& c = route["candidates"][0];
    return ConsumeWholeTopic(c["bootstrap_servers"], c["topic"], 2).size();
  };
  // The mirror reports each copy's lag into the health model: caught up, 0.
  EXPECT_TRUE(Await([&] {
    auto r = Route(admin, "orders", "eu-west");
    return r.contains("candidates") && r["candidates"][0]["lag_ms"] == 0;
  })) << Route(admin, "orders", "eu-west").dump();
  auto local = Route(admin, "orders", "eu-west");
  ASSERT_TRUE(local.contains("candidates")) << local.dump();
  EXPECT_EQ(local["candidates"][0]["region"], "eu-west");
  EXPECT_EQ(local["candidates"][0]["topic"], "us-east.orders");
  EXPECT_EQ(local["candidates"][0]["bootstrap_servers"], Bootstrap("eu-west"));
  auto cli = RunCommand({RegionmirrorPath(), "topology", "resolve", topo, "--topic", "orders",
                         "--region", "eu-west", "--json"});
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  auto cli_route = nlohmann::json::parse(cli.output);
  for (auto* j : {&local, &cli_route}) {
    for (auto& c : (*j)["candidates"]) c.erase("lag_ms");  // measured by the mirror only
  }
  EXPECT_EQ(local, cli_route);
  EXPECT_EQ(read_first("orders", "eu-west"), 150u);
  EXPECT_EQ(read_first("events", "us-east"), 120u);

  // us-east goes down: eu-west's clients keep reading locally; us-east's clients are sent to
  // eu-west, its region demoted.
  const auto down_at = std::chrono::steady_clock::now();
  SetRegion("us-east", false);
  ASSERT_TRUE(Await([&] {
    auto r = Route(admin, "orders", "us-east");
    return r.contains("candidates") && r["candidates"][0]["region"] == "eu-west";
  })) << Route(admin, "orders", "us-east").dump()
      << run.Log();
  const auto demoted_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - down_at)
                              .count();
  fmt::print("us-east demoted {} ms after its brokers went down (probe interval 500 ms)\n",
             demoted_ms);
  auto during = Route(admin, "orders", "us-east");
  EXPECT_FALSE(during["candidates"][1]["healthy"].get<bool>());
  EXPECT_THAT(during["candidates"][1]["why"].get<std::string>(),
              HasSubstr("demoted: cluster us-east probe failed"));
  auto eu = Route(admin, "orders", "eu-west");
  EXPECT_EQ(eu["candidates"][0]["region"], "eu-west");
  EXPECT_TRUE(eu["candidates"][0]["healthy"].get<bool>());
  EXPECT_EQ(read_first("orders", "eu-west"), 150u);
  EXPECT_EQ(read_first("orders", "us-east"), 150u);  // through eu-west's copy
  EXPECT_EQ(read_first("events", "us-east"), 120u);  // its home, eu-west

  // Back up: promoted again.
  SetRegion("us-east", true);
  EXPECT_TRUE(Await([&] {
    auto r = Route(admin, "orders", "us-east");
    return r.contains("candidates") && r["candidates"][0]["region"] == "us-east" &&
           r["candidates"][0]["healthy"] == true;
  })) << Route(admin, "orders", "us-east").dump();
  EXPECT_EQ(run.Stop(), 0) << run.Log();
}

}  // namespace
}  // namespace rm::testing
