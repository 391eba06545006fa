// offsets_bench: figures for the offset map (issue 4). Prints, does not assert.
//
//   1. Translation lookup latency (p50/p99/p99.9) over a store of 1M runs.
//   2. Bytes stored per mirrored record after compaction: a realistic workload (a source gap
//      every ~1000 records, e.g. transaction markers) and a gap-free one; plus report and
//      checkpoint costs.
//   3. Records re-delivered to a consumer group that fails over, ours vs MirrorMaker 2 for
//      the same group positions. MM2 is modelled from its source (Kafka 3.5+):
//      OffsetSyncWriter.PartitionState.update() decides which deliveries become syncs
//      (offset.lag.max=100; syncs that are not urgent wait for the next task commit),
//      OffsetSyncStore keeps 64 syncs per partition in power-of-two buckets, and
//      translateDownstream() returns the downstream offset of the latest sync at or below the
//      group's upstream offset, plus 1 unless equal (MirrorCheckpointTask drops -1).
//
// Usage: offsets_bench [work_dir]   (default: a fresh directory under $TMPDIR, removed after)
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "offsets/offset_map.h"
#include "offsets/offset_store.h"
#include "offsets/offset_sync_emitter.h"

namespace rm::offsets {
namespace {

using common::SourceOffset;
using common::TargetOffset;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what, const common::Error& e) {
  std::fprintf(stderr, "offsets_bench: %s: %s: %s\n", what.c_str(), e.code.c_str(),
               e.message.c_str());
  std::exit(1);
}

void Check(const std::string& what, const common::Status& s) {
  if (!s.ok()) Die(what, s.error());
}

std::unique_ptr<OffsetStore> Open(const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  auto store = OffsetStore::Open(dir);
  if (!store.ok()) Die("open " + dir.string(), store.error());
  return std::move(store).value();
}

struct DirSize {
  uint64_t sst = 0;
  uint64_t total = 0;
};

DirSize SizeOf(const std::filesystem::path& dir) {
  DirSize size;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    size.total += entry.file_size();
    if (entry.path().extension() == ".sst") size.sst += entry.file_size();
  }
  return size;
}

double Percentile(std::vector<double>& sorted, double p) {
  const auto i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[i];
}

// ---------------------------------------------------------------------------------------
// 1. Lookup latency over 1M runs.
void BenchLookups(const std::filesystem::path& work, uint64_t block_cache_size) {
  constexpr int kPartitions = 16;
  constexpr int64_t kRuns = 1'000'000;
  std::filesystem::remove_all(work / "lookup");
  OffsetStoreOptions options;
  options.block_cache_size = block_cache_size;
  auto opened = OffsetStore::Open(work / "lookup", options);
  if (!opened.ok()) Die("open lookup store", opened.error());
  auto store = std::move(opened).value();
  OffsetMap map(*store);
  std::mt19937_64 rng(1);
  std::vector<int64_t> end(kPartitions, 0);
  std::vector<int64_t> target(kPartitions, 0);
  const auto load_start = Clock::now();
  for (int64_t i = 0; i < kRuns; ++i) {
    const int p = static_cast<int>(i % kPartitions);
    const int64_t length = 1 + static_cast<int64_t>(rng() % 2000);
    const int64_t gap = 1 + static_cast<int64_t>(rng() % 3);
    Check("append",
          map.AppendRun({"us-east->eu-west", "orders", p},
                        Run{SourceOffset(end[p] + gap), TargetOffset(target[p]), length}));
    end[p] += gap + length;
    target[p] += length;
    if (i % 100'000 == 99'999) Check("checkpoint", map.Checkpoint());
  }
  Check("checkpoint", map.Checkpoint());
  Check("compact", store->CompactAll());
  const double load_s = std::chrono::duration<double>(Clock::now() - load_start).count();

  constexpr int kLookups = 1'000'000;
  std::vector<double> ns;
  ns.reserve(kLookups);
  std::array<uint64_t, 5> kinds{};
  for (int i = 0; i < kLookups; ++i) {
    const int p = static_cast<int>(rng() % kPartitions);
    const auto position = SourceOffset(static_cast<int64_t>(rng() % static_cast<uint64_t>(end[p])));
    const PartitionKey key{"us-east->eu-west", "orders", p};
    const auto t0 = Clock::now();
    auto r = map.Translate(key, position);
    const auto t1 = Clock::now();
    if (!r.ok()) Die("translate", r.error());
    ++kinds[static_cast<size_t>(r->kind)];
    ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
  }
  std::sort(ns.begin(), ns.end());
  const auto size = SizeOf(work / "lookup");
  std::printf(
      "== 1. Translation lookup, %lld runs in %d partitions (loaded in %.1f s), "
      "block cache %llu MiB\n",
      static_cast<long long>(kRuns), kPartitions, load_s,
      static_cast<unsigned long long>(block_cache_size >> 20));
  std::printf("   %d random lookups: p50 %.2f us, p99 %.2f us, p99.9 %.2f us, max %.1f us\n",
              kLookups, Percentile(ns, 0.50) / 1000, Percentile(ns, 0.99) / 1000,
              Percentile(ns, 0.999) / 1000, ns.back() / 1000);
  std::printf("   cases: exact %llu, gap %llu, beyond %llu, below %llu\n",
              static_cast<unsigned long long>(kinds[0]), static_cast<unsigned long long>(kinds[1]),
              static_cast<unsigned long long>(kinds[2]), static_cast<unsigned long long>(kinds[3]));
  std::printf("   store after compaction: %.1f MiB SST (%.1f bytes per run), %.1f MiB directory\n",
              static_cast<double>(size.sst) / (1 << 20),
              static_cast<double>(size.sst) / static_cast<double>(kRuns),
              static_cast<double>(size.total) / (1 << 20));
}

