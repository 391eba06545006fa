#include "src-cdc/cassandra/mutation_decoder.h"

#include <utility>

#include "src-cdc/cassandra/detail/byte_reader.h"

namespace rm::cdc::cassandra {
namespace {

using detail::ByteReader;

// EncodingStats stores its minimums relative to these epochs (2015-09-22, when 3.0's format was
// designed), so that small deltas encode as short vints.
constexpr uint64_t kTimestampEpoch = 1442880000000000ULL;  // microseconds
constexpr uint32_t kDeletionTimeEpoch = 1442880000u;       // seconds

// UnfilteredRowIteratorSerializer flags.
constexpr uint8_t kPartitionIsEmpty = 0x01;
constexpr uint8_t kPartitionHasDeletion = 0x04;
constexpr uint8_t kPartitionHasStaticRow = 0x08;
constexpr uint8_t kPartitionHasRowEstimate = 0x10;

// UnfilteredSerializer flags.
constexpr uint8_t kEndOfPartition = 0x01;
constexpr uint8_t kIsMarker = 0x02;
constexpr uint8_t kHasTimestamp = 0x04;
constexpr uint8_t kHasTtl = 0x08;
constexpr uint8_t kHasDeletion = 0x10;
constexpr uint8_t kHasAllColumns = 0x20;
constexpr uint8_t kHasComplexDeletion = 0x40;
constexpr uint8_t kHasExtendedFlags = 0x80;
constexpr uint8_t kExtendedIsStatic = 0x01;
constexpr uint8_t kExtendedHasShadowableDeletion = 0x02;

// Cell flags.
constexpr uint8_t kCellIsDeleted = 0x01;
constexpr uint8_t kCellIsExpiring = 0x02;
constexpr uint8_t kCellHasEmptyValue = 0x04;
constexpr uint8_t kCellUsesRowTimestamp = 0x08;
constexpr uint8_t kCellUsesRowTtl = 0x10;

struct EncodingStats {
  uint64_t min_timestamp = 0;
  uint32_t min_local_deletion_time = 0;
  uint32_t min_ttl = 0;
};

// Decodes one entry. Holds the position context (which partition update, row, column) so an
// error says where it happened without building strings on the success path.
class EntryDecoder {
 public:
  EntryDecoder(std::string_view bytes, int messaging_version, const Schema& schema)
      : r_(bytes), messaging_version_(messaging_version), schema_(schema) {}

  common::Result<DecodedEntry> Decode() {
    DecodedEntry out;
    if (messaging_version_ != kMessagingVersion30 && messaging_version_ != kMessagingVersion40) {
      return common::Error{"cassandra.decode",
                           "unsupported messaging version " + std::to_string(messaging_version_)};
    }
    uint64_t count;
    if (!r_.ReadUnsignedVInt(&count)) return Error("partition update count truncated");
    // Each update takes at least 18 bytes (table id, key length, flags).
    if (count == 0 || count > r_.remaining() / 18) {
      return Error("implausible partition update count " + std::to_string(count));
    }
    out.mutation.updates.reserve(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) {
      update_index_ = static_cast<int>(i);
      std::string_view id_bytes;
      if (!r_.ReadBytes(16, &id_bytes)) return Error("table id truncated");
      const TableId id = *Uuid::FromBytes(id_bytes);
      table_ = schema_.FindTable(id);
      if (table_ == nullptr) {
        out.unknown_table = id;
        out.mutation.updates.clear();
        return out;
      }
      PartitionUpdate update;
      update.table = table_;
      if (!ReadPartition(&update)) return std::move(error_);
      out.mutation.updates.push_back(std::move(update));
    }
    return out;
  }

