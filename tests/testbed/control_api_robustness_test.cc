// The testbed's control API (it shares the admin HTTP server) against hostile requests, in the
// `regionmirror testbed` process: a bad request is answered 400 and the process lives on.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <thread>

#include "testbed/control_client.h"
#include "tests/support/process.h"
#include "tests/util/raw_http.h"
#include "tests/util/test_util.h"

namespace rm::testing {
namespace {

using namespace std::chrono_literals;

TEST(ControlApiRobustness, MalformedRequestsAre400AndTheTestbedLivesOn) {
  // Given a testbed process
  TempDir tmp;
  std::string ep = (tmp / "ep.json").string();
  ChildProcess child(
      {RegionmirrorPath(), "testbed", "--regions", "us-east", "--brokers", "1", "--endpoints", ep},
      (tmp / "log").string());
  for (int i = 0; i < 400 && !std::filesystem::exists(ep); ++i) std::this_thread::sleep_for(50ms);
  auto client = testbed::ControlClient::FromEndpointsFile(ep);
  ASSERT_TRUE(client.ok()) << ReadFile(tmp / "log");
  auto endpoints = client->Endpoints();
  ASSERT_TRUE(endpoints.ok());
  const std::string control = (*endpoints)["control"].get<std::string>();

  // When its control API gets malformed requests
  for (const std::string& bytes :
       {Get("/v1/endpoints?%zz"), std::string("POST /v1/topics?x=%1 HTTP/1.1\r\n\r\n"),
        std::string("GARBAGE\r\n\r\n"),
        std::string("POST /v1/topics HTTP/1.1\r\nContent-Length: nope\r\n\r\n")}) {
    // Then each is answered 400
    auto a = RawRequest(control, bytes);
    EXPECT_EQ(a.status, 400) << bytes << ": " << a.error << a.body;
  }
  // And the testbed still serves and stops cleanly
  EXPECT_TRUE(child.running());
  ASSERT_TRUE(client->CreateTopic("us-east", "still-here", 2).ok());
  child.Signal(SIGTERM);
  auto rc = child.Wait(20s);
  ASSERT_TRUE(rc.has_value()) << "testbed did not stop on SIGTERM";
  EXPECT_EQ(*rc, 0) << ReadFile(tmp / "log");
}

}  // namespace
}  // namespace rm::testing
