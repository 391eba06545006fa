#include "src-cdc/cassandra/commit_log_reader.h"

#include <fcntl.h>
#include <lz4.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/container/vector.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "src-cdc/cassandra/detail/byte_reader.h"
#include "src-cdc/cassandra/detail/crc32.h"
#include "src-cdc/cassandra/detail/crypto.h"
#include "src-cdc/cassandra/mutation_decoder.h"

namespace rm::cdc::cassandra {
namespace {

using detail::ByteReader;
using detail::LoadBigEndian32;
// Grows without zero-filling (resize(n, boost::container::default_init)): a decompressed section
// is written once by LZ4, so clearing it first only costs time.
using ByteBuffer = boost::container::vector<char>;

constexpr uint32_t kSyncMarkerSize = 8;
// Cassandra refuses smaller entries so that zero padding cannot pass for an entry
// (CASSANDRA-2128).
constexpr int32_t kMinEntrySize = 10;
constexpr size_t kEntryOverhead = 12;  // size, size CRC, mutation CRC

// ---- Byte sources --------------------------------------------------------------------------

// Random access to the segment's bytes. The file may grow between calls (a live segment).
class SegmentSource {
 public:
  virtual ~SegmentSource() = default;
  virtual common::Result<uint64_t> Size() = 0;
  // Exactly `len` bytes at `offset`, in *scratch or in the source's own memory.
  virtual common::Result<std::string_view> Read(uint64_t offset, size_t len,
                                                std::string* scratch) = 0;
};

class FileSource : public SegmentSource {
 public:
  FileSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  ~FileSource() override { ::close(fd_); }

  common::Result<uint64_t> Size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return IoError("fstat", errno);
    return static_cast<uint64_t>(st.st_size);
  }

  common::Result<std::string_view> Read(uint64_t offset, size_t len,
                                        std::string* scratch) override {
    scratch->resize(len);
    size_t done = 0;
    while (done < len) {
      const ssize_t n =
          ::pread(fd_, scratch->data() + done, len - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError("read", errno);
      }
      if (n == 0) {
        return common::Error{"cassandra.io", name_ + ": file shrank while reading at offset " +
                                                 std::to_string(offset + done)};
      }
      done += static_cast<size_t>(n);
    }
    return std::string_view(*scratch);
  }

 private:
  common::Error IoError(const char* op, int err) {
    return {"cassandra.io", name_ + ": " + op + " failed: " + std::strerror(err)};
  }
  int fd_;
  std::string name_;
};

class MemorySource : public SegmentSource {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  common::Result<uint64_t> Size() override { return bytes_.size(); }
  common::Result<std::string_view> Read(uint64_t offset, size_t len, std::string*) override {
    if (offset > bytes_.size() || len > bytes_.size() - offset) {
      return common::Error{"cassandra.io", "read past the end of the segment bytes"};
    }
    return bytes_.substr(static_cast<size_t>(offset), len);
  }

 private:
  std::string_view bytes_;
};

// Cassandra's LZ4Compressor framing: 4-byte little-endian uncompressed length, then an LZ4 block.
// Appends the uncompressed bytes to *out.
common::Status Lz4Uncompress(std::string_view in, uint32_t max_len, ByteBuffer* out) {
  if (in.size() < 4) return common::Error{"cassandra.section", "LZ4 chunk shorter than 4 bytes"};
  const uint32_t len = static_cast<uint8_t>(in[0]) |
                       (static_cast<uint32_t>(static_cast<uint8_t>(in[1])) << 8) |
                       (static_cast<uint32_t>(static_cast<uint8_t>(in[2])) << 16) |
                       (static_cast<uint32_t>(static_cast<uint8_t>(in[3])) << 24);
  if (len > max_len || len > static_cast<uint32_t>(LZ4_MAX_INPUT_SIZE)) {
    return common::Error{"cassandra.section",
                         "LZ4 chunk claims " + std::to_string(len) + " uncompressed bytes"};
  }
  if (in.size() - 4 > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
    return common::Error{"cassandra.section", "LZ4 chunk too large"};
  }
  const size_t old = out->size();
  out->resize(old + len, boost::container::default_init);
  const int n = LZ4_decompress_safe(in.data() + 4, out->data() + old,
                                    static_cast<int>(in.size() - 4), static_cast<int>(len));
  if (n != static_cast<int>(len)) {
    out->resize(old);
    return common::Error{"cassandra.section", n < 0 ? "LZ4 data is corrupt"
                                                    : "LZ4 chunk decompressed to " +
                                                          std::to_string(n) + " bytes instead of " +
                                                          std::to_string(len)};
  }
  return common::Status::Ok();
}

bool IsLz4Compressor(std::string_view cls) {
  return cls == "LZ4Compressor" || cls == "org.apache.cassandra.io.compress.LZ4Compressor";
}

}  // namespace

