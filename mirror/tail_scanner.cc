#include "mirror/tail_scanner.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>

#include "replication/provenance.h"

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
                         std::string target_cluster, std::string context, TailScanLimits limits)
    : consumer_(ScannerProps(props), nullptr, context + " tail-scanner"),
      source_cluster_(std::move(source_cluster)),
      target_cluster_(std::move(target_cluster)),
      context_(std::move(context)),
      limits_(limits) {}

bool IsFlowCopy(const replication::Provenance& p, std::string_view source_cluster,
                std::string_view target_cluster, const TailScanRequest& req) {
  if (p.cluster != source_cluster || p.partition != req.partition) return false;
  // Version 1 (older releases) names neither target nor topic: trusted as it always was.
  return p.version == 1 || (p.target == target_cluster && p.topic == req.source_topic);
}

void TailScanner::ReadRanges(const std::vector<TailScanRequest>& requests,
                             std::vector<Range>& ranges,
                             std::chrono::steady_clock::time_point deadline) {
  std::map<std::pair<std::string, int32_t>, Range*> open;
  std::vector<common::TopicPartition> assignment;
  for (auto& r : ranges) {
    if (r.error || r.next >= r.to) continue;
    const auto& q = requests[r.request];
    open[{q.target_topic, q.partition}] = &r;
    assignment.push_back({q.target_topic, q.partition, r.next});
  }
  if (open.empty()) return;
  auto fail_open = [&open](const Error& e) {
    for (auto& [tp, r] : open) r->error = e;
    open.clear();
  };
  if (auto st = consumer_.Assign(assignment); !st.ok()) {
    fail_open(st.error());
    return;
  }
  while (!open.empty()) {
    if (std::chrono::steady_clock::now() > deadline) {
      for (auto& [tp, r] : open) {
        r->error = Error{"mirror.tail_timeout",
                         fmt::format("{}: reading {}[{}] offsets {}..{} timed out at {}", context_,
                                     tp.first, tp.second, r->from, r->to - 1, r->next)};
      }
      break;
    }
    common::KafkaMessage m = consumer_.Poll(100ms);
    if (!m) continue;
    std::optional<std::pair<std::string, int32_t>> tp;
    if (m->rkt && m->partition >= 0) tp.emplace(rd_kafka_topic_name(m->rkt), m->partition);
    auto it = tp ? open.find(*tp) : open.end();
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (it != open.end() && m->offset >= it->second->to) open.erase(it);
      continue;
    }
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
          m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
        // Retention removed the start of the range meanwhile; the reset policy moves on.
        continue;
      }
      if (tp && it == open.end()) continue;  // about a partition already read to its end
      Error e{"mirror.tail_read", tp ? fmt::format("{}: reading {}[{}]: {}", context_, tp->first,
                                                   tp->second, rd_kafka_message_errstr(m.get()))
                                     : fmt::format("{}: reading the target: {}", context_,
                                                   rd_kafka_message_errstr(m.get()))};
      if (it != open.end()) {
        it->second->error = e;
        open.erase(it);
      } else {
        fail_open(e);
      }
      continue;
    }
    if (it == open.end()) continue;  // prefetched past the end of a finished range
    Range& r = *it->second;
    r.next = m->offset + 1;
    if (m->offset >= r.to) {
      open.erase(it);
      continue;
    }
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m.get(), &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (auto p = replication::LastProvenance(hdrs);
          p && IsFlowCopy(*p, source_cluster_, target_cluster_, requests[r.request])) {
        r.found.push_back({common::SourceOffset(p->offset), common::TargetOffset(m->offset)});
      }
    }
    if (r.next >= r.to) open.erase(it);
  }
  // The next round assigns afresh whatever this leaves behind.
  consumer_.Assign({}).PermitUnchecked();
}

Result<TailScanResult> TailScanner::Scan(const TailScanRequest& req,
                                         std::chrono::milliseconds timeout) {
  return std::move(ScanMany({req}, timeout).front());
}