 private:
  // Records the first failure with its context and returns false.
  bool Fail(const std::string& what) {
    if (failed_) return false;
    failed_ = true;
    std::string msg;
    if (update_index_ >= 0) {
      msg = "partition update " + std::to_string(update_index_);
      if (table_ != nullptr) msg += " of table " + table_->QualifiedName();
      msg += ": ";
    }
    if (row_index_ == kStaticRow) {
      msg += "static row: ";
    } else if (row_index_ >= 0) {
      msg += "row " + std::to_string(row_index_) + ": ";
    }
    if (column_ != nullptr) msg += "column '" + column_->name + "': ";
    msg += what + " at byte " + std::to_string(r_.position()) + " of " + std::to_string(r_.size());
    error_ = common::Error{"cassandra.decode", std::move(msg)};
    return false;
  }
  common::Error Error(const std::string& what) {
    Fail(what);
    return error_;
  }

  bool ReadStats() {
    uint64_t ts;
    int32_t ldt, ttl;
    if (!r_.ReadUnsignedVInt(&ts) || !r_.ReadUnsignedVInt32(&ldt) || !r_.ReadUnsignedVInt32(&ttl)) {
      return Fail("encoding stats truncated");
    }
    // Java adds with wrap-around; unsigned arithmetic reproduces it without overflow UB.
    stats_.min_timestamp = ts + kTimestampEpoch;
    stats_.min_local_deletion_time = static_cast<uint32_t>(ldt) + kDeletionTimeEpoch;
    stats_.min_ttl = static_cast<uint32_t>(ttl);
    return true;
  }

  bool ReadTimestamp(int64_t* out) {
    uint64_t delta;
    if (!r_.ReadUnsignedVInt(&delta)) return Fail("timestamp truncated");
    *out = static_cast<int64_t>(delta + stats_.min_timestamp);
    return true;
  }
  bool ReadLocalDeletionTime(int32_t* out) {
    int32_t delta;
    if (!r_.ReadUnsignedVInt32(&delta)) return Fail("local deletion time truncated");
    *out = static_cast<int32_t>(static_cast<uint32_t>(delta) + stats_.min_local_deletion_time);
    return true;
  }
  bool ReadTtl(int32_t* out) {
    int32_t delta;
    if (!r_.ReadUnsignedVInt32(&delta)) return Fail("ttl truncated");
    *out = static_cast<int32_t>(static_cast<uint32_t>(delta) + stats_.min_ttl);
    return true;
  }
  bool ReadDeletionTime(DeletionTime* out) {
    return ReadTimestamp(&out->marked_for_delete_at) &&
           ReadLocalDeletionTime(&out->local_deletion_time);
  }

  // Columns.Serializer: vint count, then each column name with a vint length.
  bool ReadColumns(ColumnKind kind, std::vector<const ColumnSchema*>* out) {
    uint64_t count;
    if (!r_.ReadUnsignedVInt(&count)) return Fail("column count truncated");
    if (count > r_.remaining()) return Fail("implausible column count " + std::to_string(count));
    out->reserve(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) {
      std::string_view name;
      if (!r_.ReadVIntLengthBytes(&name)) return Fail("column name truncated");
      const ColumnSchema* col = table_->FindColumn(name);
      if (col == nullptr) {
        return Fail("unknown column '" + std::string(name) +
                    "' (not in the supplied schema; was it added by ALTER TABLE?)");
      }
      if (col->kind != kind) {
        return Fail("column '" + col->name + "' is listed as " +
                    (kind == ColumnKind::kStatic ? "static" : "regular") +
                    " but the schema declares it otherwise");
      }
      out->push_back(col);
    }
    return true;
  }

  bool ReadValue(int fixed_length, const char* what, std::string* out) {
    std::string_view v;
    if (fixed_length >= 0) {
      if (!r_.ReadBytes(static_cast<size_t>(fixed_length), &v)) {
        return Fail(std::string(what) + " truncated");
      }
    } else if (!r_.ReadVIntLengthBytes(&v)) {
      return Fail(std::string(what) + " truncated");
    }
    out->assign(v.data(), v.size());
    return true;
  }

