// MirrorMaker 2's client overrides by prefix in mm2.properties, placed on our flows.
//
// Forms and precedence, as MirrorMakerConfig and MirrorConnectorConfig apply them (later wins;
// all of them after the cluster's own `A.<prop>` and our `mirror:` defaults):
//   source consumer of A->B: A->B.consumer.<p>, then A.consumer.<p>, then A->B.source.consumer.<p>
//   target producer of A->B: B.producer.<p>, then A->B.producer.override.<p> (Connect's
//                            per-connector override of the worker producer that writes records)
//   source admin of A->B:    A->B.admin.<p>, then A.admin.<p>, then A->B.source.admin.<p>
//   target admin of A->B:    A->B.admin.<p>, then B.admin.<p>, then A->B.target.admin.<p>
// Not applied, and listed with the reason: properties librdkafka does not know (Java-only
// client settings), A->B.producer.<p> (MM2's offset-syncs producer; ours writes offsets with
// the target's settings), and any form no enabled flow uses (e.g. A.consumer.<p> when A is
// never a source).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "replication/config.h"

namespace rm::replication {

// True if librdkafka accepts `key` = `value`.
bool IsLibrdkafkaProperty(const std::string& key, const std::string& value);

// Places every client-override key of `props` (not yet in `used`) on cfg->flows, adds it to
// `used`, and appends "<key> (<reason>)" to `not_applied` for those it cannot apply.
void ApplyMm2ClientOverrides(const std::map<std::string, std::string>& props, MirrorConfig* cfg,
                             std::set<std::string>* used, std::vector<std::string>* not_applied);

}  // namespace rm::replication
