// The mirror side of a flow's record transforms (replication/record_transforms.h): runs the
// chain on a consumed librdkafka message and applies its header edits to the headers the copy
// is produced with. Kept apart from flow.cc so the flow's hook stays two calls.
//
// Not thread-safe: called on the flow's loop thread.
#pragma once

#include <librdkafka/rdkafka.h>

#include <string>
#include <string_view>

#include "replication/record_transforms.h"

namespace rm::mirror {

// Runs `transforms` on a record of source topic `topic`, copied to `remote_topic` (`tombstone`:
// its value is null), whose headers as consumed are `headers` (nullptr: none).
replication::RecordTransformResult RunRecordTransforms(
    const replication::RecordTransforms& transforms, const std::string& topic,
    std::string_view remote_topic, bool tombstone, const rd_kafka_headers_t* headers);

// Applies the header edits of `result` to `headers` (the copy's headers, before the provenance
// header is appended): removes every header named in result.remove, then appends result.add.
void ApplyHeaderEdits(const replication::RecordTransformResult& result,
                      rd_kafka_headers_t* headers);

}  // namespace rm::mirror
