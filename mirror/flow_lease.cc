#include "mirror/flow_lease.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/log.h"

namespace rm::mirror {

using namespace std::chrono_literals;

bool FlowOwners::Apply(const std::string& group, int64_t ts_ms) {
  if (owner_ == group) {
    owner_last_ms_ = std::max(owner_last_ms_, ts_ms);
    return true;
  }
  if (owner_.empty() || ts_ms - owner_last_ms_ > lease_ms_) {
    owner_ = group;
    owner_last_ms_ = ts_ms;
    return true;
  }
  return false;
}

FlowLease::FlowLease(const common::KafkaProperties& props, std::string flow, std::string group,
                     int64_t lease_ms, std::string context)
    : flow_(std::move(flow)),
      group_(std::move(group)),
      context_(std::move(context)),
      lease_ms_(lease_ms),
      owners_(lease_ms) {
  common::KafkaProperties pprops = props;
  pprops["enable.idempotence"] = "true";
  pprops["acks"] = "all";
  pprops["linger.ms"] = "0";
  pprops["client.id"] = "regionmirror-flow-lease";
  producer_ = std::make_unique<common::Producer>(
      pprops,
      [this](const rd_kafka_message_t& m) {
        if (m.err) {
          claim_failed_ = true;
          return;
        }
        if (first_claim_offset_ < 0) first_claim_offset_ = m.offset;
      },
      context_ + " flow lease");
  common::KafkaProperties cprops = props;
  cprops["group.id"] = "regionmirror-flow-lease-reader";  // assign() only, never commits
  cprops["enable.auto.commit"] = "false";
  cprops["auto.offset.reset"] = "earliest";
  cprops["fetch.wait.max.ms"] = "50";
  reader_ = std::make_unique<common::Consumer>(cprops, nullptr, context_ + " flow lease reader");
}

FlowLease::Verdict FlowLease::Poll(int64_t now_ms) {
  if (!assigned_) {
    // Here, not in the constructor: the caller makes sure the topic exists first.
    if (auto st = reader_->Assign({{kFlowOwnersTopic, 0, RD_KAFKA_OFFSET_BEGINNING}}); !st.ok()) {
      RM_LOG_WARN("{}: {}", context_, st.error().message);
      return Verdict::kUnknown;
    }
    assigned_ = true;
  }
  if (now_ms >= next_claim_ms_) {
    common::ProduceRecord r;
    r.topic = kFlowOwnersTopic;
    r.partition = 0;
    r.key = flow_;
    r.value = group_;
    r.timestamp_ms = now_ms;
    if (producer_->Produce(r, nullptr) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      next_claim_ms_ = now_ms + std::max<int64_t>(lease_ms_ / 5, 1);
    }
  }
  producer_->Poll(0ms);
  if (claim_failed_) {
    // Retried on the next claim; a claim that never lands leaves the verdict unknown.
    RM_LOG_WARN("{}: claiming the flow in {} failed; retrying", context_, kFlowOwnersTopic);
    claim_failed_ = false;
    next_claim_ms_ = now_ms;
  }
  for (int i = 0; i < 10000; ++i) {
    common::KafkaMessage m = reader_->Poll(0ms);
    if (!m) break;
    if (m->err) continue;
    read_up_to_ = m->offset;
    if (!m->key || std::string_view(static_cast<const char*>(m->key), m->key_len) != flow_) {
      continue;
    }
    rd_kafka_timestamp_type_t type;
    int64_t ts = rd_kafka_message_timestamp(m.get(), &type);
    std::string group(static_cast<const char*>(m->payload), m->len);
    owners_.Apply(group, ts);
  }
  if (first_claim_offset_ < 0 || read_up_to_ < first_claim_offset_) return Verdict::kUnknown;
  return owners_.owner() == group_ ? Verdict::kOwned : Verdict::kRefused;
}

}  // namespace rm::mirror