const char* ToString(StopReason reason) {
  switch (reason) {
    case StopReason::kEndOfSegment:
      return "end of segment";
    case StopReason::kReadableLimit:
      return "readable limit";
    case StopReason::kStoppedByHandler:
      return "stopped by handler";
    case StopReason::kCorruptSyncMarker:
      return "corrupt sync marker";
  }
  return "?";
}

// ---- SegmentReader::Impl -------------------------------------------------------------------

class SegmentReader::Impl {
 public:
  Impl(std::string name, std::unique_ptr<SegmentSource> source, const ReaderOptions& options)
      : name_(std::move(name)), source_(std::move(source)), options_(options) {}

  common::Status Init(uint32_t resume_offset) {
    if (options_.schema == nullptr) {
      return common::Error{"cassandra.config", name_ + ": ReaderOptions::schema is not set"};
    }
    auto size = source_->Size();
    if (!size.ok()) return size.error();
    // The header is short; read its fixed part, then all of it.
    const size_t prefix = static_cast<size_t>(std::min<uint64_t>(size.value(), 14));
    auto head = source_->Read(0, prefix, &scratch_);
    if (!head.ok()) return head.error();
    const auto header_size = SegmentHeaderSize(head.value());
    if (!header_size || *header_size > size.value()) {
      // Let the parser produce the precise message about what is missing.
      auto all = source_->Read(0, static_cast<size_t>(size.value()), &scratch_);
      if (!all.ok()) return all.error();
      auto d = ParseSegmentDescriptor(all.value(), name_);
      if (!d.ok()) return d.error();
      return common::Error{"cassandra.header", name_ + ": segment header: truncated"};
    }
    auto bytes = source_->Read(0, *header_size, &scratch_);
    if (!bytes.ok()) return bytes.error();
    auto desc = ParseSegmentDescriptor(bytes.value(), name_);
    if (!desc.ok()) return desc.error();
    desc_ = std::move(desc).value();

    if (auto id = SegmentIdFromFileName(name_); id && *id != desc_.id) {
      // Cassandra treats this as recoverable and reads on using the header's id.
      pending_.push_back({"cassandra.header", name_ + ": segment id " + std::to_string(*id) +
                                                  " in the file name differs from id " +
                                                  std::to_string(desc_.id) +
                                                  " in the header; using the header's"});
    }
    if (desc_.encoding == SegmentEncoding::kCompressed &&
        !IsLz4Compressor(desc_.compression_class)) {
      return common::Error{"cassandra.config",
                           name_ + ": segment compressed with " + desc_.compression_class +
                               ", which this reader does not support (only LZ4Compressor)"};
    }
    if (desc_.encoding == SegmentEncoding::kEncrypted) {
      if (auto s = InitDecryption(); !s.ok()) return s;
    }
    marker_file_ = desc_.header_size;
    marker_logical_ = desc_.header_size;
    skip_before_ = resume_offset;
    if (resume_offset > marker_logical_) return SeekToResume(resume_offset);
    return common::Status::Ok();
  }

  const SegmentDescriptor& descriptor() const { return desc_; }
  const std::string& name() const { return name_; }
  bool finished() const { return finished_; }
  CommitLogPosition position() const {
    return {desc_.id, static_cast<uint32_t>(std::max<uint64_t>(marker_logical_, skip_before_))};
  }

  common::Result<ReadProgress> ReadUpTo(uint64_t limit, const MutationHandler& handler) {
    ReadProgress progress;
    for (auto& e : pending_) AddError(progress, std::move(e));
    pending_.clear();
    progress.stop = finished_ ? finished_reason_ : StopReason::kEndOfSegment;
    while (!finished_) {
      auto step = ReadSection(limit, handler, progress);
      if (!step.ok()) return step.error();
      if (step.value()) break;  // stop reason set
    }
    progress.position = position();
    return progress;
  }

