#include "src-cdc/kafka_event_sink.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "tests/support/kafka_helpers.h"
#include "tests/support/process.h"
#include "tests/support/testbed_fixture.h"

namespace rm::cdc {
namespace {

using namespace std::chrono_literals;
using testing::TestbedTest;

class KafkaEventSinkTest : public TestbedTest {};

TEST_F(KafkaEventSinkTest, AcksEveryEventOnceAfterItIsStoredInOrderPerKey) {
  tb().CreateTopic("us-east", "events", 3);
  KafkaEventSink sink({{{"bootstrap.servers", Bootstrap("us-east")}}});
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < 3000; ++i) {
    std::optional<std::string> value = std::to_string(i);
    if (i % 100 == 99) value.reset();  // tombstone
    ASSERT_TRUE(sink.Produce("events", "key-" + std::to_string(i % 7), value,
                             [&](common::Status st) { (st.ok() ? ok : failed)++; })
                    .ok());
  }
  ASSERT_TRUE(sink.Flush(30s).ok());
  EXPECT_EQ(ok.load(), 3000);
  EXPECT_EQ(failed.load(), 0);
  auto read = testing::ConsumeWithKafkaPython(Bootstrap("us-east"), "events", 3000);
  ASSERT_EQ(read.size(), 3000u);
  std::map<std::string, int> last;  // per key, values must increase
  int tombstones = 0;
  for (const auto& r : read) {
    if (!r.value) {
      ++tombstones;
      continue;
    }
    int v = std::stoi(*r.value);
    auto it = last.find(*r.key);
    if (it != last.end()) {
      EXPECT_GT(v, it->second) << *r.key;
    }
    last[*r.key] = v;
  }
  EXPECT_EQ(tombstones, 30);
}

TEST_F(KafkaEventSinkTest, FlushTimesOutWhileTheClusterIsDownAndAcksNothingAsStored) {
  tb().CreateTopic("us-east", "down", 1);
  ASSERT_TRUE(tb().testbed().SetPartitionLeader("us-east", "down", 0, 1).ok());
  std::atomic<int> ok{0};
  {
    KafkaEventSink sink({{{"bootstrap.servers", Bootstrap("us-east")}}});
    ASSERT_TRUE(tb().testbed().SetBrokerDown("us-east", 1).ok());
    ASSERT_TRUE(sink.Produce("down", "k", "v", [&](common::Status st) { ok += st.ok(); }).ok());
    auto st = sink.Flush(2s);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, "sink.flush_timeout");
  }
  EXPECT_EQ(ok.load(), 0);
}

// The sink compresses in librdkafka's broker thread, which allocates a 68 KiB LZ4F context per
// lz4 batch: the binary's jemalloc must keep such blocks in its thread cache, or every batch
// pays an madvise and a page fault per page (apps/malloc_conf.cc). Checked in the binary the
// captures run in, as jemalloc reports its options at exit.
TEST(KafkaEventSinkBinaryTest, RegionmirrorsAllocatorCachesLz4ContextsPerThread) {
  auto r = testing::RunCommand({testing::RegionmirrorPath(), "version"}, 30s,
                               {{"MALLOC_CONF", "stats_print:true,stats_print_opts:mdablxe"}});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("opt.tcache_max: 131072"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace rm::cdc
