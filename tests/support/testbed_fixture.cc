#include "tests/support/testbed_fixture.h"

#include <fstream>

#include "tests/support/mirror_helpers.h"

namespace rm::testing {

ScopedTestbed::ScopedTestbed(std::vector<std::string> regions, int brokers)
    : testbed_(
          std::make_unique<testbed::Testbed>(testbed::TestbedOptions{std::move(regions), brokers})),
      control_(std::make_unique<testbed::ControlServer>(*testbed_, common::HttpServerOptions{})) {}

ScopedTestbed::~ScopedTestbed() {
  // Test clients kept across calls go first, while the brokers they talk to still answer.
  ReleaseWatermarkClient();
}

std::string ScopedTestbed::Bootstrap(const std::string& region) const {
  auto b = testbed_->BootstrapServers(region);
  if (!b.ok()) throw std::runtime_error(b.error().message);
  return *b;
}

std::string ScopedTestbed::WriteEndpointsFile(const std::string& path) const {
  std::ofstream out(path, std::ios::trunc);
  out << control_->Endpoints().dump(2);
  return path;
}

void ScopedTestbed::CreateTopic(const std::string& region, const std::string& topic,
                                int partitions) {
  auto st = testbed_->CreateTopic(region, topic, partitions);
  ASSERT_TRUE(st.ok()) << st.error().message;
}

}  // namespace rm::testing
