// CaptureMetrics: the probe's figures as Prometheus metrics, and the health rules (ack stall,
// WAL retained by the slot).
#include "src-cdc/postgres/capture_metrics.h"

#include <gtest/gtest.h>

#include <regex>

namespace rm::cdc::postgres {
namespace {

using namespace std::chrono_literals;

double Sample(prometheus::Registry& registry, const std::string& name) {
  std::string page = common::RenderMetrics(registry);
  std::smatch m;
  std::regex re(name + R"(\{slot="s1"\} ([0-9.e+-]+))");
  return std::regex_search(page, m, re) ? std::stod(m[1].str()) : -1;
}

TEST(CaptureMetrics, PublishesTheProbeFiguresUnderTheSlotLabel) {
  prometheus::Registry registry;
  auto probe = std::make_shared<CaptureProbe>();
  CaptureMetrics metrics(registry, probe, "s1");
  auto t0 = std::chrono::steady_clock::now();
  metrics.Update(t0);
  for (int i = 0; i < 5; ++i) probe->add_event_produced();
  probe->add_event_acked(true);
  probe->add_event_acked(true);
  probe->add_event_acked(false);
  probe->add_snapshot_row();
  probe->add_transaction();
  probe->set_server_wal_end(5000);
  probe->set_received_lsn(4500);
  probe->set_confirmed_flush_lsn(4000);
  probe->set_streaming(true);
  metrics.Update(t0 + 1s);

  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_events_produced_total"), 5);
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_events_acked_total"), 2);
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_events_failed_total"), 1);
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_inflight_events"), 2);
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_snapshot_rows_total"), 1);
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_transactions_total"), 1);
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_slot_lag_bytes"), 1000);
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_received_lsn"), 4500);
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_confirmed_flush_lsn"), 4000);
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_server_wal_end_lsn"), 5000);
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_streaming"), 1);
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_events_per_second"), 5);

  // Counters follow the totals: a second Update adds only what is new.
  probe->add_event_produced();
  metrics.Update(t0 + 2s);
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_events_produced_total"), 6);
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_events_per_second"), 1);
}

TEST(CaptureMetrics, UnhealthyOnlyWhenEventsWaitWithoutAnyAckForTheTimeout) {
  prometheus::Registry registry;
  auto probe = std::make_shared<CaptureProbe>();
  CaptureMetrics metrics(registry, probe, "s1");
  auto t0 = std::chrono::steady_clock::now();
  metrics.Update(t0);
  // Idle for long: nothing outstanding, healthy.
  metrics.Update(t0 + 120s);
  EXPECT_EQ(metrics.Unhealthy(60s), "");

  probe->add_event_produced();
  probe->add_event_produced();
  metrics.Update(t0 + 121s);
  metrics.Update(t0 + 150s);
  EXPECT_EQ(metrics.Unhealthy(60s), "");
  probe->add_event_acked(true);  // progress restarts the clock
  metrics.Update(t0 + 170s);
  metrics.Update(t0 + 229s);
  EXPECT_EQ(metrics.Unhealthy(60s), "");
  metrics.Update(t0 + 231s);
  EXPECT_EQ(metrics.Unhealthy(60s), "the sink has acknowledged no event for 61 s (1 outstanding)");
  probe->add_event_acked(true);
  metrics.Update(t0 + 232s);
  EXPECT_EQ(metrics.Unhealthy(60s), "");
}

TEST(CaptureMetrics, PublishesTheSlotRetentionTheMonitorMeasured) {
  prometheus::Registry registry;
  auto probe = std::make_shared<CaptureProbe>();
  CaptureMetrics metrics(registry, probe, "s1");
  probe->set_slot_retention({.slot_exists = true,
                             .retained_bytes = 3'000'000,
                             .confirmed_lag_bytes = 2'000'000,
                             .wal_status = "extended",
                             .safe_wal_size = 7'000'000});
  probe->add_slot_check_error();
  metrics.Update();
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_slot_retained_wal_bytes"), 3'000'000);
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_slot_confirmed_lag_bytes"), 2'000'000);
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_slot_safe_wal_size_bytes"), 7'000'000);
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_slot_check_errors_total"), 1);
  probe->set_slot_retention({.slot_exists = true, .retained_bytes = 10});
  metrics.Update();
  EXPECT_EQ(Sample(registry, "rm_cdc_postgres_slot_safe_wal_size_bytes"), -1);
}

TEST(CaptureMetrics, UnhealthyWhenTheSlotRetainsMoreWalThanTheLimitNamingSlotAndAmount) {
  prometheus::Registry registry;
  auto probe = std::make_shared<CaptureProbe>();
  CaptureMetrics metrics(registry, probe, "s1");
  metrics.Update();
  EXPECT_EQ(metrics.Unhealthy(60s, 1'000'000), "") << "no measurement yet";
  probe->set_slot_retention({.slot_exists = true, .retained_bytes = 1'000'000});
  metrics.Update();
  EXPECT_EQ(metrics.Unhealthy(60s, 1'000'000), "") << "at the limit is not past it";
  probe->set_slot_retention(
      {.slot_exists = true, .retained_bytes = 3'145'728, .wal_status = "extended"});
  metrics.Update();
  EXPECT_EQ(metrics.Unhealthy(60s, 1'000'000),
            "replication slot s1 retains 3145728 bytes of WAL (3.0 MiB; limit "
            "slot_lag_unhealthy_bytes 1000000; wal_status extended)");
  EXPECT_EQ(metrics.Unhealthy(60s, 0), "") << "0 disables the limit";
  // A slot that lost WAL is unhealthy whatever the limit.
  probe->set_slot_retention({.slot_exists = true, .wal_status = "lost"});
  metrics.Update();
  EXPECT_NE(metrics.Unhealthy(60s, 0).find("replication slot s1 lost WAL"), std::string::npos);
}

}  // namespace
}  // namespace rm::cdc::postgres