// ---------------------------------------------------------------------------------------
// 2. Bytes per mirrored record.
void BenchBytesPerRecord(const std::filesystem::path& work, const char* name, int64_t mean_gap) {
  constexpr int kPartitions = 24;
  constexpr int64_t kRecords = 10'000'000;
  constexpr int64_t kCheckpointEvery = 100'000;
  auto store = Open(work / name);
  OffsetMap map(*store);
  std::mt19937_64 rng(2);
  std::geometric_distribution<int64_t> until_gap(mean_gap > 0 ? 1.0 / static_cast<double>(mean_gap)
                                                              : 0.5);
  std::vector<int64_t> source(kPartitions, 0);
  std::vector<int64_t> target(kPartitions, 0);
  std::vector<int64_t> next_gap(kPartitions, 0);
  for (int p = 0; p < kPartitions; ++p) next_gap[p] = mean_gap > 0 ? until_gap(rng) : -1;
  std::vector<double> checkpoint_ms;
  const auto start = Clock::now();
  double report_s = 0;
  auto report_start = Clock::now();
  for (int64_t i = 0; i < kRecords; ++i) {
    const int p = static_cast<int>(i % kPartitions);
    if (next_gap[p] == 0) {
      source[p] += 1 + static_cast<int64_t>(rng() % 2);  // a marker or two
      next_gap[p] = until_gap(rng);
    } else if (next_gap[p] > 0) {
      --next_gap[p];
    }
    map.OnDelivered({"us-east->eu-west", "orders.v1", p}, SourceOffset(source[p]++),
                    TargetOffset(target[p]++));
    if (i % kCheckpointEvery == kCheckpointEvery - 1) {
      report_s += std::chrono::duration<double>(Clock::now() - report_start).count();
      const auto t0 = Clock::now();
      Check("checkpoint", map.Checkpoint());
      checkpoint_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      report_start = Clock::now();
    }
  }
  Check("checkpoint", map.Checkpoint());
  const double total_s = std::chrono::duration<double>(Clock::now() - start).count();
  Check("compact", store->CompactAll());
  const auto stats = map.stats();
  int64_t runs = 0;
  uint64_t logical = 0;
  Check("scan", map.ForEachRun({}, [&](const PartitionKey& p, const Run& run) {
    ++runs;
    logical += 2 + p.flow.size() + 2 + p.topic.size() + 4 + 8;         // key
    logical += 8 + (run.count < 128 ? 1 : run.count < 16384 ? 2 : 3);  // value
    return true;
  }));
  const auto size = SizeOf(work / name);
  std::sort(checkpoint_ms.begin(), checkpoint_ms.end());
  std::printf("== 2. Bytes per mirrored record, %s: %lld records in %d partitions\n", name,
              static_cast<long long>(kRecords), kPartitions);
  std::printf("   %lld runs (%.1f records per run), %llu run puts in %llu checkpoints\n",
              static_cast<long long>(runs),
              static_cast<double>(kRecords) / static_cast<double>(runs),
              static_cast<unsigned long long>(stats.run_entries_written),
              static_cast<unsigned long long>(stats.checkpoints));
  std::printf(
      "   logical %.1f bytes per run (key+value); on disk after compaction %llu bytes SST\n",
      static_cast<double>(logical) / static_cast<double>(runs),
      static_cast<unsigned long long>(size.sst));
  std::printf(
      "   -> %.2f bytes per run, %.5f bytes per mirrored record (SST); directory %.1f KiB\n",
      static_cast<double>(size.sst) / static_cast<double>(runs),
      static_cast<double>(size.sst) / static_cast<double>(kRecords),
      static_cast<double>(size.total) / 1024);
  std::printf(
      "   OnDelivered %.0f ns per report; Checkpoint (fsync) p50 %.2f ms, p99 %.2f ms; "
      "total %.1f s\n",
      report_s * 1e9 / static_cast<double>(kRecords), Percentile(checkpoint_ms, 0.5),
      Percentile(checkpoint_ms, 0.99), total_s);
}

