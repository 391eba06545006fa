#include "mirror/flow_transforms.h"

namespace rm::mirror {

replication::RecordTransformResult RunRecordTransforms(
    const replication::RecordTransforms& transforms, const std::string& topic,
    std::string_view remote_topic, bool tombstone, const rd_kafka_headers_t* hdrs) {
  return transforms.Apply(topic, remote_topic, tombstone, [hdrs](std::string_view name) {
    if (hdrs == nullptr) return false;
    const std::string n(name);
    const void* value = nullptr;
    size_t size = 0;
    return rd_kafka_header_get_last(hdrs, n.c_str(), &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
  });
}

void ApplyHeaderEdits(const replication::RecordTransformResult& result,
                      rd_kafka_headers_t* headers) {
  for (const std::string& name : result.remove) rd_kafka_header_remove(headers, name.c_str());
  for (const auto& [name, value] : result.add) {
    rd_kafka_header_add(headers, name.c_str(), static_cast<ssize_t>(name.size()), value.data(),
                        static_cast<ssize_t>(value.size()));
  }
}

}  // namespace rm::mirror
