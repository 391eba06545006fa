#include "src-cdc/cassandra/spill.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

#include "src-cdc/cassandra/detail/byte_reader.h"
#include "src-cdc/cassandra/detail/crc32.h"

namespace rm::cdc::cassandra {

namespace fs = std::filesystem;
using common::Error;
using common::Result;
using common::Status;

namespace {

constexpr std::string_view kMagic = "RMSPILL1";
constexpr size_t kFramePrefix = 8;  // length, crc
// No entry comes near this (Cassandra refuses mutations over half a 32 MiB segment): a larger
// length is a corrupt length field, not a frame to allocate for.
constexpr uint32_t kMaxPayload = 256u << 20;
constexpr size_t kEntryFixed = 1 + 8 + 4 + 4 + 4 + 2;

void PutBe(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

Error SpillError(const fs::path& path, const std::string& what) {
  return Error{"cassandra.spill", fmt::format("spill {}: {}", path.string(), what)};
}

Error Corrupt(const fs::path& path, uint64_t offset, const std::string& why) {
  return SpillError(path, fmt::format("corrupt frame at offset {}: {}", offset, why));
}

Status WriteAll(int fd, std::string_view bytes, const fs::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return SpillError(path, std::string("write: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status SyncDir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return SpillError(dir, std::string("open directory: ") + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return SpillError(dir, std::string("fsync directory: ") + std::strerror(err));
  return Status::Ok();
}

std::string Frame(char kind, std::string_view body) {
  std::string out;
  out.reserve(kFramePrefix + 1 + body.size());
  PutBe(out, 1 + body.size(), 4);
  PutBe(out, 0, 4);  // crc, below
  out.push_back(kind);
  out.append(body);
  detail::Crc32 crc;
  crc.Update(std::string_view(out.data(), 4));
  crc.Update(std::string_view(out.data() + kFramePrefix, out.size() - kFramePrefix));
  const uint32_t c = crc.value();
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<char>((c >> (8 * (3 - i))) & 0xff);
  return out;
}

// Reads frames of an open spill one after the other.
class FrameReader {
 public:
  FrameReader(int fd, const fs::path& path) : fd_(fd), path_(path) {}

  // The payload of the frame at `offset` (which must end at or before `limit`), or an error
  // naming the offset.
  Result<std::string> Read(uint64_t offset, uint64_t limit) {
    char prefix[kFramePrefix];
    if (offset + kFramePrefix > limit) return Bad(offset, "frame header cut short");
    if (Status s = ReadAt(offset, prefix, kFramePrefix); !s.ok()) return s.error();
    const uint32_t length = detail::LoadBigEndian32(prefix);
    const uint32_t stored = detail::LoadBigEndian32(prefix + 4);
    if (length == 0 || length > kMaxPayload) {
      return Bad(offset, fmt::format("frame length {} out of range", length));
    }
    if (offset + kFramePrefix + length > limit) {
      return Bad(offset, fmt::format("frame of {} bytes runs past {}", length, limit));
    }
    std::string payload(length, '\0');
    if (Status s = ReadAt(offset + kFramePrefix, payload.data(), length); !s.ok()) {
      return s.error();
    }
    detail::Crc32 crc;
    crc.Update(std::string_view(prefix, 4));
    crc.Update(payload);
    if (crc.value() != stored) return Bad(offset, "frame CRC mismatch");
    return payload;
  }

  Error Bad(uint64_t offset, const std::string& why) const { return Corrupt(path_, offset, why); }

 private:
  Status ReadAt(uint64_t offset, char* out, size_t n) {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return SpillError(path_,
                          fmt::format("read at {}: {}", offset + done, std::strerror(errno)));
      }
      if (r == 0) return Bad(offset, "file ends inside the frame");
      done += static_cast<size_t>(r);
    }
    return Status::Ok();
  }

  int fd_;
  const fs::path& path_;
};

Result<SpillHeader> ParseHeader(std::string_view payload) {
  if (payload.empty() || payload[0] != 'H') {
    return Error{"cassandra.spill", "the first frame is not a header"};
  }
  try {
    const auto j = nlohmann::json::parse(payload.substr(1));
    SpillHeader h;
    h.table = j.at("table").get<std::string>();
    h.table_id = j.at("id").get<std::string>();
    h.stop = CommitLogPosition{j.at("stop_segment_id").get<int64_t>(),
                               j.at("stop_offset").get<uint32_t>()};
    auto shape = TableShape::FromJson(j.at("shape"));
    if (!shape.ok()) return shape.error();
    h.shape = std::move(shape).value();
    return h;
  } catch (const nlohmann::json::exception& e) {
    return Error{"cassandra.spill", std::string("header: ") + e.what()};
  }
}

Result<std::vector<SpillTable>> ParseSchema(std::string_view body) {
  try {
    std::vector<SpillTable> out;
    for (const auto& t : nlohmann::json::parse(body)) {
      auto shape = TableShape::FromJson(t.at("shape"));
      if (!shape.ok()) return shape.error();
      out.push_back({t.at("id").get<std::string>(), t.at("keyspace").get<std::string>(),
                     t.at("name").get<std::string>(), std::move(shape).value()});
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    return Error{"cassandra.spill", std::string("schema frame: ") + e.what()};
  }
}

Result<SpillEntry> ParseEntry(std::string_view payload) {
  detail::ByteReader r(payload.substr(1));
  uint64_t segment_id = 0;
  uint32_t offset = 0, end_offset = 0, messaging_version = 0;
  uint16_t name_size = 0;
  if (!r.ReadU64(&segment_id) || !r.ReadU32(&offset) || !r.ReadU32(&end_offset) ||
      !r.ReadU32(&messaging_version) || !r.ReadU16(&name_size)) {
    return Error{"cassandra.spill", "entry frame too short"};
  }
  std::string_view file;
  if (!r.ReadBytes(name_size, &file)) {
    return Error{"cassandra.spill", "entry frame's file name runs past it"};
  }
  SpillEntry e;
  e.position = CommitLogPosition{static_cast<int64_t>(segment_id), offset};
  e.end_offset = end_offset;
  e.messaging_version = static_cast<int>(messaging_version);
  e.file = std::string(file);
  e.bytes = r.data().substr(r.position());
  return e;
}

// Opens `path` for reading and checks its magic.
Result<int> OpenForReading(const fs::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return SpillError(path, std::string("open: ") + std::strerror(errno));
  char magic[kMagic.size()];
  if (::pread(fd, magic, sizeof(magic), 0) != static_cast<ssize_t>(sizeof(magic)) ||
      std::string_view(magic, sizeof(magic)) != kMagic) {
    ::close(fd);
    return SpillError(path, "corrupt frame at offset 0: not a spill file (magic)");
  }
  return fd;
}

// Visits the frames of the first `limit` bytes; the header is the first one.
Status VisitFrames(int fd, const fs::path& path, uint64_t limit,
                   const std::function<Status(uint64_t offset, std::string_view payload)>& fn) {
  FrameReader reader(fd, path);
  uint64_t offset = kMagic.size();
  while (offset < limit) {
    auto payload = reader.Read(offset, limit);
    if (!payload.ok()) return payload.error();
    const char kind = payload.value()[0];
    if ((offset == kMagic.size()) != (kind == 'H') || (kind != 'H' && kind != 'S' && kind != 'E')) {
      return reader.Bad(
          offset, fmt::format("unexpected frame kind {:#04x}", static_cast<unsigned char>(kind)));
    }
    if (Status s = fn(offset, payload.value()); !s.ok()) return s;
    offset += kFramePrefix + payload->size();
  }
  return Status::Ok();
}

}  // namespace

TableSpill::TableSpill(fs::path path, int fd, SpillHeader header, uint64_t size)
    : path_(std::move(path)), fd_(fd), header_(std::move(header)), size_(size) {}

TableSpill::~TableSpill() {
  if (fd_ >= 0) ::close(fd_);
}

fs::path TableSpill::PathFor(const fs::path& dir, const std::string& table) {
  return dir / (table + ".spill");
}

Result<std::unique_ptr<TableSpill>> TableSpill::Create(const fs::path& path,
                                                       const SpillHeader& header) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return SpillError(path, "create directory: " + ec.message());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return SpillError(path, std::string("create: ") + std::strerror(errno));
  std::unique_ptr<TableSpill> spill(new TableSpill(path, fd, header, 0));
  const nlohmann::json j = {{"table", header.table},
                            {"id", header.table_id},
                            {"stop_segment_id", header.stop.segment_id},
                            {"stop_offset", header.stop.offset},
                            {"shape", header.shape.ToJson()}};
  const std::string bytes = std::string(kMagic) + Frame('H', j.dump());
  if (Status s = WriteAll(fd, bytes, path); !s.ok()) return s.error();
  spill->size_ = bytes.size();
  if (Status s = spill->Sync(); !s.ok()) return s.error();
  if (Status s = SyncDir(path.parent_path()); !s.ok()) return s.error();
  return spill;
}

Result<std::unique_ptr<TableSpill>> TableSpill::Open(const fs::path& path, uint64_t covered) {
  auto fd = OpenForReading(path, O_RDWR);
  if (!fd.ok()) return fd.error();
  std::unique_ptr<TableSpill> spill(new TableSpill(path, fd.value(), {}, covered));
  struct stat st {};
  if (::fstat(fd.value(), &st) != 0) {
    return SpillError(path, std::string("stat: ") + std::strerror(errno));
  }
  if (static_cast<uint64_t>(st.st_size) < covered) {
    return SpillError(path, fmt::format("corrupt frame at offset {}: the file ends there but the "
                                        "checkpoint covers {} bytes of it",
                                        st.st_size, covered));
  }
  bool have_header = false;
  Status checked = VisitFrames(fd.value(), path, covered, [&](uint64_t at, std::string_view p) {
    if (p[0] == 'H') {
      auto h = ParseHeader(p);
      if (!h.ok()) return Status(Corrupt(path, at, h.error().message));
      spill->header_ = std::move(h).value();
      have_header = true;
    } else if (p[0] == 'S') {
      if (auto t = ParseSchema(p.substr(1)); !t.ok()) {
        return Status(Corrupt(path, at, t.error().message));
      }
    } else if (auto e = ParseEntry(p); !e.ok()) {
      return Status(Corrupt(path, at, e.error().message));
    }
    return Status::Ok();
  });
  if (!checked.ok()) return checked.error();
  if (!have_header) return SpillError(path, "corrupt frame at offset 8: no header");
  if (static_cast<uint64_t>(st.st_size) > covered) {
    // Read after the checkpoint (a torn append among them): read again from the segments.
    if (::ftruncate(fd.value(), static_cast<off_t>(covered)) != 0) {
      return SpillError(path, std::string("truncate: ") + std::strerror(errno));
    }
    if (Status s = spill->Sync(); !s.ok()) return s.error();
  }
  if (::lseek(fd.value(), 0, SEEK_END) < 0) {
    return SpillError(path, std::string("seek: ") + std::strerror(errno));
  }
  return spill;
}

uint64_t TableSpill::FrameSize(const SpillEntry& entry) {
  return kFramePrefix + kEntryFixed + entry.file.size() + entry.bytes.size();
}

Status TableSpill::AppendFrame(char kind, std::string_view body) {
  const std::string frame = Frame(kind, body);
  if (Status s = WriteAll(fd_, frame, path_); !s.ok()) {
    // A partial frame may be on disk: it lies past every covered length (nothing after it is
    // synced and covered) and goes at the next Open(); appending after it would not.
    return s;
  }
  size_ += frame.size();
  return Status::Ok();
}

Status TableSpill::AppendSchema(const std::vector<SpillTable>& tables) {
  nlohmann::json j = nlohmann::json::array();
  for (const SpillTable& t : tables) {
    j.push_back(
        {{"id", t.id}, {"keyspace", t.keyspace}, {"name", t.name}, {"shape", t.shape.ToJson()}});
  }
  return AppendFrame('S', j.dump());
}

Status TableSpill::AppendEntry(const SpillEntry& e) {
  if (e.file.size() > 0xffff) return SpillError(path_, "segment file name too long");
  std::string body;
  body.reserve(kEntryFixed - 1 + e.file.size() + e.bytes.size());
  PutBe(body, static_cast<uint64_t>(e.position.segment_id), 8);
  PutBe(body, e.position.offset, 4);
  PutBe(body, e.end_offset, 4);
  PutBe(body, static_cast<uint32_t>(e.messaging_version), 4);
  PutBe(body, e.file.size(), 2);
  body.append(e.file);
  body.append(e.bytes);
  return AppendFrame('E', body);
}

Status TableSpill::Sync() {
  if (::fdatasync(fd_) != 0) return SpillError(path_, std::string("sync: ") + std::strerror(errno));
  return Status::Ok();
}

Status TableSpill::Replay(const fs::path& path, uint64_t limit, const Visitor& visitor) {
  auto fd = OpenForReading(path, O_RDONLY);
  if (!fd.ok()) return fd.error();
  Status s = VisitFrames(fd.value(), path, limit, [&](uint64_t at, std::string_view p) {
    if (p[0] == 'S') {
      auto t = ParseSchema(p.substr(1));
      if (!t.ok()) return Status(Corrupt(path, at, t.error().message));
      return visitor.schema ? visitor.schema(*t) : Status::Ok();
    }
    if (p[0] == 'E') {
      auto e = ParseEntry(p);
      if (!e.ok()) return Status(Corrupt(path, at, e.error().message));
      return visitor.entry ? visitor.entry(*e) : Status::Ok();
    }
    return Status::Ok();
  });
  ::close(fd.value());
  return s;
}

Status TableSpill::Remove(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) return SpillError(path, "remove: " + ec.message());
  return SyncDir(path.parent_path());
}

}  // namespace rm::cdc::cassandra
