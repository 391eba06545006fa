// PostgresCapture: snapshot and streaming of the configured tables into an EventSink.
//
// Lifecycle: construct, call Run() once from one thread (it blocks), set `stop` from any
// thread to end it; destroy. Run() returns Ok after a clean stop (or after the snapshot in
// initial_only mode) and an error otherwise; the caller restarts it, and a restart resumes
// from the slot's confirmed flush position. Once it has streamed, Run() rides through a
// server that went away (restart, crash, cut connection) by itself: it reconnects with
// backoff for up to reconnect_timeout and resumes from the slot's confirmed position, so a
// Postgres restart does not end the process (Debezium's connector retries likewise).
//
// What it persists, in the source database only:
//   - the replication slot's confirmed_flush_lsn, advanced (Standby Status Update) only to
//     the end of a transaction all of whose events were acked by the sink (FlushTracker);
//   - one row per slot in the heartbeat table: heartbeat_at (updated every
//     heartbeat_interval so the slot advances while the captured tables are idle) and
//     snapshot_completed_at / snapshot_lsn once the initial snapshot was fully acked.
//
// Snapshot modes:
//   initial       if no completed snapshot is recorded: (re)create the slot with an exported
//                 snapshot, read every table in that snapshot (keyset pages on the primary
//                 key, op "r"), wait for every ack, record completion; then stream.
//   never         stream only; creates the slot (without snapshot) if it is missing.
//   initial_only  read the tables in a REPEATABLE READ snapshot and return; no slot.
//
// Schema evolution (config `schema:`, schema_guard.h): with `history`, each captured table's
// shapes are versioned in the history topic (written through the same sink, confirmed like
// events) and checked at every Relation message; an incompatible change stops that table
// only: its events are no longer emitted and the confirmed LSN stays before the transaction
// that changed it (the slot keeps the WAL from there), while the other tables go on. When an
// operator accepts the new shape (`accept-schema`), Run() restarts streaming from the held
// position by itself. With `envelope: json_with_schema` events carry Connect schemas.
//
// Delivery: at least once. Events after the confirmed position are sent again after a
// restart; nothing before it is lost. Threading: Run() is single-threaded; ack callbacks
// from the sink touch only the shared FlushTracker and CaptureProbe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "src-cdc/event_sink.h"
#include "src-cdc/postgres/capture_probe.h"
#include "src-cdc/postgres/config.h"
#include "src-cdc/postgres/flush_tracker.h"
#include "src-cdc/postgres/replication.h"
#include "src-cdc/postgres/schema_guard.h"
#include "src-cdc/schema_history.h"
#include "src-cdc/transforms/pipeline.h"

namespace rm::cdc::postgres {

class PostgresCapture {
 public:
  // `params`: the resolved capture connection (see ConnectionConfig::Resolve). The transforms'
  // metrics register on `metrics` (nullptr: the process-wide registry).
  PostgresCapture(CaptureConfig config, ConnectionParams params, EventSink& sink,
                  prometheus::Registry* metrics = nullptr);
  ~PostgresCapture();
  PostgresCapture(const PostgresCapture&) = delete;
  PostgresCapture& operator=(const PostgresCapture&) = delete;

  // Error codes: "pg.connect", "pg.wal_level", "pg.missing_table", "pg.missing_publication",
  // "pg.slot_active", "pg.slot_missing", "pg.snapshot", "sink.*" (a failed ack),
  // "transform.failed" (a transform failed on an event under errors.tolerance: none; the
  // position stays before it), and the decoder's codes.
  common::Status Run(const std::atomic<bool>& stop);

  const std::shared_ptr<CaptureProbe>& probe() const { return probe_; }
  // Highest position confirmed to the server so far.
  Lsn confirmed_lsn() const { return confirmed_; }
  // The tables' transform chains; nullptr when none are configured.
  const transforms::TransformPipeline* transforms() const { return transforms_.get(); }

  // Reads the schema history topic (required when config.schema.history is set; the CLI
  // passes ReadSchemaHistory over the sink's cluster).
  using HistoryReader = std::function<common::Result<SchemaHistory>()>;
  void SetSchemaHistoryReader(HistoryReader reader) { history_reader_ = std::move(reader); }
  // Empty, or why tables are stopped (for /healthz). Thread-safe.
  std::string schema_problem() const { return schema_status_->Get(); }
  // Stopped tables and incompatible changes, for CaptureMetrics::WatchSchema(). Thread-safe.
  std::shared_ptr<const SchemaStatus> schema_status() const { return schema_status_; }

 private:
  class Impl;
  CaptureConfig config_;
  ConnectionParams params_;
  EventSink& sink_;
  std::shared_ptr<CaptureProbe> probe_;
  std::shared_ptr<FlushTracker> tracker_;
  std::unique_ptr<transforms::TransformPipeline> transforms_;  // uses config_.transforms
  Lsn confirmed_;
  bool streamed_ = false;  // the current Impl reached START_REPLICATION
  HistoryReader history_reader_;
  std::shared_ptr<SchemaStatus> schema_status_ = std::make_shared<SchemaStatus>();
};

}  // namespace rm::cdc::postgres
