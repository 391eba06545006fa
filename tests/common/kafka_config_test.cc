#include "common/kafka_config.h"

#include <gtest/gtest.h>

#include "common/kafka_client.h"
#include "common/result.h"

namespace rm::common {
namespace {

std::string ConfigErrorOf(const KafkaProperties& props) {
  try {
    BuildKafkaConf(props, "cluster us-east");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(KafkaConfig, AcceptsValidProperties) {
  EXPECT_NO_THROW(BuildKafkaConf(
      {{"bootstrap.servers", "127.0.0.1:9092"}, {"linger.ms", "5"}, {"acks", "all"}}, "x"));
}

TEST(KafkaConfig, UnknownPropertyIsNamedWithContext) {
  std::string err = ConfigErrorOf({{"bootstrap.servers", "a:1"}, {"no.such.thing", "1"}});
  EXPECT_NE(err.find("cluster us-east"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown property 'no.such.thing'"), std::string::npos) << err;
}

TEST(KafkaConfig, InvalidValueIsNamed) {
  std::string err = ConfigErrorOf({{"linger.ms", "soon"}});
  EXPECT_NE(err.find("invalid value 'soon' for property 'linger.ms'"), std::string::npos) << err;
}

TEST(KafkaConfig, EveryProblemIsReportedAtOnce) {
  std::string err = ConfigErrorOf({{"linger.ms", "soon"}, {"bogus.one", "1"}, {"bogus.two", "2"}});
  EXPECT_NE(err.find("bogus.one"), std::string::npos) << err;
  EXPECT_NE(err.find("bogus.two"), std::string::npos) << err;
  EXPECT_NE(err.find("linger.ms"), std::string::npos) << err;
}

TEST(KafkaConfig, ProducerConstructionReportsBadProperty) {
  EXPECT_THROW(Producer({{"enable.idempotence", "maybe"}}, nullptr, "p"), ConfigError);
}

TEST(KafkaConfig, PartitionListRoundTrips) {
  std::vector<TopicPartition> tps = {{"a", 0, 5}, {"b", 3, RD_KAFKA_OFFSET_END}};
  auto list = ToPartitionList(tps);
  EXPECT_EQ(FromPartitionList(list.get()), tps);
}

}  // namespace
}  // namespace rm::common