// ---------------------------------------------------------------------------------------
// 3. Re-delivered records after failover: ours vs MirrorMaker 2.

struct Sync {
  int64_t upstream;
  int64_t downstream;
};

// OffsetSyncWriter.PartitionState (one partition).
class Mm2SyncWriter {
 public:
  explicit Mm2SyncWriter(int64_t max_offset_lag) : max_offset_lag_(max_offset_lag) {}

  // A record's producer ack (MirrorSourceTask.commitRecord): maybe a sync to send now.
  std::optional<Sync> OnCommitRecord(int64_t upstream, int64_t downstream) {
    const bool no_previous_sync = last_sync_downstream_ == -1;
    const bool too_stale = downstream - (last_sync_downstream_ + 1) >= max_offset_lag_;
    const bool skipped_upstream = upstream - previous_upstream_ != 1;
    const bool truncated_downstream = downstream < previous_downstream_;
    if (no_previous_sync || too_stale || skipped_upstream || truncated_downstream) {
      last_sync_downstream_ = downstream;
      should_sync_ = true;
    }
    previous_upstream_ = upstream;
    previous_downstream_ = downstream;
    if (should_sync_) {
      should_sync_ = false;
      delayed_.reset();
      return Sync{upstream, downstream};
    }
    delayed_ = Sync{upstream, downstream};
    return std::nullopt;
  }

  // The task's periodic offset commit promotes the delayed sync.
  std::optional<Sync> OnTaskCommit() {
    auto sync = delayed_;
    delayed_.reset();
    return sync;
  }

 private:
  int64_t max_offset_lag_;
  int64_t previous_upstream_ = -1;
  int64_t previous_downstream_ = -1;
  int64_t last_sync_downstream_ = -1;
  bool should_sync_ = false;
  std::optional<Sync> delayed_;
};

// OffsetSyncStore, one partition, after the initial read to the end of the syncs topic. It
// keeps 64 syncs per partition, spaced roughly exponentially back from the newest. Two
// generations of its update rule:
//   kBucketed   (Kafka 3.5.0): syncs[i] is replaced while the new upstream offset differs from
//               it above bit i; crossing a large power of two replaces many buckets at once.
//   kInvariants (Kafka 3.5.2/3.6+, KAFKA-15202): invariants B and C of OffsetSyncStore.java
//               bound the spacing of neighbouring syncs, promoting older syncs down the
//               array instead of dropping them.
// Identity matters (Java compares the sync objects by reference): every sync gets an id.
class Mm2SyncStore {
 public:
  enum class Rule { kBucketed, kInvariants };
  explicit Mm2SyncStore(Rule rule) : rule_(rule) {}

