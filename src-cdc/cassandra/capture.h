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
// What it persists (PositionStore): the position (segment, end offset of the last mutation
// whose events, and all before them, were acknowledged), and the segments delivered but not yet
// deleted or moved, each named by SegmentIdentity (file name, device, inode). Saved with a
// synced write about every checkpoint_interval, and always before a segment is deleted or
// moved. Segment ids come from Cassandra's clock, which can step back: a segment is never
// judged delivered by its id. Any segment in cdc_raw that the state does not name is read in
// full, whatever its id; a restart reopens the checkpointed segment at its offset and cleans
// up the delivered ones. A state saved by an older version ("<id>:<offset>") resumes that
// segment and reads every other segment still in cdc_raw again (at least once).
//
// Order: segments in the order the capture first saw them, and by id among those seen at once
// (at start). A segment that appears after a clock step back is thus read after the ones
// already waiting; only a backlog that was in cdc_raw before a restart of the capture and
// spans a step back is read in id order, i.e. newer writes first (each event carries
// source.segment_id and source.pos).
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
// Schema changes: the mutations Cassandra writes to system_schema for an ALTER TABLE are read
// like any other (system_schema.h); a captured table they change is decoded with its new
// columns from the entry after the schema mutation on. The columns learned so are saved with
// the position (with or without a schema history), so a restart decodes exactly as an
// uninterrupted run would: the segment holding the ALTER may be deleted by then. A DROP TABLE
// of a captured table: its later entries (writes racing with the drop) are not decoded, its
// history is closed at that position (schema_guard.h), Health() says it was dropped (until the
// configuration no longer lists it under that id), errors_total{kind="table_dropped"} counts
// it; the other tables go on. This is what Debezium's Cassandra connector does (its schema
// listener removes the table, later entries of it are skipped), plus the health state and the
// closed history.
//
// Schema evolution (config `schema:`, schema_guard.h): with `history`, each captured table's
// configured shape is versioned in the history topic (written through the same sink, before any
// event of the run, and covered by the checkpoint like events) when the capture starts reading,
// and every change a schema mutation makes is a version from that mutation's position (or
// stops the table there). An incompatible change stops that table only: its events are not
// emitted, Health() names table, columns, rules and position, and the other tables go on,
// checkpoint and segment cleanup included: every entry of the stopped table read from then on
// is copied into its spill (spill.h, <state_dir>/spill/), synced before the checkpoint passes
// it, the checkpoint saving how many spill bytes it covers. Once an operator accepts the shape
// (`regionmirror cdc cassandra accept-schema`), Run() returns "cassandra.schema_accepted" and
// the caller runs a new capture, which records the version at the stop's position, produces
// the spilled entries of that table in the accepted shape, waits for their acks, drops the
// spill from the state and deletes it, then reads on from the checkpoint. Where a spill cannot
// take an entry (max_spill_bytes reached, or 0; the stopped table changed again; a spill that
// cannot be written or read back) the checkpoint is held instead from that point (Freeze): no
// boundary is added any more, so it stays before it and the segments from there are kept, as
// before spills existed. With `envelope: json_with_schema` events carry Connect schemas.
//
// Transforms (config `transforms:`, src-cdc/transforms/): each event runs its table's chain
// before it is encoded. A filtered event writes nothing (its mutation's position passes like
// any other); a failed one stops the capture before its mutation ("transform.failed", nothing of
// that mutation produced, the checkpoint stays before it) or, with errors.tolerance: all, goes
// untransformed to the dead-letter topic and counts as delivered once Kafka acked it.
//
// Threading: Run() is single-threaded; the sink's ack callbacks touch only the shared
// AckTracker and the probe. Health() may be called from any thread (the admin server).
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>

