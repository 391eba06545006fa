// CaptureMetrics: the probe's figures as Prometheus metrics, and the ack-stall health rule.
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

}  // namespace
}  // namespace rm::cdc::postgres