 private:
  struct Marker {
    enum class State { kValid, kEnd, kNoRoom, kCorrupt };
    State state = State::kEnd;
    uint32_t next = 0;
  };

  common::Status InitDecryption() {
    if (desc_.cipher != "AES/CBC/PKCS5Padding") {
      return common::Error{"cassandra.config", name_ + ": segment encrypted with " + desc_.cipher +
                                                   ", which this reader does not support "
                                                   "(only AES/CBC/PKCS5Padding)"};
    }
    if (options_.keys == nullptr) {
      return common::Error{"cassandra.key", name_ + ": segment is encrypted (key alias '" +
                                                desc_.key_alias +
                                                "') but no key provider is configured"};
    }
    auto key = options_.keys->GetKey(desc_.key_alias);
    if (!key.ok()) return common::Error{"cassandra.key", name_ + ": " + key.error().message};
    auto d = detail::CbcDecryptor::Create(detail::BlockCipher::kAes, key.value(), desc_.iv);
    if (!d.ok()) return common::Error{"cassandra.key", name_ + ": " + d.error().message};
    decryptor_ = std::move(d).value();
    return common::Status::Ok();
  }

  void AddError(ReadProgress& p, common::Error e) {
    if (p.errors.size() < options_.max_errors) {
      p.errors.push_back(std::move(e));
    } else {
      ++p.errors_dropped;
    }
  }

  std::string SectionContext(uint32_t marker_offset) const {
    return name_ + ": sync section at file offset " + std::to_string(marker_offset);
  }
  std::string EntryContext(uint32_t marker_offset, uint64_t entry_offset) const {
    return SectionContext(marker_offset) + ": entry at " +
           (desc_.encoding == SegmentEncoding::kPlain ? "offset " : "logical offset ") +
           std::to_string(entry_offset);
  }

  // Reads and checks the sync marker at marker_file_.
  common::Result<Marker> ReadMarker(uint64_t file_size) {
    Marker m;
    if (uint64_t{marker_file_} + kSyncMarkerSize > file_size) {
      m.state = Marker::State::kNoRoom;
      return m;
    }
    auto bytes = source_->Read(marker_file_, kSyncMarkerSize, &scratch_);
    if (!bytes.ok()) return bytes.error();
    m.next = LoadBigEndian32(bytes.value().data());
    const uint32_t stored = LoadBigEndian32(bytes.value().data() + 4);
    detail::Crc32 crc;
    const auto id = static_cast<uint64_t>(desc_.id);
    crc.UpdateInt(static_cast<uint32_t>(id & 0xffffffffu));
    crc.UpdateInt(static_cast<uint32_t>(id >> 32));
    crc.UpdateInt(marker_file_);
    if (crc.value() != stored) {
      m.state = (m.next == 0 && stored == 0) ? Marker::State::kEnd : Marker::State::kCorrupt;
      corrupt_detail_ = "sync marker CRC mismatch (stored " + std::to_string(stored) +
                        ", computed " + std::to_string(crc.value()) + ")";
      return m;
    }
    if (uint64_t{m.next} < uint64_t{marker_file_} + kSyncMarkerSize ||
        static_cast<int32_t>(m.next) < 0) {
      m.state = Marker::State::kCorrupt;
      corrupt_detail_ = "sync marker has a valid CRC but points to offset " +
                        std::to_string(m.next) + ", not after itself";
      return m;
    }
    m.state = Marker::State::kValid;
    return m;
  }

  // For a valid marker: the uncompressed length stored after it (compressed/encrypted only).
  common::Result<std::optional<uint32_t>> ReadSectionLength(uint32_t section_file_end) {
    if (desc_.encoding == SegmentEncoding::kPlain) return std::optional<uint32_t>{};
    if (uint64_t{marker_file_} + kSyncMarkerSize + 4 > section_file_end) {
      return std::optional<uint32_t>{};
    }
    auto bytes = source_->Read(uint64_t{marker_file_} + kSyncMarkerSize, 4, &scratch_);
    if (!bytes.ok()) return bytes.error();
    return std::optional<uint32_t>{LoadBigEndian32(bytes.value().data())};
  }

