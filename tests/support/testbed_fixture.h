// GoogleTest support for tests that need Kafka: a testbed (one mock cluster per region) in the
// test process, with its control API on loopback. Nothing outlives the fixture: the clusters
// stop in TearDown, and they live in this process, so no server is ever left behind.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "testbed/control_server.h"
#include "testbed/testbed.h"
#include "tests/util/test_util.h"

namespace rm::testing {

// A testbed with its control API, as a value (for tests that need their own options).
class ScopedTestbed {
 public:
  explicit ScopedTestbed(std::vector<std::string> regions = {"us-east", "eu-west"},
                         int brokers = 3);
  ~ScopedTestbed();
  testbed::Testbed& testbed() { return *testbed_; }
  std::string Bootstrap(const std::string& region) const;
  std::string ControlAddress() const { return control_->address(); }
  // Writes the endpoints JSON (as `regionmirror testbed --endpoints` does) and returns its path.
  std::string WriteEndpointsFile(const std::string& path) const;
  // Creates a topic or fails the test.
  void CreateTopic(const std::string& region, const std::string& topic, int partitions);

 private:
  std::unique_ptr<testbed::Testbed> testbed_;
  std::unique_ptr<testbed::ControlServer> control_;
};

// Fixture: regions us-east and eu-west, 3 brokers each, plus a temp dir.
class TestbedTest : public ::testing::Test {
 protected:
  void SetUp() override { tb_ = std::make_unique<ScopedTestbed>(); }
  void TearDown() override { tb_.reset(); }

  ScopedTestbed& tb() { return *tb_; }
  std::string Bootstrap(const std::string& region) const { return tb_->Bootstrap(region); }

  TempDir tmp_;
  std::unique_ptr<ScopedTestbed> tb_;
};

}  // namespace rm::testing
