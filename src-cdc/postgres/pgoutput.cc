#include "src-cdc/postgres/pgoutput.h"

#include <fmt/format.h>

namespace rm::cdc::postgres {

namespace {

using common::Error;
using common::Result;

// Big-endian reader over one message. The first failure is remembered (with the offset and
// what was being read) and every later read is a no-op, so parsers read straight through and
// check once.
class Reader {
 public:
  // `base` is the offset of `data` in the whole message (the type byte comes first).
  Reader(std::string_view data, std::string_view message, size_t base = 1)
      : data_(data), message_(message), base_(base) {}

  uint8_t U8(const char* what) { return static_cast<uint8_t>(Fixed(1, what)); }
  uint16_t U16(const char* what) { return static_cast<uint16_t>(Fixed(2, what)); }
  uint32_t U32(const char* what) { return static_cast<uint32_t>(Fixed(4, what)); }
  int32_t I32(const char* what) { return static_cast<int32_t>(U32(what)); }
  uint64_t U64(const char* what) { return Fixed(8, what); }
  int64_t I64(const char* what) { return static_cast<int64_t>(U64(what)); }

  // NUL-terminated string.
  std::string CString(const char* what) {
    if (failed()) return {};
    auto end = data_.find('\0', pos_);
    if (end == std::string_view::npos) {
      Fail(what, "string is not NUL-terminated");
      return {};
    }
    std::string s(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  std::string Bytes(size_t n, const char* what) {
    if (failed()) return {};
    if (remaining() < n) {
      Fail(what, fmt::format("needs {} bytes, {} left", n, remaining()));
      return {};
    }
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
  }

  std::string Rest() {
    if (failed()) return {};
    std::string s(data_.substr(pos_));
    pos_ = data_.size();
    return s;
  }

  void Fail(const char* what, const std::string& why) {
    if (error_) return;
    error_ = Error{"pgoutput.malformed", fmt::format("malformed {} message at offset {} ({}): {}",
                                                     message_, base_ + pos_, what, why)};
  }

  // Data after the end of a message is also malformed: it means we misread the layout.
  void ExpectEnd() {
    if (!failed() && pos_ != data_.size()) {
      Fail("end", fmt::format("{} unexpected trailing bytes", data_.size() - pos_));
    }
  }

  bool failed() const { return error_.has_value(); }
  const Error& error() const { return *error_; }
  size_t remaining() const { return data_.size() - pos_; }
  size_t pos() const { return pos_; }

 private:
  uint64_t Fixed(size_t n, const char* what) {
    if (failed()) return 0;
    if (remaining() < n) {
      Fail(what, fmt::format("needs {} bytes, {} left", n, remaining()));
      return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(data_[pos_ + i]);
    pos_ += n;
    return v;
  }

  std::string_view data_;
  std::string_view message_;
  size_t base_ = 1;
  size_t pos_ = 0;
  std::optional<Error> error_;
};

template <typename T>
Result<PgOutputMessage> Finish(Reader& r, T msg) {
  r.ExpectEnd();
  if (r.failed()) return r.error();
  return PgOutputMessage(std::move(msg));
}

TupleData ReadTuple(Reader& r) {
  TupleData tuple;
  uint16_t n = r.U16("tuple column count");
  if (r.failed()) return tuple;
  // Each column takes at least one byte: reject counts the buffer cannot hold before
  // allocating for them.
  if (n > r.remaining()) {
    r.Fail("tuple column count", fmt::format("{} columns but only {} bytes", n, r.remaining()));
    return tuple;
  }
  tuple.reserve(n);
  for (uint16_t i = 0; i < n && !r.failed(); ++i) {
    TupleValue v;
    uint8_t kind = r.U8("tuple column kind");
    switch (kind) {
      case 'n':
        v.kind = TupleValueKind::kNull;
        break;
      case 'u':
        v.kind = TupleValueKind::kUnchangedToast;
        break;
      case 't':
      case 'b': {
        v.kind = kind == 't' ? TupleValueKind::kText : TupleValueKind::kBinary;
        int32_t len = r.I32("tuple value length");
        if (!r.failed() && len < 0) {
          r.Fail("tuple value length", fmt::format("negative length {}", len));
          break;
        }
        v.data = r.Bytes(static_cast<size_t>(len), "tuple value");
        break;
      }
      default:
        if (!r.failed()) {
          r.Fail("tuple column kind", fmt::format("unknown kind byte 0x{:02x}", kind));
        }
    }
    tuple.push_back(std::move(v));
  }
  return tuple;
}

Result<PgOutputMessage> ParseRelation(Reader& r) {
  RelationMessage m;
  m.oid = r.U32("relation oid");
  m.schema = r.CString("namespace");
  if (m.schema.empty()) m.schema = "pg_catalog";
  m.table = r.CString("relation name");
  m.replica_identity = static_cast<char>(r.U8("replica identity"));
  uint16_t n = r.U16("column count");
  if (!r.failed() && n > r.remaining()) {
    r.Fail("column count", fmt::format("{} columns but only {} bytes", n, r.remaining()));
  }
  for (uint16_t i = 0; i < n && !r.failed(); ++i) {
    RelationColumn c;
    c.is_key = r.U8("column flags") & 1;
    c.name = r.CString("column name");
    c.type_oid = r.U32("column type oid");
    c.type_modifier = r.I32("column type modifier");
    m.columns.push_back(std::move(c));
  }
  return Finish(r, std::move(m));
}

Result<PgOutputMessage> ParseUpdate(Reader& r) {
  UpdateMessage m;
  m.relation_oid = r.U32("relation oid");
  uint8_t tag = r.U8("tuple tag");
  if (!r.failed() && (tag == 'K' || tag == 'O')) {
    m.old_kind = static_cast<char>(tag);
    m.old_tuple = ReadTuple(r);
    tag = r.U8("tuple tag");
  }
  if (!r.failed() && tag != 'N') {
    r.Fail("tuple tag", fmt::format("expected 'N', got 0x{:02x}", tag));
  }
  m.new_tuple = ReadTuple(r);
  return Finish(r, std::move(m));
}

}  // namespace

std::string_view PgOutputMessageName(char type) {
  switch (type) {
    case 'B':
      return "Begin";
    case 'C':
      return "Commit";
    case 'O':
      return "Origin";
    case 'R':
      return "Relation";
    case 'Y':
      return "Type";
    case 'I':
      return "Insert";
    case 'U':
      return "Update";
    case 'D':
      return "Delete";
    case 'T':
      return "Truncate";
    case 'M':
      return "Message";
    default:
      return "unknown";
  }
}

Result<PgOutputMessage> ParsePgOutputMessage(std::string_view data) {
  if (data.empty()) {
    return Error{"pgoutput.malformed", "malformed pgoutput message at offset 0: empty"};
  }
  char type = data[0];
  Reader r(data.substr(1), PgOutputMessageName(type));
  switch (type) {
    case 'B': {
      BeginMessage m;
      m.final_lsn = Lsn(r.U64("final lsn"));
      m.commit_time_us = r.I64("commit timestamp");
      m.xid = r.U32("xid");
      return Finish(r, m);
    }
    case 'C': {
      CommitMessage m;
      m.flags = r.U8("flags");
      m.commit_lsn = Lsn(r.U64("commit lsn"));
      m.end_lsn = Lsn(r.U64("end lsn"));
      m.commit_time_us = r.I64("commit timestamp");
      return Finish(r, m);
    }
    case 'O': {
      OriginMessage m;
      m.commit_lsn = Lsn(r.U64("commit lsn"));
      m.name = r.CString("origin name");
      return Finish(r, std::move(m));
    }
    case 'R':
      return ParseRelation(r);
    case 'Y': {
      TypeMessage m;
      m.oid = r.U32("type oid");
      m.schema = r.CString("namespace");
      if (m.schema.empty()) m.schema = "pg_catalog";
      m.name = r.CString("type name");
      return Finish(r, std::move(m));
    }
    case 'I': {
      InsertMessage m;
      m.relation_oid = r.U32("relation oid");
      uint8_t tag = r.U8("tuple tag");
      if (!r.failed() && tag != 'N') {
        r.Fail("tuple tag", fmt::format("expected 'N', got 0x{:02x}", tag));
      }
      m.new_tuple = ReadTuple(r);
      return Finish(r, std::move(m));
    }
    case 'U':
      return ParseUpdate(r);
    case 'D': {
      DeleteMessage m;
      m.relation_oid = r.U32("relation oid");
      uint8_t tag = r.U8("tuple tag");
      if (!r.failed() && tag != 'K' && tag != 'O') {
        r.Fail("tuple tag", fmt::format("expected 'K' or 'O', got 0x{:02x}", tag));
      }
      m.old_kind = static_cast<char>(tag);
      m.old_tuple = ReadTuple(r);
      return Finish(r, std::move(m));
    }
    case 'T': {
      TruncateMessage m;
      uint32_t n = r.U32("relation count");
      m.options = r.U8("options");
      if (!r.failed() && n > r.remaining() / 4) {
        r.Fail("relation count", fmt::format("{} relations but only {} bytes", n, r.remaining()));
      }
      for (uint32_t i = 0; i < n && !r.failed(); ++i) m.relation_oids.push_back(r.U32("relid"));
      return Finish(r, std::move(m));
    }
    case 'M': {
      LogicalDecodingMessage m;
      m.transactional = r.U8("flags") & 1;
      m.lsn = Lsn(r.U64("lsn"));
      m.prefix = r.CString("prefix");
      uint32_t len = r.U32("content length");
      m.content = r.Bytes(len, "content");
      return Finish(r, std::move(m));
    }
    default:
      return Error{"pgoutput.malformed",
                   fmt::format("malformed pgoutput message at offset 0: unknown message type "
                               "byte 0x{:02x}",
                               static_cast<uint8_t>(type))};
  }
}

Result<ReplicationMessage> ParseReplicationMessage(std::string_view copy_data) {
  if (copy_data.empty()) {
    return Error{"pgoutput.malformed", "malformed replication message at offset 0: empty"};
  }
  char type = copy_data[0];
  if (type == 'w') {
    Reader r(copy_data.substr(1), "XLogData");
    XLogData m;
    m.wal_start = Lsn(r.U64("wal start"));
    m.wal_end = Lsn(r.U64("wal end"));
    m.server_time_us = r.I64("send time");
    m.data = r.Rest();
    if (r.failed()) return r.error();
    return ReplicationMessage(std::move(m));
  }
  if (type == 'k') {
    Reader r(copy_data.substr(1), "Primary keepalive");
    PrimaryKeepalive m;
    m.wal_end = Lsn(r.U64("wal end"));
    m.server_time_us = r.I64("send time");
    m.reply_requested = r.U8("reply requested") != 0;
    r.ExpectEnd();
    if (r.failed()) return r.error();
    return ReplicationMessage(m);
  }
  return Error{"pgoutput.malformed",
               fmt::format("malformed replication message at offset 0: unknown type byte 0x{:02x}",
                           static_cast<uint8_t>(type))};
}

std::string EncodeStandbyStatusUpdate(Lsn write, Lsn flush, Lsn apply, int64_t client_time_us,
                                      bool reply_requested) {
  std::string out;
  out.reserve(34);
  out.push_back('r');
  auto put64 = [&out](uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
  };
  put64(write.value());
  put64(flush.value());
  put64(apply.value());
  put64(static_cast<uint64_t>(client_time_us));
  out.push_back(reply_requested ? 1 : 0);
  return out;
}

}  // namespace rm::cdc::postgres