  // Walks markers from the first section to the one holding `resume_offset`, decoding nothing.
  common::Status SeekToResume(uint32_t resume_offset) {
    auto size = source_->Size();
    if (!size.ok()) return size.error();
    while (true) {
      auto m = ReadMarker(size.value());
      if (!m.ok()) return m.error();
      if (m.value().state != Marker::State::kValid || m.value().next > size.value()) break;
      uint64_t logical_end = m.value().next;
      if (desc_.encoding != SegmentEncoding::kPlain) {
        auto len = ReadSectionLength(m.value().next);
        if (!len.ok()) return len.error();
        if (!len.value() || static_cast<int32_t>(*len.value()) < 0) break;
        logical_end = uint64_t{marker_logical_} + kSyncMarkerSize + *len.value();
      }
      if (logical_end > resume_offset || logical_end > UINT32_MAX) break;
      marker_file_ = m.value().next;
      marker_logical_ = static_cast<uint32_t>(logical_end);
    }
    return common::Status::Ok();
  }

  void Finish(ReadProgress& p, StopReason reason) {
    finished_ = true;
    finished_reason_ = reason;
    p.stop = reason;
  }

  // Processes the section at the current marker. Returns true when the read must stop (with
  // progress.stop set), false to go on with the next section.
  common::Result<bool> ReadSection(uint64_t limit, const MutationHandler& handler,
                                   ReadProgress& progress) {
    if (marker_logical_ >= limit) {
      progress.stop = StopReason::kReadableLimit;
      return true;
    }
    auto size_r = source_->Size();
    if (!size_r.ok()) return size_r.error();
    const uint64_t file_size = size_r.value();
    auto marker_r = ReadMarker(file_size);
    if (!marker_r.ok()) return marker_r.error();
    const Marker marker = marker_r.value();
    const uint32_t marker_at = marker_file_;
    switch (marker.state) {
      case Marker::State::kNoRoom:
      case Marker::State::kEnd:
        // Not final: a live segment's next marker is zeros until Cassandra syncs it.
        progress.stop = StopReason::kEndOfSegment;
        return true;
      case Marker::State::kCorrupt:
        AddError(progress,
                 {"cassandra.sync_marker", SectionContext(marker_at) + ": " + corrupt_detail_ +
                                               "; the rest of the segment is unreadable"});
        Finish(progress, StopReason::kCorruptSyncMarker);
        return true;
      case Marker::State::kValid:
        break;
    }
    const bool truncated = marker.next > file_size;
    const auto section_file_end = static_cast<uint32_t>(std::min<uint64_t>(marker.next, file_size));
    const uint64_t data_logical_start = uint64_t{marker_logical_} + kSyncMarkerSize;

    // Section content, in logical (uncompressed) bytes.
    std::string_view data;
    uint64_t logical_end = marker.next;
    bool section_ok = true;
    if (desc_.encoding == SegmentEncoding::kPlain) {
      if (marker.next > limit) {
        progress.stop = StopReason::kReadableLimit;
        return true;
      }
      auto bytes = source_->Read(uint64_t{marker_at} + kSyncMarkerSize,
                                 section_file_end - marker_at - kSyncMarkerSize, &section_);
      if (!bytes.ok()) return bytes.error();
      data = bytes.value();
    } else {
      auto len_r = ReadSectionLength(section_file_end);
      if (!len_r.ok()) return len_r.error();
      if (!len_r.value()) {
        AddError(progress, {"cassandra.section",
                            SectionContext(marker_at) + ": truncated before its length field"});
        ++progress.stats.skipped_sections;
        Finish(progress, StopReason::kEndOfSegment);
        return true;
      }
      const uint32_t plain_len = *len_r.value();
      logical_end = data_logical_start + plain_len;
      if (static_cast<int32_t>(plain_len) < 0 || plain_len > options_.max_section_bytes ||
          logical_end > UINT32_MAX) {
        // The length is not covered by any checksum; without it nothing in the section can be
        // placed, and the logical offsets of later sections are unknown.
        AddError(progress,
                 {"cassandra.section",
                  SectionContext(marker_at) + ": implausible uncompressed length " +
                      std::to_string(plain_len) + "; the rest of the segment is unreadable"});
        ++progress.stats.skipped_sections;
        Finish(progress, StopReason::kCorruptSyncMarker);
        return true;
      }
      if (logical_end > limit) {
        progress.stop = StopReason::kReadableLimit;
        return true;
      }
      const uint64_t payload_start = uint64_t{marker_at} + kSyncMarkerSize + 4;
      auto payload = source_->Read(payload_start, section_file_end - payload_start, &scratch_);
      if (!payload.ok()) return payload.error();
      // Sized once: the stored length was checked against max_section_bytes above, and
      // growing block by block would copy the section and fault in fresh pages again and again.
      uncompressed_.clear();
      uncompressed_.reserve(plain_len);
      common::Status s =
          desc_.encoding == SegmentEncoding::kCompressed
              ? Lz4Uncompress(payload.value(), options_.max_section_bytes, &uncompressed_)
              : DecryptBlocks(payload.value(), plain_len, &uncompressed_);
      if (s.ok() && uncompressed_.size() != plain_len) {
        s = common::Error{"cassandra.section",
                          "section holds " + std::to_string(uncompressed_.size()) +
                              " bytes, its header says " + std::to_string(plain_len)};
      }
      if (!s.ok()) {
        AddError(progress, {s.error().code, SectionContext(marker_at) + ": " + s.error().message +
                                                "; section skipped"});
        ++progress.stats.skipped_sections;
        section_ok = false;
      }
      data = section_ok ? std::string_view(uncompressed_.data(), uncompressed_.size())
                        : std::string_view();
    }

    ++progress.stats.sections;
    progress.stats.section_bytes += section_file_end - marker_at;
    bool stopped = false;
    const bool segment_ended =
        section_ok && ReadEntries(data, data_logical_start, marker_at, handler, progress, &stopped);
    if (stopped) {
      progress.stop = StopReason::kStoppedByHandler;
      return true;
    }
    marker_file_ = marker.next;
    marker_logical_ = static_cast<uint32_t>(logical_end);
    if (truncated) {
      AddError(progress,
               {"cassandra.section", SectionContext(marker_at) +
                                         ": truncated: its sync marker says the next "
                                         "section starts at offset " +
                                         std::to_string(marker.next) + " but the file ends at " +
                                         std::to_string(file_size)});
      Finish(progress, StopReason::kEndOfSegment);
      return true;
    }
    if (segment_ended) {
      Finish(progress, StopReason::kEndOfSegment);
      return true;
    }
    return false;
  }