std::vector<Result<TailScanResult>> TailScanner::ScanMany(
    const std::vector<TailScanRequest>& requests, std::chrono::milliseconds timeout) {
  std::vector<Result<TailScanResult>> out(requests.size(), TailScanResult{});
  if (requests.empty()) return out;
  const auto overall = std::chrono::steady_clock::now() + limits_.max_time;
  auto bound = [&](size_t i, const std::string& what) {
    out[i] = Error{"mirror.tail_scan_bound",
                   fmt::format("{}: {}[{}]: {} (mirror.tail_scan_max_records is {}, "
                               "mirror.tail_scan_timeout_ms {})",
                               context_, requests[i].target_topic, requests[i].partition, what,
                               limits_.max_records, limits_.max_time.count())};
  };
  std::vector<common::TopicPartition> tps;
  for (const auto& q : requests) tps.push_back({q.target_topic, q.partition});
  auto wms = consumer_.QueryWatermarks(tps, timeout);
  if (!wms.ok()) {
    for (auto& o : out) o = wms.error();
    return out;
  }
  // find_last_only walks back from the end in growing windows, each partition on its own.
  // Usually the last record is ours and the first window answers; with identity policy, local
  // writes to the same topic may sit after it.
  struct Walk {
    bool active = false;
    int64_t end = 0;
    int64_t window = 64;
    int64_t read = 0;  // records read so far
  };
  std::vector<Walk> walks(requests.size());
  std::vector<Range> round;
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& wm = (*wms)[i];
    if (!wm.ok()) {
      out[i] = wm.error();
      continue;
    }
    out[i]->watermarks = *wm;
    if (requests[i].find_last_only) {
      walks[i] = {true, wm->high, 64};
    } else {
      int64_t from = std::max(requests[i].from, wm->low);
      if (wm->high - from > limits_.max_records) {
        bound(i, fmt::format("the range to read, offsets {}..{}, holds more than the bound", from,
                             wm->high - 1));
        continue;
      }
      round.push_back({i, from, from, wm->high, {}, {}});
    }
  }
  for (;;) {
    for (size_t i = 0; i < walks.size(); ++i) {
      Walk& w = walks[i];
      if (!w.active) continue;
      const int64_t low = out[i]->watermarks.low;
      if (w.end <= low) {
        w.active = false;  // nothing of ours in the partition
        continue;
      }
      if (w.read >= limits_.max_records) {
        w.active = false;
        bound(i, fmt::format("no copy of this flow in the last {} records (offsets {}..{}); "
                             "where to resume is unknown",
                             w.read, w.end, out[i]->watermarks.high - 1));
        continue;
      }
      int64_t from = std::max({low, w.end - w.window, w.end - (limits_.max_records - w.read)});
      w.read += w.end - from;
      round.push_back({i, from, from, w.end, {}, {}});
    }
    if (round.empty()) break;
    if (std::chrono::steady_clock::now() >= overall) {
      for (const auto& r : round) {
        walks[r.request].active = false;
        bound(r.request, "the scan ran out of time");
      }
      break;
    }
    // Each round has the timeout plus 20 us for every record it must read, so a long range (an
    // offset map far behind the target, e.g. for a partition back from another instance after
    // hours) is read to its end at 50k records/s or more instead of timing out on every retry.
    int64_t records = 0;
    for (const auto& r : round) records += r.to - r.next;
    ReadRanges(requests, round,
               std::min(overall, std::chrono::steady_clock::now() + timeout +
                                     std::chrono::microseconds(20 * records)));
    for (auto& r : round) {
      const size_t i = r.request;
      Walk& w = walks[i];
      if (r.error) {
        out[i] = *r.error;
        w.active = false;
      } else if (!requests[i].find_last_only) {
        out[i]->copied = std::move(r.found);
      } else if (!r.found.empty()) {
        out[i]->copied.push_back(r.found.back());
        w.active = false;
      } else {
        w.end = r.from;
        w.window = std::min<int64_t>(w.window * 4, 1 << 20);
      }
    }
    round.clear();
  }
  return out;
}

}  // namespace rm::mirror