  // ClusteringPrefix values: a vint header per 32 components (2 bits each: empty, null), then
  // each present value.
  bool ReadClusteringValues(size_t count, ClusteringValues* out) {
    out->resize(count);
    uint64_t header = 0;
    for (size_t i = 0; i < count; ++i) {
      if (i % 32 == 0 && !r_.ReadUnsignedVInt(&header)) return Fail("clustering header truncated");
      const unsigned bit = static_cast<unsigned>(i % 32) * 2;
      if (header & (uint64_t{1} << (bit + 1))) {
        (*out)[i] = std::nullopt;
      } else if (header & (uint64_t{1} << bit)) {
        (*out)[i] = std::string();
      } else {
        const ColumnSchema& col = table_->columns[static_cast<size_t>(table_->clustering[i])];
        std::string value;
        if (!ReadValue(col.type.FixedLength(), "clustering value", &value)) return false;
        (*out)[i] = std::move(value);
      }
    }
    return true;
  }

  bool ReadCell(const ColumnSchema* col, const LivenessInfo& row_liveness,
                std::vector<Cell>* cells) {
    uint8_t flags;
    if (!r_.ReadU8(&flags)) return Fail("cell flags truncated");
    Cell cell;
    cell.column = col;
    cell.is_tombstone = (flags & kCellIsDeleted) != 0;
    cell.is_expiring = (flags & kCellIsExpiring) != 0;
    const bool use_row_ttl = (flags & kCellUsesRowTtl) != 0;
    if (flags & kCellUsesRowTimestamp) {
      cell.timestamp = row_liveness.timestamp;
    } else if (!ReadTimestamp(&cell.timestamp)) {
      return false;
    }
    if (use_row_ttl) {
      cell.local_deletion_time = row_liveness.local_expiration_time;
    } else if (cell.is_tombstone || cell.is_expiring) {
      if (!ReadLocalDeletionTime(&cell.local_deletion_time)) return false;
    }
    if (use_row_ttl) {
      cell.ttl = row_liveness.ttl;
    } else if (cell.is_expiring) {
      if (!ReadTtl(&cell.ttl)) return false;
    }
    const bool multi_cell = col->type.IsMultiCell();
    if (multi_cell) {
      std::string_view path;
      if (!r_.ReadVIntLengthBytes(&path)) return Fail("cell path truncated");
      cell.path.assign(path.data(), path.size());
    }
    if ((flags & kCellHasEmptyValue) == 0) {
      // A multi-cell column's cells are written with the collection type, which has no fixed
      // width, so their values always carry a length.
      if (!ReadValue(multi_cell ? -1 : col->type.FixedLength(), "cell value", &cell.value)) {
        return false;
      }
    }
    cells->push_back(std::move(cell));
    return true;
  }

  // Columns.Serializer.deserializeSubset: which header columns a row carries.
  bool ReadColumnSubset(const std::vector<const ColumnSchema*>& superset,
                        std::vector<const ColumnSchema*>* out) {
    uint64_t encoded;
    if (!r_.ReadUnsignedVInt(&encoded)) return Fail("column subset truncated");
    const size_t n = superset.size();
    if (encoded == 0) {
      *out = superset;
      return true;
    }
    if (n < 64) {  // bitmap of missing columns
      for (size_t i = 0; i < n; ++i) {
        if (((encoded >> i) & 1) == 0) out->push_back(superset[i]);
      }
      return true;
    }
    // 64 or more columns: vint count of missing columns, then either the present or the
    // missing indexes, whichever list is shorter.
    if (encoded > n)
      return Fail("column subset: " + std::to_string(encoded) + " missing of " + std::to_string(n));
    const size_t missing = static_cast<size_t>(encoded);
    const size_t present = n - missing;
    if (present < n / 2) {
      size_t prev = 0;
      for (size_t k = 0; k < present; ++k) {
        uint64_t idx;
        if (!r_.ReadUnsignedVInt(&idx)) return Fail("column subset index truncated");
        if (idx >= n || (k > 0 && idx <= prev)) return Fail("column subset index out of order");
        out->push_back(superset[idx]);
        prev = static_cast<size_t>(idx);
      }
    } else {
      size_t next = 0;
      for (size_t k = 0; k < missing; ++k) {
        uint64_t idx;
        if (!r_.ReadUnsignedVInt(&idx)) return Fail("column subset index truncated");
        if (idx >= n || idx < next) return Fail("column subset index out of order");
        while (next < idx) out->push_back(superset[next++]);
        next = static_cast<size_t>(idx) + 1;
      }
      while (next < n) out->push_back(superset[next++]);
    }
    return true;
  }

