// Reads the end of target partitions to find what the mirror already copied there: the
// provenance headers of the records name their source offsets. This is how the mirror
// resumes without loss or duplicates whatever its committed offsets say (docs/architecture.md
// invariant 2), and how the offset map catches up on records delivered after its last
// checkpoint.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/kafka_client.h"
#include "common/offset_types.h"
#include "common/result.h"
#include "replication/provenance.h"

namespace rm::mirror {

struct CopiedRecord {
  common::SourceOffset source;
  common::TargetOffset target;
};

struct TailScanRequest {
  std::string target_topic;
  int32_t partition = 0;
  // Scan [from, end of partition). With `find_last_only`, `from` is ignored: the scan walks
  // back from the end in growing windows until it finds a record copied by this flow.
  int64_t from = 0;
  bool find_last_only = true;
  // The topic copied into target_topic: only records whose last provenance header names it
  // (and this flow's clusters and `partition`) are this flow's copies. Version-1 headers carry
  // no topic; for them the source cluster and partition decide, as before.
  std::string source_topic;
};

struct TailScanResult {
  // Records copied from (source cluster, same partition) found in the scanned range, in
  // target order (and so in source order).
  std::vector<CopiedRecord> copied;
  // The target partition's watermarks at the time of the scan.
  common::Watermarks watermarks;
};

// True if `p`, the last provenance header of a record in req's target partition, says the flow
// from `source_cluster` to `target_cluster` copied it there.
bool IsFlowCopy(const replication::Provenance& p, std::string_view source_cluster,
                std::string_view target_cluster, const TailScanRequest& req);

// How much one ScanMany() may read: a rebalance callback waits for it, and its memory holds
// what it finds. A partition past a bound gets the error "mirror.tail_scan_bound" (never a
// guess); the caller holds it back and says so.
struct TailScanLimits {
  // Records read per partition: a walk back that finds no copy of this flow within it, or a
  // range longer than it, is an error. Default: 1000000
  int64_t max_records = 1'000'000;
  // The whole scan; partitions still being read then fail. Default: 120000 ms
  std::chrono::milliseconds max_time{120'000};
};

class TailScanner {
 public:
  // `props` are the target cluster's client properties (bootstrap.servers included).
  // `source_cluster` and `target_cluster` are the aliases of the flow whose copies count.
  TailScanner(const common::KafkaProperties& props, std::string source_cluster,
              std::string target_cluster, std::string context, TailScanLimits limits = {});

  common::Result<TailScanResult> Scan(const TailScanRequest& request,
                                      std::chrono::milliseconds timeout);

  // Scans many partitions together: their watermarks in one request per broker and their
  // ranges read in one assignment, so a rebalance that hands out hundreds of partitions waits
  // a few round trips, not a few per partition. Answer i is for requests[i]; an error fails
  // only its partition. The partitions must be distinct. `timeout` bounds the watermark
  // request and each round of reads, a round getting 20 us more for every record it reads;
  // the limits bound the whole.
  std::vector<common::Result<TailScanResult>> ScanMany(const std::vector<TailScanRequest>& requests,
                                                       std::chrono::milliseconds timeout);

 private:
  // One partition's range [next, to) still to read, and the copied records found in it.
  struct Range {
    size_t request = 0;
    int64_t from = 0;
    int64_t next = 0;
    int64_t to = 0;
    std::vector<CopiedRecord> found;
    std::optional<common::Error> error;
  };
  // Reads every range at once; on return each is read to its end or has an error.
  void ReadRanges(const std::vector<TailScanRequest>& requests, std::vector<Range>& ranges,
                  std::chrono::steady_clock::time_point deadline);
  common::Consumer consumer_;
  std::string source_cluster_;
  std::string target_cluster_;
  std::string context_;
  TailScanLimits limits_;
};

}  // namespace rm::mirror
