// The MirrorMaker 2 keys regionmirror does not apply, and why: the reasons `run` prints in its
// start-up warning block and `run --check` lists, so that no key of an mm2.properties file is
// ignored silently.
//
// Keys are looked up bare (without their "A." or "A->B." prefix). The catalog covers the keys
// MM2 documents (MirrorMakerConfig, MirrorConnectorConfig, MirrorSourceConfig,
// MirrorCheckpointConfig, MirrorHeartbeatConfig) and the Kafka Connect worker settings MM2 files
// commonly carry; Java client settings librdkafka has no equivalent for are named by
// JavaOnlyClientSetting.
#pragma once

#include <optional>
#include <string>

namespace rm::replication {

// Why `bare_key` = `value` is not applied; "" when the value asks for what regionmirror does
// anyway (e.g. sync.topic.acls.enabled = false); nullopt when the catalog does not know the key.
std::optional<std::string> Mm2NotAppliedReason(const std::string& bare_key,
                                               const std::string& value);

// Why a Java client setting (ssl.*, sasl.*, ...) has no librdkafka counterpart, or nullopt.
std::optional<std::string> JavaOnlyClientSetting(const std::string& bare_key);

}  // namespace rm::replication