  bool ReadRowBody(uint8_t flags, uint8_t extended, const std::vector<const ColumnSchema*>& header,
                   Row* row) {
    if (flags & kHasTimestamp) {
      if (!ReadTimestamp(&row->primary_key_liveness.timestamp)) return false;
      if (flags & kHasTtl) {
        if (!ReadTtl(&row->primary_key_liveness.ttl) ||
            !ReadLocalDeletionTime(&row->primary_key_liveness.local_expiration_time)) {
          return false;
        }
      }
    }
    if (flags & kHasDeletion) {
      if (!ReadDeletionTime(&row->deletion)) return false;
      row->deletion_is_shadowable = (extended & kExtendedHasShadowableDeletion) != 0;
    }
    std::vector<const ColumnSchema*> subset;
    const std::vector<const ColumnSchema*>* columns = &header;
    if ((flags & kHasAllColumns) == 0) {
      if (!ReadColumnSubset(header, &subset)) return false;
      columns = &subset;
    }
    row->cells.reserve(columns->size());
    for (const ColumnSchema* col : *columns) {
      column_ = col;
      if (!col->type.IsMultiCell()) {
        if (!ReadCell(col, row->primary_key_liveness, &row->cells)) return false;
        continue;
      }
      if (flags & kHasComplexDeletion) {
        DeletionTime d;
        if (!ReadDeletionTime(&d)) return false;
        if (!d.is_live()) row->complex_deletions.push_back({col, d});
      }
      uint64_t count;
      if (!r_.ReadUnsignedVInt(&count)) return Fail("complex column cell count truncated");
      if (count > r_.remaining()) return Fail("implausible cell count " + std::to_string(count));
      for (uint64_t i = 0; i < count; ++i) {
        if (!ReadCell(col, row->primary_key_liveness, &row->cells)) return false;
      }
    }
    column_ = nullptr;
    return true;
  }

  bool ReadMarker(PartitionUpdate* update) {
    uint8_t kind;
    uint16_t size;
    if (!r_.ReadU8(&kind) || !r_.ReadU16(&size)) return Fail("range tombstone bound truncated");
    if (kind == 3 || kind == 4 || kind > 7) {
      return Fail("invalid range tombstone bound kind " + std::to_string(kind));
    }
    if (size > table_->clustering.size()) {
      return Fail("range tombstone bound with " + std::to_string(size) + " values for " +
                  std::to_string(table_->clustering.size()) + " clustering columns");
    }
    RangeTombstoneMarker marker;
    marker.kind = static_cast<RangeTombstoneMarker::Kind>(kind);
    if (!ReadClusteringValues(size, &marker.clustering)) return false;
    if (marker.is_boundary()) {
      if (!ReadDeletionTime(&marker.end_deletion) || !ReadDeletionTime(&marker.deletion)) {
        return false;
      }
    } else if (!ReadDeletionTime(&marker.deletion)) {
      return false;
    }
    update->range_tombstones.push_back(std::move(marker));
    return true;
  }