  // Encrypted section payload: blocks of (int encrypted length, int compressed length,
  // ciphertext), each an AES/CBC message holding (int length, LZ4Compressor chunk).
  common::Status DecryptBlocks(std::string_view payload, uint32_t plain_len, ByteBuffer* out) {
    ByteReader r(payload);
    // Cassandra reads blocks while the file position is before the next marker minus one.
    while (r.remaining() > 1) {
      const size_t block_at = r.position();
      int32_t encrypted_len, compressed_len;
      std::string_view ciphertext;
      if (!r.ReadI32(&encrypted_len) || !r.ReadI32(&compressed_len) || encrypted_len <= 0 ||
          compressed_len < 0 || !r.ReadBytes(static_cast<size_t>(encrypted_len), &ciphertext)) {
        return common::Error{"cassandra.section", "encrypted block at section byte " +
                                                      std::to_string(block_at) +
                                                      " has a bad header or is truncated"};
      }
      if (auto s = decryptor_->Decrypt(ciphertext, &block_); !s.ok()) {
        return common::Error{"cassandra.decrypt", "encrypted block at section byte " +
                                                      std::to_string(block_at) + ": " +
                                                      s.error().message};
      }
      if (static_cast<size_t>(compressed_len) > block_.size() || compressed_len < 4) {
        return common::Error{"cassandra.decrypt", "encrypted block at section byte " +
                                                      std::to_string(block_at) +
                                                      " decrypts to fewer bytes than announced"};
      }
      const std::string_view compressed(block_.data(), static_cast<size_t>(compressed_len));
      const uint32_t raw_len = LoadBigEndian32(compressed.data());
      const size_t before = out->size();
      if (raw_len > plain_len - std::min<size_t>(before, plain_len)) {
        return common::Error{"cassandra.section", "encrypted block at section byte " +
                                                      std::to_string(block_at) +
                                                      " overflows the section length"};
      }
      if (auto s = Lz4Uncompress(compressed.substr(4), raw_len, out); !s.ok()) return s;
      if (out->size() - before != raw_len) {
        return common::Error{"cassandra.section", "encrypted block at section byte " +
                                                      std::to_string(block_at) +
                                                      " has inconsistent lengths"};
      }
    }
    return common::Status::Ok();
  }

