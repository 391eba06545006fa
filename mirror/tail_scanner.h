// Reads the end of target partitions to find what the mirror already copied there: the
// provenance headers of the records name their source offsets. This is how the mirror
// resumes without loss or duplicates whatever its committed offsets say (DESIGN.md
// invariant 2), and how the offset map catches up on records delivered after its last
// checkpoint.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/kafka_client.h"
#include "common/offset_types.h"
#include "common/result.h"

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
};

struct TailScanResult {
  // Records copied from (source cluster, same partition) found in the scanned range, in
  // target order (and so in source order).
  std::vector<CopiedRecord> copied;
  // The target partition's watermarks at the time of the scan.
  common::Watermarks watermarks;
};

class TailScanner {
 public:
  // `props` are the target cluster's client properties (bootstrap.servers included).
  // `source_cluster` is the alias whose provenance headers count.
  TailScanner(const common::KafkaProperties& props, std::string source_cluster,
              std::string context);

  common::Result<TailScanResult> Scan(const TailScanRequest& request,
                                      std::chrono::milliseconds timeout);

 private:
  // Reads [from, to) of one partition and appends copied records.
  common::Status ReadRange(const std::string& topic, int32_t partition, int64_t from, int64_t to,
                           std::chrono::steady_clock::time_point deadline,
                           std::vector<CopiedRecord>* out);
  common::Consumer consumer_;
  std::string source_cluster_;
  std::string context_;
};

}  // namespace rm::mirror