  bool ReadPartition(PartitionUpdate* update) {
    row_index_ = kNoRow;
    column_ = nullptr;
    std::string_view key;
    if (!r_.ReadVIntLengthBytes(&key)) return Fail("partition key truncated");
    update->partition_key.assign(key.data(), key.size());
    uint8_t flags;
    if (!r_.ReadU8(&flags)) return Fail("partition flags truncated");
    if (flags & kPartitionIsEmpty) return true;
    if (!ReadStats()) return false;
    std::vector<const ColumnSchema*> statics;
    std::vector<const ColumnSchema*> regulars;
    if ((flags & kPartitionHasStaticRow) && !ReadColumns(ColumnKind::kStatic, &statics)) {
      return false;
    }
    if (!ReadColumns(ColumnKind::kRegular, &regulars)) return false;
    if ((flags & kPartitionHasDeletion) && !ReadDeletionTime(&update->partition_deletion)) {
      return false;
    }
    if (flags & kPartitionHasStaticRow) {
      row_index_ = kStaticRow;
      uint8_t row_flags, extended = 0;
      if (!r_.ReadU8(&row_flags)) return Fail("static row flags truncated");
      if (row_flags & kHasExtendedFlags) {
        if (!r_.ReadU8(&extended)) return Fail("static row flags truncated");
      }
      if ((row_flags & (kEndOfPartition | kIsMarker)) || (extended & kExtendedIsStatic) == 0) {
        return Fail("static row expected but flags are " + std::to_string(row_flags));
      }
      Row row;
      row.is_static = true;
      if (!ReadRowBody(row_flags, extended, statics, &row)) return false;
      update->static_row = std::move(row);
    }
    if (flags & kPartitionHasRowEstimate) {
      uint64_t estimate;
      row_index_ = kNoRow;
      if (!r_.ReadUnsignedVInt(&estimate)) return Fail("row estimate truncated");
    }
    for (int index = 0;; ++index) {
      row_index_ = index;
      uint8_t row_flags, extended = 0;
      if (!r_.ReadU8(&row_flags)) return Fail("row flags truncated (no end-of-partition)");
      if (row_flags & kEndOfPartition) break;
      if ((row_flags & kHasExtendedFlags) && !r_.ReadU8(&extended)) {
        return Fail("extended row flags truncated");
      }
      if (row_flags & kIsMarker) {
        if (!ReadMarker(update)) return false;
        continue;
      }
      if (extended & kExtendedIsStatic) return Fail("static flag on a clustered row");
      Row row;
      if (!ReadClusteringValues(table_->clustering.size(), &row.clustering)) return false;
      if (!ReadRowBody(row_flags, extended, regulars, &row)) return false;
      update->rows.push_back(std::move(row));
    }
    row_index_ = kNoRow;
    return true;
  }

  static constexpr int kNoRow = -1;
  static constexpr int kStaticRow = -2;

  ByteReader r_;
  const int messaging_version_;
  const Schema& schema_;
  EncodingStats stats_;
  const TableSchema* table_ = nullptr;
  int update_index_ = -1;
  int row_index_ = kNoRow;
  const ColumnSchema* column_ = nullptr;
  bool failed_ = false;
  common::Error error_;
};

}  // namespace

common::Result<DecodedEntry> DecodeMutation(std::string_view bytes, int messaging_version,
                                            const Schema& schema) {
  return EntryDecoder(bytes, messaging_version, schema).Decode();
}

common::Result<CqlValue> Cell::DecodeValue() const {
  if (column == nullptr) return common::Error{"cassandra.value", "cell without column"};
  const CqlType& type = column->type;
  if (!type.IsMultiCell()) return cassandra::DecodeValue(type, value);
  switch (type.kind) {
    case CqlKind::kList:
      return cassandra::DecodeValue(type.params[0], value);
    case CqlKind::kMap:
      return cassandra::DecodeValue(type.params[1], value);
    default:  // set elements live in the path; the value is empty
      return CqlValue(CqlValue::Null{});
  }
}

common::Result<CqlValue> Cell::DecodePath() const {
  if (column == nullptr || !column->type.IsMultiCell()) return CqlValue(CqlValue::Null{});
  const CqlType& type = column->type;
  if (type.kind == CqlKind::kList) return cassandra::DecodeValue(CqlType{CqlKind::kTimeuuid}, path);
  return cassandra::DecodeValue(type.params[0], path);
}

common::Result<std::vector<CqlValue>> PartitionUpdate::DecodePartitionKey() const {
  if (table == nullptr) return common::Error{"cassandra.value", "partition without table"};
  return cassandra::DecodePartitionKey(table->PartitionKeyTypes(), partition_key);
}

}  // namespace rm::cdc::cassandra
