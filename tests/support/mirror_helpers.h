// Helpers for tests that run the mirror as a separate process against a testbed.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/kafka_helpers.h"
#include "tests/support/process.h"

namespace rm::testing {

struct FlowSpec {
  std::string source;
  std::string target;
  std::vector<std::string> topics = {".*"};
  std::vector<std::string> topics_exclude = {};
  std::string policy = "default";
  std::string extra_yaml;  // more lines under the flow (indented by four spaces)
};

struct MirrorSpec {
  std::map<std::string, std::string> clusters;  // alias -> bootstrap servers
  std::vector<FlowSpec> flows;
  std::string offsets_dir;  // empty: no offset map
  int refresh_interval_ms = 1000;
  std::string extra_mirror_yaml;  // more lines under "mirror:" (indented by two spaces)
  int admin_port = 0;
};

std::string MirrorYaml(const MirrorSpec& spec);

// `regionmirror run` on a config written into `dir`; killed (SIGKILL) when destroyed unless it
// was stopped. The log is appended to <dir>/mirror.log.
class MirrorProcess {
 public:
  MirrorProcess(const MirrorSpec& spec, const std::string& dir, const std::string& name = "mirror");
  // SIGTERM and wait for a clean exit; returns the exit code (or -1 on timeout).
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  void Kill() { child_->Kill(); }
  // Any signal to the process group (SIGSTOP and SIGCONT pause and resume it).
  void Signal(int sig) { child_->Signal(sig); }
  bool running() { return child_->running(); }
  std::string Log() const;
  // The admin API address from the log ("" until it is up).
  std::string AdminAddress() const;
  const std::string& log_path() const { return log_path_; }

 private:
  std::string log_path_;
  std::unique_ptr<ChildProcess> child_;
};

// Sum of high watermarks over the topic's partitions (-1 if the topic cannot be read), through
// one client kept for the cluster across calls.
int64_t TotalHighWatermark(const std::string& bootstrap, const std::string& topic);
// The high watermark of each partition, by partition id (empty if the topic cannot be read),
// through the same client.
std::map<int32_t, int64_t> HighWatermarks(const std::string& bootstrap, const std::string& topic);
// Destroys that client; ScopedTestbed calls it before its clusters stop.
void ReleaseWatermarkClient();

// Waits until the target topic's total high watermark reaches `expected` (and stays there for
// `settle`). Returns the last total seen.
int64_t WaitForTotal(const std::string& bootstrap, const std::string& topic, int64_t expected,
                     std::chrono::milliseconds timeout,
                     std::chrono::milliseconds settle = std::chrono::milliseconds(0));

struct CopyCheck {
  size_t source_records = 0;
  size_t target_copies = 0;  // target records whose provenance names the source
  size_t lost = 0;           // source records with no copy
  size_t duplicated = 0;     // extra copies
  size_t misplaced = 0;      // copy in another partition or out of order
  size_t mismatched = 0;     // key, value, headers or timestamp differ
  std::string first_problem;
  // lost and duplicated by source partition (only partitions with some)
  std::map<int32_t, size_t> lost_by_partition, duplicated_by_partition;
};

// Which client reads both topics for CheckExactCopy.
enum class CopyReader {
  kOurClient,    // librdkafka through common/ (ConsumeWithOurClient)
  kKafkaPython,  // kafka-python, a client no one here wrote (ConsumeWithKafkaPython)
};

// Compares every record of source_topic with its copies in target_topic (matched by the
// provenance header naming `source_alias`).
CopyCheck CheckExactCopy(const std::string& source_bootstrap, const std::string& source_topic,
                         const std::string& target_bootstrap, const std::string& target_topic,
                         const std::string& source_alias,
                         CopyReader reader = CopyReader::kOurClient);

// The provenance header's fields, for tests that inspect copies.
struct ProvenanceFields {
  std::string cluster;
  int32_t partition = -1;
  int64_t offset = -1;
  std::string target;  // "" in version-1 headers
  std::string topic;   // the source topic; "" in version-1 headers
};
std::vector<ProvenanceFields> ProvenanceOf(const Record& r);

}  // namespace rm::testing