  void Add(Sync sync) {
    const Entry entry{sync, next_id_++};
    if (!initialized_ || syncs_[0].sync.upstream > sync.upstream) {
      syncs_.fill(entry);
      initialized_ = true;
      return;
    }
    if (rule_ == Rule::kBucketed) {
      AddBucketed(entry);
    } else {
      AddWithInvariants(entry);
    }
  }

  // translateDownstream(): -1 when the group is below every stored sync.
  std::optional<int64_t> Translate(int64_t upstream) const {
    if (!initialized_) return std::nullopt;
    const Sync* sync = &syncs_[kSize - 1].sync;
    for (const auto& e : syncs_) {
      if (e.sync.upstream <= upstream) {
        sync = &e.sync;
        break;
      }
    }
    if (sync->upstream > upstream) return -1;
    return sync->downstream + (upstream == sync->upstream ? 0 : 1);
  }

 private:
  static constexpr int kSize = 64;
  struct Entry {
    Sync sync;
    uint64_t id;
  };
  static bool Same(const Entry& a, const Entry& b) { return a.id == b.id; }
  // Java long arithmetic wraps; do the same without signed overflow.
  static int64_t Wrap(uint64_t v) { return static_cast<int64_t>(v); }

  // B: a newer sync at i is no further than 2^j - 2^i ahead of the older one at j.
  static bool InvariantB(const Entry& at_i, const Entry& at_j, int i, int j) {
    const int64_t bound =
        Wrap(static_cast<uint64_t>(at_j.sync.upstream) + (uint64_t{1} << j) - (uint64_t{1} << i));
    return Same(at_i, at_j) || bound < 0 || at_i.sync.upstream <= bound;
  }
  // C: neighbouring distinct syncs are at least 2^(i-2) apart.
  static bool InvariantC(const Entry& at_i, const Entry& at_j, int i) {
    const int64_t bound =
        Wrap(static_cast<uint64_t>(at_j.sync.upstream) + (uint64_t{1} << std::max(i - 2, 0)));
    return Same(at_i, at_j) || (bound >= 0 && at_i.sync.upstream >= bound);
  }

  void AddBucketed(const Entry& entry) {
    syncs_[0] = entry;
    for (int i = 1; i < kSize; ++i) {
      const int64_t mask = std::numeric_limits<int64_t>::max() << i;
      if (((syncs_[i].sync.upstream ^ entry.sync.upstream) & mask) == 0) break;
      syncs_[i] = entry;
    }
  }

  void AddWithInvariants(const Entry& entry) {
    const auto original = syncs_;
    Entry replacement = entry;
    int candidate = 0;  // index into `original` of the next older sync to consider
    syncs_[0] = entry;
    for (int current = 1; current < kSize; ++current) {
      const int previous = current - 1;
      bool skip = false;
      do {
        const Entry& old = original[candidate];
        const bool recent_enough = InvariantB(syncs_[previous], old, previous, current);
        const bool apart_from_previous = InvariantC(syncs_[previous], old, previous);
        const bool apart_from_next =
            current + 1 >= kSize || InvariantC(old, syncs_[current + 1], current);
        const bool duplicate = candidate + 1 < kSize && Same(old, original[candidate + 1]);
        const bool promote = recent_enough && apart_from_previous && apart_from_next;
        if (promote) replacement = old;
        skip = duplicate || !apart_from_previous;
        if (promote || skip) ++candidate;
      } while (candidate < current && skip);
      if (InvariantB(syncs_[previous], syncs_[current], previous, current)) break;
      syncs_[current] = replacement;
    }
  }

  Rule rule_;
  bool initialized_ = false;
  uint64_t next_id_ = 0;
  std::array<Entry, kSize> syncs_{};
};

struct Mm2Figures {
  uint64_t redelivered = 0;
  uint64_t skipped = 0;
  uint64_t exact = 0;
  uint64_t untranslated = 0;  // no checkpoint at all (below every retained sync)
  std::vector<double> per_failover;