  // Reads the entries of one section. Returns true when the zero padding after the last entry
  // was found (the segment has ended); sets *stopped when the handler asked to stop.
  bool ReadEntries(std::string_view data, uint64_t logical_start, uint32_t marker_at,
                   const MutationHandler& handler, ReadProgress& progress, bool* stopped) {
    size_t pos = 0;
    while (pos < data.size()) {
      const uint64_t entry_offset = logical_start + pos;
      const size_t left = data.size() - pos;
      if (left < 4) return true;  // no room for another entry: Cassandra ends here
      const auto size = static_cast<int32_t>(LoadBigEndian32(data.data() + pos));
      if (size == 0) return true;  // zero padding after the last entry
      auto entry_error = [&](const std::string& code, const std::string& what) {
        AddError(progress, {code, EntryContext(marker_at, entry_offset) + ": " + what});
      };
      if (size < kMinEntrySize) {
        entry_error("cassandra.entry",
                    "invalid entry size " + std::to_string(size) + "; rest of the section skipped");
        ++progress.stats.skipped_sections;
        return false;
      }
      if (left < 8) {
        entry_error("cassandra.entry", "truncated entry header; rest of the section skipped");
        ++progress.stats.skipped_sections;
        return false;
      }
      detail::Crc32 crc;
      crc.UpdateInt(static_cast<uint32_t>(size));
      const uint32_t stored_size_crc = LoadBigEndian32(data.data() + pos + 4);
      if (crc.value() != stored_size_crc) {
        entry_error("cassandra.entry", "size checksum mismatch (size " + std::to_string(size) +
                                           "); rest of the section skipped");
        ++progress.stats.skipped_sections;
        return false;
      }
      if (static_cast<uint64_t>(size) + kEntryOverhead > left) {
        entry_error("cassandra.entry", "entry of " + std::to_string(size) +
                                           " bytes runs past the end of the section (" +
                                           std::to_string(left) +
                                           " bytes left); rest of the section skipped");
        ++progress.stats.skipped_sections;
        return false;
      }
      const std::string_view body = data.substr(pos + 8, static_cast<size_t>(size));
      const uint32_t stored_crc = LoadBigEndian32(data.data() + pos + 8 + size);
      const uint64_t end_offset = entry_offset + kEntryOverhead + static_cast<uint64_t>(size);
      pos += kEntryOverhead + static_cast<size_t>(size);

      if (entry_offset < skip_before_) {
        ++progress.stats.skipped_before_resume;
        continue;
      }
      crc.Update(body);
      if (crc.value() != stored_crc) {
        entry_error("cassandra.entry", "mutation checksum mismatch; entry skipped");
        ++progress.stats.corrupt_entries;
        continue;
      }
      ++progress.stats.entries;
      auto decoded = DecodeMutation(body, desc_.messaging_version(), *options_.schema);
      if (!decoded.ok()) {
        entry_error("cassandra.decode", decoded.error().message + "; entry skipped");
        ++progress.stats.corrupt_entries;
        continue;
      }
      if (decoded.value().unknown_table) {
        ++progress.stats.skipped_unknown_table;
        continue;
      }
      Mutation m = std::move(decoded.value().mutation);
      m.position = {desc_.id, static_cast<uint32_t>(entry_offset)};
      m.end_offset = static_cast<uint32_t>(end_offset);
      m.entry = body;
      m.messaging_version = desc_.messaging_version();
      ++progress.stats.mutations;
      const ReadControl control = handler(std::move(m));
      if (control == ReadControl::kStop) {
        skip_before_ = static_cast<uint32_t>(end_offset);
        *stopped = true;
        return false;
      }
    }
    return false;
  }

  std::string name_;
  std::unique_ptr<SegmentSource> source_;
  ReaderOptions options_;
  SegmentDescriptor desc_;
  std::unique_ptr<detail::CbcDecryptor> decryptor_;