#include "common/result.h"
#include "src-cdc/cassandra/ack_tracker.h"
#include "src-cdc/cassandra/capture_config.h"
#include "src-cdc/cassandra/capture_probe.h"
#include "src-cdc/cassandra/commit_log_reader.h"
#include "src-cdc/cassandra/position_store.h"
#include "src-cdc/cassandra/schema_guard.h"
#include "src-cdc/cassandra/spill.h"
#include "src-cdc/event_sink.h"
#include "src-cdc/schema_history.h"
#include "src-cdc/transforms/pipeline.h"

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
  // "sink.*" (an event was refused or failed), "transform.failed" (under errors.tolerance:
  // none), "schema.history_read", and "cassandra.schema_accepted" (a stopped table's shape was
  // accepted: run a new capture, which produces its spill, then reads on from the checkpoint).
  common::Status Run(const std::atomic<bool>& stop);

  // Reads the schema history topic (required when config.schema.history is set; the CLI
  // passes ReadSchemaHistory over the sink's cluster).
  using HistoryReader = std::function<common::Result<SchemaHistory>()>;
  void SetSchemaHistoryReader(HistoryReader reader) { history_reader_ = std::move(reader); }
  // The tables' transform chains; nullptr when none are configured.
  const transforms::TransformPipeline* transforms() const { return transforms_.get(); }

  CaptureProbe& probe() { return *probe_; }
  // Empty when healthy, else the reason (cdc_raw unreadable, checkpoint failing, sink failed).
  std::string Health() const;
  // Last checkpointed position (thread-safe).
  std::optional<CommitLogPosition> checkpointed() const;

 private:
  struct SegmentFiles {
    int64_t id = 0;
    int version = 0;
    SegmentIdentity identity;
    std::filesystem::path log;
    std::filesystem::path idx;  // format 7 only
  };
  struct Current {
    SegmentFiles files;
    std::unique_ptr<SegmentReader> reader;
    bool open_error_reported = false;
  };
  // A segment whose events were all acknowledged, to be deleted or moved.
  struct Delivered {
    SegmentFiles files;
    bool bad = false;
  };

  // The segments (.log) in cdc_raw by file name; removes the idx files of delivered segments
  // whose log is gone.
  common::Result<std::map<std::string, SegmentFiles>> ListSegments();
  // Reads what is readable; true when it made progress (worth calling again at once).
  bool Step(const std::atomic<bool>& stop);
  bool ReadCurrent();
  // True when `files` is being read, waits for acks or is delivered in this run.
  bool Started(const SegmentFiles& files) const;
  // True when cdc_raw has the _cdc.idx of a segment with an id above `id` that is not started,
  // not COMPLETED, and readable. Cassandra 4 writes COMPLETED only when it discards a segment
  // (after the memtables holding its data were flushed), which can be minutes after it moved
  // on to the next one. Within one run it numbers segments upwards, fills them one after the
  // other and its sync pass writes the idx files in segment order, so once a newer segment's
  // idx exists, the older segment's idx offset is final: the capture finishes it then rather
  // than waiting for COMPLETED. Segments of an earlier Cassandra run (a clock step back gives
  // the new run lower ids) are all COMPLETED, since their ids can only be reused when
  // Cassandra's commitlog dir was empty, i.e. every segment was discarded; they and the
  // segments already started never count, so a live segment is not finished early.
  bool NewerSegmentSynced(int64_t id) const;
  ReadControl HandleMutation(Mutation&& m);
  // Builds, transforms and produces the events of `m` read from segment file `file` (stopped
  // tables left out). False when reading must stop (sink_error_ or stop_error_ set).
  bool ProduceEvents(const Mutation& m, const std::string& file);
  // After a mutation's events: the checkpoint may pass `position` once they are acked (unless
  // frozen); the spills' sizes are tied to the boundary's number.
  void AddBoundary(const CommitLogPosition& position);
  // From here on nothing read is checkpointed (see the class comment); `why` for Health().
  void Freeze(const std::string& why);
  // `table` (its columns in the reader) stopped at `at`: its entries are spilled from now on.
  void StartSpill(const TableSchema& table, const CommitLogPosition& at);
  // Copies `m` into the spill of each stopped table it touches; freezes when one cannot take it.
  void SpillMutation(const Mutation& m);
  // The columns the reader has for the captured tables of `keyspace` (a spill's schema frame).
  std::vector<SpillTable> SpillTablesOf(const std::string& keyspace) const;
  // A schema mutation changed tables of `keyspace`: the spills of that keyspace record it.
  void SpillSchemaChange(const std::string& keyspace);
  // Makes every spill durable (before a checkpoint); false (reported) when it could not.
  bool SyncSpills();
  // Opens the spills the state names (a corrupt one blocks its table and freezes), removes
  // files it does not name.
  void LoadSpills(const std::map<std::string, uint64_t>& covered);
  // Produces the spilled entries of accepted tables, waits for their acks, drops the spills
  // from the state and deletes them. Error: the capture stops; a restart replays them again.
  common::Status ReplayAcceptedSpills(const std::atomic<bool>& stop);
  common::Status ReplaySpill(const std::string& table, const std::atomic<bool>& stop);
  // A mutation of system_schema: the captured tables it changes get their new columns (the
  // reader decodes the entries after it with them) and, with a guard, a new version at its
  // position (or stop). False when the sink refused a history record (sink_error_ set).
  bool ApplySchemaMutation(const Mutation& m);
  // Produces one record, registered with the tracker first; false (sink_error_ set) when the
  // sink refused it.
  bool Produce(EncodedRecord&& r);
  // Gives the reader the columns the saved state learned from schema mutations before the
  // checkpoint (those at or after it are read again), unless the configured CQL changed to a
  // shape the commit log never showed (then the CQL applies). Positions are compared as
  // numbers: a backlog spanning a clock step back (see Order) may apply a change early.
  void ApplyLearned();
  // Records that a schema mutation at `at` gave `before` the columns of `after` (nullptr: the
  // table was dropped), for the state.
  void Learn(const TableSchema& before, const TableSchema* after, const CommitLogPosition& at);
  // `table` was dropped at `at`: its entries are no longer decoded and Health() says so.
  void MarkDropped(const TableSchema& table, const CommitLogPosition& at);
  // Loads the history and observes each captured table's shape at `position` (the first
  // position this run reads), producing the history records. False on an error (stop_error_).
  bool StartSchemaGuard(const CommitLogPosition& position);
  // While a table is stopped: true when an operator accepted its shape.
  bool SchemaAccepted();
  void FinishCurrent(bool bad);
  // The identity of a segment started in this run (current, awaiting acks or delivered).
  std::optional<SegmentIdentity> IdentityOf(int64_t segment_id) const;
  // Durably saves the position and the delivered set; false (reported) when it could not.
  bool SaveState();
  // `gone` (deleted, moved, or replaced by another file of its name) is no file in cdc_raw any
  // more: when the position names it, it keeps the name but no device and inode, so a file
  // created later under that name is read in full even when the file system hands it the
  // freed inode (ext4 does at once). Saved with the next checkpoint.
  void ForgetCheckpointedFile(const SegmentIdentity& gone);
  // Saves the safe position and the delivered segments, then cleans those up.
  void Checkpoint();
  // True when the files are gone (deleted or moved).
  bool CleanUp(const SegmentFiles& files, bool bad);
  // Records (or clears, with an empty `problem`) one kind of trouble for Health().
  void SetHealth(const std::string& key, const std::string& problem);
  // A retried failure: logged and counted when it starts or changes, shown in Health() until
  // cleared with SetHealth(key, "").
  void ReportProblem(const std::string& key, const std::string& problem);

  const CaptureConfig config_;
  const Schema& schema_;
  // What the reader decodes with: the captured tables, changed by the schema mutations read
  // (system_schema.h), and the system_schema tables.
  Schema reader_schema_;
  const KeyProvider* keys_;
  EventSink& sink_;
  // Shared with the sink's ack callbacks, which may run after the capture is gone (a sink
  // destroyed later fails what it still holds). Its metrics live in the registry.
  std::shared_ptr<CaptureProbe> probe_;
  ReaderOptions reader_options_;

  std::unique_ptr<PositionStore> store_;
  const std::shared_ptr<AckTracker> tracker_;  // thread-safe; Health() reads it
  // Where the checkpointed segment resumes (the loaded state's position).
  std::optional<CaptureState::Resume> resume_;
  bool legacy_resume_ = false;  // resume_ names its segment by id only (old state format)
  std::optional<Current> current_;
  std::map<int64_t, Delivered> awaiting_;  // read fully, acks pending; by segment id
  // Acknowledged, not yet cleaned up (persisted); by file name.
  std::map<std::string, Delivered> delivered_;
  // When each segment in cdc_raw was first seen: the read order (see the class comment).
  std::map<SegmentIdentity, uint64_t> seen_;
  uint64_t next_seen_ = 0;
  std::optional<common::Error> sink_error_;
  // A transform failed (errors.tolerance: none) or the schema history could not be loaded.
  std::optional<common::Error> stop_error_;
  std::unique_ptr<transforms::TransformPipeline> transforms_;  // uses config_.transforms
  HistoryReader history_reader_;
  const std::shared_ptr<SchemaStatus> schema_status_ = std::make_shared<SchemaStatus>();
  std::optional<SchemaGuard> guard_;
  bool schema_observed_ = false;
  // A stopped table's spill, by "keyspace.table".
  struct Spill {
    std::unique_ptr<TableSpill> file;  // null: blocked (its spill could not be read back)
    TableId id;
    std::string keyspace;
    uint64_t covered = 0;  // bytes the saved position covers (persisted)
    uint64_t marked = 0;   // size at the last mark
    // (boundary number, spill size when that boundary was added), oldest first.
    std::deque<std::pair<uint64_t, uint64_t>> marks;
    bool replay = false;  // loaded, and its shape is accepted: produced at start
  };
  std::map<std::string, Spill> spills_;
  std::unordered_set<TableId, UuidHash>
      blocked_;              // tables whose spill is corrupt: none of their events is produced
  uint64_t boundaries_ = 0;  // AddBoundary() calls in this run
  // Set once nothing read from here on may be checkpointed (see the class comment): the reason.
  std::optional<std::string> frozen_;
  std::chrono::steady_clock::time_point last_accept_poll_{};
  std::optional<CaptureState::Resume> saved_;  // the position last saved
  // What schema mutations changed, kept in the state (position_store.h); pruned to the change
  // that applies at the saved position and those after it.
  std::map<std::string, CaptureState::LearnedTable> learned_;
  bool state_dirty_ = false;  // delivered_ changed since the last save

  mutable std::mutex health_mu_;
  std::map<std::string, std::string> problems_;
  std::optional<CommitLogPosition> checkpointed_;
};

}  // namespace rm::cdc::cassandra
