// Conversion of rocksdb::Status into the module's errors. Internal to offsets/*.cc.
#pragma once

#include <rocksdb/status.h>

#include <string>
#include <string_view>

#include "common/result.h"

namespace rm::offsets::detail {

// "offsets.rocksdb" (or "offsets.corruption") naming what was being done, e.g.
// RocksError("write checkpoint batch", s).
inline common::Error RocksError(std::string_view what, const rocksdb::Status& s) {
  return common::Error{s.IsCorruption() ? "offsets.corruption" : "offsets.rocksdb",
                       std::string(what) + ": " + s.ToString()};
}

inline common::Status ToStatus(std::string_view what, const rocksdb::Status& s) {
  if (s.ok()) return common::Status::Ok();
  return RocksError(what, s);
}

inline common::Error Corruption(std::string what) {
  return common::Error{"offsets.corruption", std::move(what)};
}

}  // namespace rm::offsets::detail
