// CassandraCapture: follows one node's cdc_raw directory and turns the mutations of the captured
// tables into change events for an EventSink.
//
//   cdc_raw/CommitLog-7-<id>.log + CommitLog-7-<id>_cdc.idx   (4.x: tailed up to the idx offset
//   cdc_raw/CommitLog-6-<id>.log                               until COMPLETED; 3.x: complete
//        │  SegmentReader::ReadUpTo, one segment at a time,      when it appears)
//        ▼  in segment-id order
//   BuildChangeEvents ──► EventSink::Produce ──► acks (sink thread, any order)
//        │                                          │
//        └── AckTracker: boundary after each mutation, "segment done" after each segment
//                 │ acked prefix
//                 ▼
//   checkpoint (PositionStore, synced) ──► delete or move the segments whose events are all acked
//
// Lifecycle: construct, call Run() once from one thread (it blocks), set `stop` from any thread
// to end it; destroy. Run() returns Ok after a clean stop (flush, checkpoint) and an error when
// it cannot go on (state dir unusable, cdc_raw missing at start, the sink failed an event): the
// caller restarts it, and a restart resumes from the checkpoint.
//
// What it persists: in the state dir, the position (segment id, end offset of the last mutation
// whose events, and all before them, were acknowledged), saved with a synced write about every
// checkpoint_interval and before a segment is deleted or moved. Segments with a smaller id are
// complete; a restart deletes any left behind and reopens the checkpointed segment at its offset.
//
// Delivery: at least once. Nothing before the checkpoint is lost (kill -9 included); events of
// mutations after it are produced again after a crash. Within one table key, order follows the
// commit log.
//
// Bad input: tolerated read errors (corrupt sections or entries) are logged with file, section
// and offset, counted (errors_total{kind="segment"}) and skipped as Cassandra's replay would; a
// segment whose header cannot be read once it is complete is logged, counted and moved to
// <state_dir>/bad-segments/ (kept for inspection, out of Cassandra's CDC space).
//
// Threading: Run() is single-threaded; the sink's ack callbacks touch only the shared
// AckTracker and the probe. Health() may be called from any thread (the admin server).
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/result.h"
#include "src-cdc/cassandra/ack_tracker.h"
#include "src-cdc/cassandra/capture_config.h"
#include "src-cdc/cassandra/capture_probe.h"
#include "src-cdc/cassandra/commit_log_reader.h"
#include "src-cdc/cassandra/position_store.h"
#include "src-cdc/event_sink.h"

namespace rm::cdc::cassandra {

class CassandraCapture {
 public:
  // `schema` (the captured tables; see CaptureConfig::BuildSchema) and `keys` (nullptr without
  // encryption) must outlive the capture. Metrics register on `registry`.
  CassandraCapture(CaptureConfig config, const Schema& schema, const KeyProvider* keys,
                   EventSink& sink, prometheus::Registry& registry);
  ~CassandraCapture();
  CassandraCapture(const CassandraCapture&) = delete;
  CassandraCapture& operator=(const CassandraCapture&) = delete;

  // Error codes: "cassandra.cdc_raw" (missing or unreadable at start), "cassandra.state*",
  // "sink.*" (an event was refused or failed).
  common::Status Run(const std::atomic<bool>& stop);

  CaptureProbe& probe() { return *probe_; }
  // Empty when healthy, else the reason (cdc_raw unreadable, checkpoint failing, sink failed).
  std::string Health() const;
  // Last checkpointed position (thread-safe).
  std::optional<CommitLogPosition> checkpointed() const;

 private:
  struct SegmentFiles {
    int64_t id = 0;
    int version = 0;
    std::filesystem::path log;
    std::filesystem::path idx;  // format 7 only
  };
  struct Current {
    SegmentFiles files;
    std::unique_ptr<SegmentReader> reader;
    bool open_error_reported = false;
  };

  common::Result<std::map<int64_t, SegmentFiles>> ListSegments();
  // Reads what is readable; true when it made progress (worth calling again at once).
  bool Step(const std::atomic<bool>& stop);
  bool ReadCurrent();
  // True when a segment newer than `id` has a _cdc.idx in cdc_raw. Cassandra 4 writes COMPLETED
  // only when it discards a segment (after the memtables holding its data were flushed), which
  // can be minutes after it moved on to the next one. It fills segments one after the other
  // and its sync pass writes the idx files in segment order, so once a newer segment's idx
  // exists, the older segment's idx offset is final: the capture finishes it then rather than
  // waiting for COMPLETED.
  bool NewerSegmentSynced(int64_t id) const;
  ReadControl HandleMutation(Mutation&& m);
  void FinishCurrent(bool bad);
  // Saves the safe position and cleans up fully acknowledged segments.
  void Checkpoint();
  void CleanUp(const SegmentFiles& files, bool bad);
  // Records (or clears, with an empty `problem`) one kind of trouble for Health().
  void SetHealth(const std::string& key, const std::string& problem);
  // A retried failure: logged and counted when it starts or changes, shown in Health() until
  // cleared with SetHealth(key, "").
  void ReportProblem(const std::string& key, const std::string& problem);

  const CaptureConfig config_;
  const Schema& schema_;
  const KeyProvider* keys_;
  EventSink& sink_;
  // Shared with the sink's ack callbacks, which may run after the capture is gone (a sink
  // destroyed later fails what it still holds). Its metrics live in the registry.
  std::shared_ptr<CaptureProbe> probe_;
  ReaderOptions reader_options_;

  std::unique_ptr<PositionStore> store_;
  const std::shared_ptr<AckTracker> tracker_;  // thread-safe; Health() reads it
  std::optional<CommitLogPosition> resume_;    // where the first reopened segment starts
  std::optional<Current> current_;
  int64_t next_segment_ = 0;                                   // lowest id not started yet
  std::map<int64_t, std::pair<SegmentFiles, bool>> awaiting_;  // read fully, acks pending; bad?
  std::map<int64_t, std::pair<SegmentFiles, bool>> done_;      // acked, cleanup pending
  std::optional<common::Error> sink_error_;
  std::optional<CommitLogPosition> saved_;

  mutable std::mutex health_mu_;
  std::map<std::string, std::string> problems_;
  std::optional<CommitLogPosition> checkpointed_;
};

}  // namespace rm::cdc::cassandra