  // Cursor: the sync marker of the next section to read, in file and logical offsets.
  uint32_t marker_file_ = 0;
  uint32_t marker_logical_ = 0;
  // Entries starting before this logical offset were delivered already (or are before the
  // resume point) and are not handed out again.
  uint64_t skip_before_ = 0;
  bool finished_ = false;
  StopReason finished_reason_ = StopReason::kEndOfSegment;

  std::vector<common::Error> pending_;  // found at open, reported by the first read
  std::string corrupt_detail_;
  std::string scratch_;      // marker and header reads
  std::string section_;      // one plain section's bytes (read from a file)
  ByteBuffer uncompressed_;  // one compressed or encrypted section's uncompressed bytes
  std::string block_;        // one decrypted block
};

// ---- SegmentReader -------------------------------------------------------------------------

SegmentReader::SegmentReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SegmentReader::~SegmentReader() = default;

common::Result<std::unique_ptr<SegmentReader>> SegmentReader::Open(
    const std::filesystem::path& file, const ReaderOptions& options, uint32_t resume_offset) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return common::Error{"cassandra.io", file.string() + ": cannot open: " + std::strerror(errno)};
  }
  auto impl = std::make_unique<Impl>(file.filename().string(),
                                     std::make_unique<FileSource>(fd, file.string()), options);
  if (auto s = impl->Init(resume_offset); !s.ok()) return s.error();
  return std::unique_ptr<SegmentReader>(new SegmentReader(std::move(impl)));
}

common::Result<std::unique_ptr<SegmentReader>> SegmentReader::OpenBytes(
    std::string name, std::string_view bytes, const ReaderOptions& options,
    uint32_t resume_offset) {
  auto impl =
      std::make_unique<Impl>(std::move(name), std::make_unique<MemorySource>(bytes), options);
  if (auto s = impl->Init(resume_offset); !s.ok()) return s.error();
  return std::unique_ptr<SegmentReader>(new SegmentReader(std::move(impl)));
}

const SegmentDescriptor& SegmentReader::descriptor() const { return impl_->descriptor(); }
const std::string& SegmentReader::name() const { return impl_->name(); }
common::Result<ReadProgress> SegmentReader::ReadUpTo(uint64_t readable_limit,
                                                     const MutationHandler& handler) {
  return impl_->ReadUpTo(readable_limit, handler);
}
CommitLogPosition SegmentReader::position() const { return impl_->position(); }
bool SegmentReader::finished() const { return impl_->finished(); }

common::Result<ReadProgress> ReadSegmentFile(const std::filesystem::path& file,
                                             const ReaderOptions& options,
                                             const MutationHandler& handler) {
  auto reader = SegmentReader::Open(file, options);
  if (!reader.ok()) return reader.error();
  return reader.value()->ReadAll(handler);
}

common::Result<ReadProgress> ReadSegmentBytes(std::string name, std::string_view bytes,
                                              const ReaderOptions& options,
                                              const MutationHandler& handler) {
  auto reader = SegmentReader::OpenBytes(std::move(name), bytes, options);
  if (!reader.ok()) return reader.error();
  return reader.value()->ReadAll(handler);
}

common::Result<CdcIndex> ParseCdcIndex(std::string_view content) {
  // "<offset>" then, once the segment is finished, a line "COMPLETED".
  size_t i = 0;
  while (i < content.size() && (content[i] == ' ' || content[i] == '\t')) ++i;
  uint64_t offset = 0;
  const auto [p, ec] = std::from_chars(content.data() + i, content.data() + content.size(), offset);
  if (ec != std::errc() || p == content.data() + i) {
    return common::Error{"cassandra.cdc_index", "CDC index does not start with an offset"};
  }
  CdcIndex idx;
  idx.offset = offset;
  idx.completed =
      content.find("COMPLETED", static_cast<size_t>(p - content.data())) != std::string_view::npos;
  return idx;
}

common::Result<CdcIndex> ReadCdcIndexFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return common::Error{"cassandra.io", file.string() + ": cannot open"};
  std::stringstream ss;
  ss << in.rdbuf();
  auto idx = ParseCdcIndex(ss.str());
  if (!idx.ok()) return common::Error{idx.error().code, file.string() + ": " + idx.error().message};
  return idx;
}

}  // namespace rm::cdc::cassandra
