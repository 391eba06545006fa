#include "mirror/tail_scanner.h"

#include <fmt/format.h>

#include "mirror/provenance.h"

namespace rm::mirror {

using common::Error;
using common::Result;
using common::Status;
using namespace std::chrono_literals;

namespace {

common::KafkaProperties ScannerProps(common::KafkaProperties props) {
  props["group.id"] = "regionmirror-tail-scanner";  // never joins or commits; assign() only
  props["enable.auto.commit"] = "false";
  props["enable.partition.eof"] = "true";
  props["auto.offset.reset"] = "earliest";
  props["isolation.level"] = "read_uncommitted";
  props["fetch.wait.max.ms"] = "10";
  return props;
}

}  // namespace

TailScanner::TailScanner(const common::KafkaProperties& props, std::string source_cluster,
                         std::string context)
    : consumer_(ScannerProps(props), nullptr, context + " tail-scanner"),
      source_cluster_(std::move(source_cluster)),
      context_(std::move(context)) {}

Status TailScanner::ReadRange(const std::string& topic, int32_t partition, int64_t from, int64_t to,
                              std::chrono::steady_clock::time_point deadline,
                              std::vector<CopiedRecord>* out) {
  if (from >= to) return Status::Ok();
  if (auto st = consumer_.Assign({{topic, partition, from}}); !st.ok()) return st;
  int64_t next = from;
  while (next < to) {
    if (std::chrono::steady_clock::now() > deadline) {
      consumer_.Assign({}).PermitUnchecked();
      return Error{"mirror.tail_timeout",
                   fmt::format("{}: reading {}[{}] offsets {}..{} timed out at {}", context_, topic,
                               partition, from, to - 1, next)};
    }
    common::KafkaMessage m = consumer_.Poll(100ms);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (m->offset >= to) break;
      continue;
    }
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
          m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
        // Retention removed the start of the range meanwhile; the reset policy moves on.
        continue;
      }
      consumer_.Assign({}).PermitUnchecked();
      return Error{"mirror.tail_read", fmt::format("{}: reading {}[{}]: {}", context_, topic,
                                                   partition, rd_kafka_message_errstr(m.get()))};
    }
    next = m->offset + 1;
    if (m->offset >= to) break;
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m.get(), &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (auto p = FindProvenance(hdrs, source_cluster_); p && p->partition == partition) {
        out->push_back({common::SourceOffset(p->offset), common::TargetOffset(m->offset)});
      }
    }
  }
  return consumer_.Assign({});
}

Result<TailScanResult> TailScanner::Scan(const TailScanRequest& req,
                                         std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto wm = consumer_.QueryWatermarks(req.target_topic, req.partition, timeout);
  if (!wm.ok()) return wm.error();
  TailScanResult result;
  result.watermarks = *wm;
  if (!req.find_last_only) {
    int64_t from = std::max(req.from, wm->low);
    if (auto st =
            ReadRange(req.target_topic, req.partition, from, wm->high, deadline, &result.copied);
        !st.ok()) {
      return st.error();
    }
    return result;
  }
  // Walk back from the end in growing windows. Usually the last record is ours and the first
  // window answers; with identity policy, local writes to the same topic may sit after it.
  int64_t end = wm->high;
  int64_t window = 64;
  while (end > wm->low) {
    int64_t start = std::max(wm->low, end - window);
    std::vector<CopiedRecord> found;
    if (auto st = ReadRange(req.target_topic, req.partition, start, end, deadline, &found);
        !st.ok()) {
      return st.error();
    }
    if (!found.empty()) {
      result.copied.push_back(found.back());
      return result;
    }
    end = start;
    window = std::min<int64_t>(window * 4, 1 << 20);
  }
  return result;
}

}  // namespace rm::mirror
