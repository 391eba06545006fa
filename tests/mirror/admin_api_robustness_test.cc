// The mirror's admin API against hostile requests (issue 15): before, one "GET /healthz?%zz"
// threw outside any handler and the whole mirror died with SIGABRT.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/mirror_helpers.h"
#include "tests/support/testbed_fixture.h"
#include "tests/util/raw_http.h"

namespace rm::testing {
namespace {

using namespace std::chrono_literals;

class AdminApiRobustness : public TestbedTest {};

std::string WaitForAdmin(MirrorProcess& mirror) {
  for (auto deadline = std::chrono::steady_clock::now() + 60s;
       std::chrono::steady_clock::now() < deadline && mirror.running();
       std::this_thread::sleep_for(50ms)) {
    if (auto a = mirror.AdminAddress(); !a.empty()) return a;
  }
  return "";
}

TEST_F(AdminApiRobustness, MalformedRequestsAre400AndTheMirrorLivesOn) {
  // Given a running mirror with offsets (so the expensive /offsets routes exist)
  tb().CreateTopic("us-east", "t", 1);
  tb().CreateTopic("eu-west", "us-east.t", 1);
  MirrorSpec spec;
  spec.clusters = {{"us-east", Bootstrap("us-east")}, {"eu-west", Bootstrap("eu-west")}};
  spec.flows = {{"us-east", "eu-west", {"t"}}};
  spec.offsets_dir = (tmp_.path() / "offsets").string();
  MirrorProcess mirror(spec, tmp_.path());
  const std::string admin = WaitForAdmin(mirror);
  ASSERT_FALSE(admin.empty()) << mirror.Log();

  // When clients send malformed requests, cheap and expensive routes alike
  for (const std::string& bytes :
       {Get("/healthz?%zz"), Get("/metrics?a=%"), Get("/offsets/translate?group=%zz"),
        Get("/offsets/dump?limit=%G0"), std::string("GARBAGE\r\n\r\n"),
        std::string("GET /healthz HTTP/1.1\r\nHost x\r\n\r\n")}) {
    auto a = RawRequest(admin, bytes);
    // Then each gets a 400 with a JSON error
    EXPECT_EQ(a.status, 400) << bytes << ": " << a.error << a.body;
    auto j = nlohmann::json::parse(a.body, nullptr, false);
    EXPECT_TRUE(!j.is_discarded() && j.contains("error")) << a.body;
  }
  // And the mirror is still running and serving, the expensive routes on their worker pool
  EXPECT_TRUE(mirror.running()) << mirror.Log();
  auto health = RawRequest(admin, Get("/healthz"));
  EXPECT_TRUE(health.status == 200 || health.status == 503) << health.error;
  EXPECT_EQ(RawRequest(admin, Get("/metrics")).status, 200);
  EXPECT_EQ(RawRequest(admin, Get("/offsets/dump?limit=5")).status, 200);
  auto no_group = RawRequest(admin, Get("/offsets/translate"));
  EXPECT_EQ(no_group.status, 400) << no_group.body;
  EXPECT_NE(no_group.body.find("group parameter is required"), std::string::npos);
  EXPECT_EQ(mirror.Stop(), 0) << mirror.Log();
}

}  // namespace
}  // namespace rm::testing