  void Add(std::optional<int64_t> translated, int64_t exact_target) {
    if (!translated || *translated < 0) {
      ++untranslated;
      return;
    }
    const int64_t delta = exact_target - *translated;
    redelivered += static_cast<uint64_t>(std::max<int64_t>(0, delta));
    skipped += static_cast<uint64_t>(std::max<int64_t>(0, -delta));
    exact += delta == 0;
    per_failover.push_back(static_cast<double>(delta));
  }
};

struct FailoverFigures {
  uint64_t samples = 0;
  uint64_t ours_redelivered = 0;
  uint64_t ours_skipped = 0;
  uint64_t ours_exact = 0;
  Mm2Figures mm2_current;  // Kafka 3.6+ store
  Mm2Figures mm2_350;      // Kafka 3.5.0 store
  uint64_t mm2_syncs = 0;
  uint64_t our_syncs = 0;
};

// One partition of `records` deliveries with a 1-2 offset source gap every ~`mean_gap`
// records. At random moments (the mirror has replicated up to source H) a consumer group that
// stands `lag` records behind fails over; both translations are compared with the truth: the
// target offset of the first mirrored record at or after the group's position.
FailoverFigures SimulateFailover(const std::filesystem::path& dir, int64_t records,
                                 int64_t mean_gap, int64_t max_lag, int64_t commit_every,
                                 int samples, uint64_t seed) {
  auto store = Open(dir);
  OffsetMap map(*store);
  OffsetSyncEmitter emitter;
  std::vector<mm2::OffsetSync> our_syncs;
  const PartitionKey key{"us-east->eu-west", "orders", 0};
  Mm2SyncWriter writer(/*max_offset_lag=*/100);
  Mm2SyncStore mm2(Mm2SyncStore::Rule::kInvariants);
  Mm2SyncStore mm2_350(Mm2SyncStore::Rule::kBucketed);
  FailoverFigures figures;

  std::mt19937_64 rng(seed);
  std::geometric_distribution<int64_t> until_gap(1.0 / static_cast<double>(mean_gap));
  std::vector<int64_t> moments(static_cast<size_t>(samples));
  for (auto& m : moments)
    m = 1000 + static_cast<int64_t>(rng() % static_cast<uint64_t>(records - 1000));
  std::sort(moments.begin(), moments.end());

  std::map<int64_t, int64_t> truth;  // every mirrored record: source -> target
  int64_t source = 0;
  int64_t target = 0;
  int64_t next_gap = until_gap(rng);
  size_t moment = 0;
  for (int64_t i = 0; i < records; ++i) {
    if (next_gap-- == 0) {
      source += 1 + static_cast<int64_t>(rng() % 2);
      next_gap = until_gap(rng);
    }
    truth[source] = target;
    map.OnDelivered(key, SourceOffset(source), TargetOffset(target));
    emitter.OnDelivered(key, SourceOffset(source), TargetOffset(target), &our_syncs);
    if (auto sync = writer.OnCommitRecord(source, target)) {
      mm2.Add(*sync);
      mm2_350.Add(*sync);
      ++figures.mm2_syncs;
    }
    ++source;
    ++target;
    if (i % commit_every == commit_every - 1) {
      emitter.FlushTail(&our_syncs);  // ours: the tail sync after each periodic checkpoint
      if (auto sync = writer.OnTaskCommit()) {
        mm2.Add(*sync);
        mm2_350.Add(*sync);
        ++figures.mm2_syncs;
      }
    }
    while (moment < moments.size() && moments[moment] == i) {
      ++moment;
      // The mirror checkpoints; the group stands `lag` records behind the newest one.
      Check("checkpoint", map.Checkpoint());
      const int64_t lag = static_cast<int64_t>(rng() % static_cast<uint64_t>(max_lag + 1));
      const int64_t group = std::max<int64_t>(0, source - lag);
      const int64_t exact =
          truth.lower_bound(group) == truth.end() ? target : truth.lower_bound(group)->second;
      auto ours = map.Translate(key, SourceOffset(group));
      if (!ours.ok()) Die("translate", ours.error());
      const int64_t ours_delta = exact - ours->target.value();
      figures.ours_redelivered += static_cast<uint64_t>(std::max<int64_t>(0, ours_delta));
      figures.ours_skipped += static_cast<uint64_t>(std::max<int64_t>(0, -ours_delta));
      figures.ours_exact += ours_delta == 0;

      figures.mm2_current.Add(mm2.Translate(group), exact);
      figures.mm2_350.Add(mm2_350.Translate(group), exact);
      ++figures.samples;
    }
  }
  emitter.FlushTail(&our_syncs);
  figures.our_syncs = our_syncs.size();
  return figures;
}

void PrintMm2(const char* name, Mm2Figures& m, uint64_t syncs) {
  std::sort(m.per_failover.begin(), m.per_failover.end());
  const bool any = !m.per_failover.empty();
  const double translated = static_cast<double>(m.per_failover.size());
  std::printf(
      "     %s %llu re-delivered (per failover mean %.1f, p50 %.0f, p99 %.0f, max %.0f), "
      "%llu skipped, %llu exact, %llu without checkpoint (%llu syncs)\n",
      name, static_cast<unsigned long long>(m.redelivered),
      any ? static_cast<double>(m.redelivered) / translated : 0.0,
      any ? Percentile(m.per_failover, 0.5) : 0.0, any ? Percentile(m.per_failover, 0.99) : 0.0,
      any ? m.per_failover.back() : 0.0, static_cast<unsigned long long>(m.skipped),
      static_cast<unsigned long long>(m.exact), static_cast<unsigned long long>(m.untranslated),
      static_cast<unsigned long long>(syncs));
}

void BenchFailover(const std::filesystem::path& work) {
  constexpr int64_t kRecords = 2'000'000;
  std::printf(
      "== 3. Re-delivered records after failover (one partition, %lld records, "
      "MM2 offset.lag.max=100)\n",
      static_cast<long long>(kRecords));
  struct Scenario {
    const char* name;
    int64_t mean_gap;
    int64_t max_lag;
    int64_t commit_every;
  };
  const Scenario scenarios[] = {
      {"gap every ~1000, group lag 0..1000, task commit every 10k records", 1000, 1000, 10'000},
      {"gap every ~1000, group lag 0..100k, task commit every 10k records", 1000, 100'000, 10'000},
      {"gap every ~1000, group lag 0..1000, task commit every 1M records", 1000, 1000, 1'000'000},
      {"gap every ~50, group lag 0..1000, task commit every 10k records", 50, 1000, 10'000},
      {"no source gaps, group lag 0..1000, task commit every 10k records", int64_t{1} << 50, 1000,
       10'000},
  };
  int index = 0;
  for (const auto& s : scenarios) {
    auto f = SimulateFailover(work / ("failover" + std::to_string(index++)), kRecords, s.mean_gap,
                              s.max_lag, s.commit_every, 2000, 3);
    std::printf("   %s, %llu failovers:\n", s.name, static_cast<unsigned long long>(f.samples));
    std::printf(
        "     ours:       %llu re-delivered, %llu skipped, %llu/%llu exact "
        "(%llu syncs published)\n",
        static_cast<unsigned long long>(f.ours_redelivered),
        static_cast<unsigned long long>(f.ours_skipped),
        static_cast<unsigned long long>(f.ours_exact), static_cast<unsigned long long>(f.samples),
        static_cast<unsigned long long>(f.our_syncs));
    PrintMm2("MM2 3.6+:  ", f.mm2_current, f.mm2_syncs);
    PrintMm2("MM2 3.5.0: ", f.mm2_350, f.mm2_syncs);
  }
}

}  // namespace
}  // namespace rm::offsets

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  const bool own_dir = argc < 2;
  const fs::path work =
      own_dir ? fs::temp_directory_path() / ("offsets_bench-" + std::to_string(::getpid()))
              : fs::path(argv[1]);
  fs::create_directories(work);
  rm::offsets::BenchLookups(work, 16u << 20);  // the default
  rm::offsets::BenchLookups(work, 64u << 20);
  rm::offsets::BenchBytesPerRecord(work, "realistic (gap every ~1000 records)", 1000);
  rm::offsets::BenchBytesPerRecord(work, "gap-free", 0);
  rm::offsets::BenchFailover(work);
  if (own_dir) fs::remove_all(work);
  return 0;
}
