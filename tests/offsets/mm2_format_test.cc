// MirrorMaker 2 OffsetSync, Checkpoint and Heartbeat codecs: byte-exact against hand-computed
// layouts, round trips, strict decoding of bad bytes, and agreement with an independent Python
// decoder written from MM2's published schema (tests/offsets/mm2_decode.py).
#include "offsets/mm2_format.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <random>
#include <string>

#include "tests/util/test_util.h"

namespace rm::offsets::mm2 {
namespace {

using common::SourceOffset;
using common::TargetOffset;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

TEST(Mm2Format, OffsetSyncMatchesHandComputedBytes) {
  auto record = Encode(OffsetSync{"orders", 3, SourceOffset(1000), TargetOffset(990)});
  ASSERT_TRUE(record.ok());
  // topic: int16 length 6 + "orders"; partition: int32 3.
  EXPECT_EQ(record->key, Bytes({0, 6}) + "orders" + Bytes({0, 0, 0, 3}));
  // upstreamOffset 1000 = 0x3e8, offset 990 = 0x3de, both int64 big-endian.
  EXPECT_EQ(record->value, Bytes({0, 0, 0, 0, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0, 0, 0x03, 0xde}));
}

TEST(Mm2Format, OffsetSyncMarkTravelsInAHeaderOutsideMm2sBytes) {
  for (auto mark : {SyncMark::kRun, SyncMark::kClosesRun}) {
    OffsetSync sync{"orders", 3, SourceOffset(1000), TargetOffset(990), mark};
    auto record = Encode(sync);
    ASSERT_TRUE(record.ok());
    // Key and value are MM2's bytes whatever the mark.
    EXPECT_EQ(record->value.size(), 16u);
    ASSERT_EQ(record->headers.size(), 1u);
    EXPECT_EQ(record->headers[0].first, kSyncMarkHeader);
    EXPECT_EQ(record->headers[0].second, mark == SyncMark::kRun ? "run" : "close");
    auto back = DecodeOffsetSync(*record);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, sync);
  }
  // MM2's own syncs have no header.
  auto plain = Encode(OffsetSync{"orders", 3, SourceOffset(1), TargetOffset(1)});
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->headers.empty());
  auto back = DecodeOffsetSync(*plain);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->mark, SyncMark::kUnmarked);
  // Anything else in our header is refused, naming it.
  auto bad = DecodeOffsetSync(plain->key, plain->value, "closed");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("rm-sync"), std::string::npos) << bad.error().message;
}

TEST(Mm2Format, CheckpointMatchesHandComputedBytes) {
  auto record =
      Encode(Checkpoint{"g1", "us-east.orders", 2, SourceOffset(300), TargetOffset(295), "m"});
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->key,
            Bytes({0, 2}) + "g1" + Bytes({0, 14}) + "us-east.orders" + Bytes({0, 0, 0, 2}));
  // version 0 (int16), upstreamOffset 300 = 0x12c, offset 295 = 0x127, metadata "m".
  EXPECT_EQ(record->value,
            Bytes({0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x2c, 0, 0, 0, 0, 0, 0, 0x01, 0x27, 0, 1}) + "m");
}

TEST(Mm2Format, HeartbeatMatchesHandComputedBytes) {
  auto record = Encode(Heartbeat{"A", "B", 0x0102030405});
  ASSERT_TRUE(record.ok());
  // sourceClusterAlias "A", targetClusterAlias "B": int16 length + bytes each.
  EXPECT_EQ(record->key, Bytes({0, 1}) + "A" + Bytes({0, 1}) + "B");
  // version 0 (int16), then timestamp int64 big-endian.
  EXPECT_EQ(record->value, Bytes({0, 0, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05}));
  auto decoded = DecodeHeartbeat(record->key, record->value);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, (Heartbeat{"A", "B", 0x0102030405}));
}

TEST(Mm2Format, HeartbeatsOfAnotherVersionOrWithTrailingBytesAreRefused) {
  auto record = Encode(Heartbeat{"us-east", "eu-west", 1}).value();
  EXPECT_FALSE(DecodeHeartbeat(record.key, record.value + "x").ok());
  EXPECT_FALSE(DecodeHeartbeat(record.key + "x", record.value).ok());
  std::string v1 = record.value;
  v1[1] = 1;
  auto r = DecodeHeartbeat(record.key, v1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("unsupported version 1"), std::string::npos);
}

TEST(Mm2Format, NegativeOffsetsAreTwosComplement) {
  auto record = Encode(OffsetSync{"", 0, SourceOffset(-1), TargetOffset(-2)});
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->value, std::string(8, '\xff') + std::string(7, '\xff') + "\xfe");
  auto decoded = DecodeOffsetSync(record->key, record->value);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->upstream_offset, SourceOffset(-1));
}

TEST(Mm2Format, RoundTripsRandomRecords) {
  std::mt19937_64 rng(11);
  auto text = [&](size_t max) {
    std::string s(rng() % (max + 1), '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  };
  for (int i = 0; i < 2000; ++i) {
    const OffsetSync sync{text(300), static_cast<int32_t>(rng()),
                          SourceOffset(static_cast<int64_t>(rng())),
                          TargetOffset(static_cast<int64_t>(rng()))};
    auto encoded = Encode(sync);
    ASSERT_TRUE(encoded.ok());
    auto decoded = DecodeOffsetSync(encoded->key, encoded->value);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(*decoded, sync);

    const Checkpoint checkpoint{text(100),
                                text(300),
                                static_cast<int32_t>(rng()),
                                SourceOffset(static_cast<int64_t>(rng())),
                                TargetOffset(static_cast<int64_t>(rng())),
                                text(50)};
    auto encoded_checkpoint = Encode(checkpoint);
    ASSERT_TRUE(encoded_checkpoint.ok());
    auto decoded_checkpoint = DecodeCheckpoint(encoded_checkpoint->key, encoded_checkpoint->value);
    ASSERT_TRUE(decoded_checkpoint.ok()) << decoded_checkpoint.error().message;
    EXPECT_EQ(*decoded_checkpoint, checkpoint);
  }
}

TEST(Mm2Format, RefusesToEncodeStringsLongerThanInt16) {
  EXPECT_TRUE(
      Encode(OffsetSync{std::string(32767, 'x'), 0, SourceOffset(0), TargetOffset(0)}).ok());
  auto too_long = Encode(OffsetSync{std::string(32768, 'x'), 0, SourceOffset(0), TargetOffset(0)});
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, "offsets.mm2_encode");
  EXPECT_FALSE(
      Encode(Checkpoint{"g", "t", 0, SourceOffset(0), TargetOffset(0), std::string(40000, 'm')})
          .ok());
}

TEST(Mm2Format, DecodingBadBytesGivesAnError) {
  const auto sync = Encode(OffsetSync{"orders", 3, SourceOffset(1000), TargetOffset(990)}).value();
  const auto cp =
      Encode(Checkpoint{"g1", "t", 2, SourceOffset(300), TargetOffset(295), "meta"}).value();
  struct Case {
    const char* name;
    bool checkpoint;
    std::string key;
    std::string value;
  };
  const std::vector<Case> cases = {
      {"empty sync key", false, "", sync.value},
      {"sync key cut in topic", false, sync.key.substr(0, 4), sync.value},
      {"sync key without partition", false, sync.key.substr(0, 8), sync.value},
      {"sync key trailing", false, sync.key + "x", sync.value},
      {"negative topic length", false, Bytes({0xff, 0xfe}) + "orders" + Bytes({0, 0, 0, 3}),
       sync.value},
      {"sync value short", false, sync.key, sync.value.substr(0, 15)},
      {"sync value trailing", false, sync.key, sync.value + "x"},
      {"checkpoint key cut", true, cp.key.substr(0, 5), cp.value},
      {"checkpoint key trailing", true, cp.key + "x", cp.value},
      {"checkpoint version 1", true, cp.key, Bytes({0, 1}) + cp.value.substr(2)},
      {"checkpoint version -1", true, cp.key, Bytes({0xff, 0xff}) + cp.value.substr(2)},
      {"checkpoint value empty", true, cp.key, ""},
      {"checkpoint offsets cut", true, cp.key, cp.value.substr(0, 12)},
      {"checkpoint metadata cut", true, cp.key, cp.value.substr(0, cp.value.size() - 1)},
      {"checkpoint metadata negative", true, cp.key, cp.value.substr(0, 18) + Bytes({0x80, 0})},
      {"checkpoint trailing", true, cp.key, cp.value + "x"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    if (c.checkpoint) {
      auto r = DecodeCheckpoint(c.key, c.value);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, "offsets.mm2_decode");
    } else {
      auto r = DecodeOffsetSync(c.key, c.value);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, "offsets.mm2_decode");
    }
  }
}

TEST(Mm2Format, DecodingRandomBytesNeverCrashes) {
  std::mt19937_64 rng(5);
  const auto cp =
      Encode(Checkpoint{"group", "topic", 1, SourceOffset(7), TargetOffset(8), "md"}).value();
  for (int i = 0; i < 100000; ++i) {
    std::string key = cp.key;
    std::string value = cp.value;
    // Flip, cut or extend a few bytes of a valid record, or use pure noise.
    for (int flips = static_cast<int>(rng() % 4); flips > 0; --flips) {
      auto& target = rng() % 2 ? key : value;
      if (!target.empty()) target[rng() % target.size()] = static_cast<char>(rng());
    }
    if (rng() % 3 == 0) value.resize(rng() % (value.size() + 4));
    if (rng() % 5 == 0) key.resize(rng() % (key.size() + 4));
    auto checkpoint = DecodeCheckpoint(key, value);
    auto sync = DecodeOffsetSync(key, value);
    (void)checkpoint.ok();
    (void)sync.ok();
  }
}

// Runs the independent decoder on files our encoder wrote; returns its stdout.
std::string RunPythonDecoder(const std::string& kind, const KafkaRecord& record, int* status) {
  rm::testing::TempDir dir;
  rm::testing::WriteFile(dir / "key.bin", record.key);
  rm::testing::WriteFile(dir / "value.bin", record.value);
  const auto script = rm::testing::SourceDir() / "tests" / "offsets" / "mm2_decode.py";
  const std::string command = "/usr/bin/python3 '" + script.string() + "' " + kind + " '" +
                              (dir / "key.bin").string() + "' '" + (dir / "value.bin").string() +
                              "' 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *status = -1;
    return "";
  }
  std::string out;
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  *status = pclose(pipe);
  return out;
}

TEST(Mm2Format, IndependentPythonDecoderReadsOurCheckpoint) {
  const Checkpoint checkpoint{
      "payments-consumer",        "us-east.payments",         17,
      SourceOffset(123456789012), TargetOffset(123456700000), "committed by app ünïcode"};
  auto record = Encode(checkpoint);
  ASSERT_TRUE(record.ok());
  int status = 0;
  const auto out = RunPythonDecoder("checkpoint", *record, &status);
  ASSERT_EQ(status, 0) << out;
  const auto json = nlohmann::json::parse(out);
  EXPECT_EQ(json["group"], checkpoint.group);
  EXPECT_EQ(json["topic"], checkpoint.topic);
  EXPECT_EQ(json["partition"], 17);
  EXPECT_EQ(json["version"], 0);
  EXPECT_EQ(json["upstreamOffset"], 123456789012);
  EXPECT_EQ(json["offset"], 123456700000);
  EXPECT_EQ(json["metadata"], checkpoint.metadata);
}

TEST(Mm2Format, IndependentPythonDecoderReadsOurOffsetSync) {
  const OffsetSync sync{"orders", 5, SourceOffset(9007199254740993), TargetOffset(42)};
  auto record = Encode(sync);
  ASSERT_TRUE(record.ok());
  int status = 0;
  const auto out = RunPythonDecoder("offset-sync", *record, &status);
  ASSERT_EQ(status, 0) << out;
  const auto json = nlohmann::json::parse(out);
  EXPECT_EQ(json["topic"], "orders");
  EXPECT_EQ(json["partition"], 5);
  EXPECT_EQ(json["upstreamOffset"], 9007199254740993);  // above 2^53: exact integers, no floats
  EXPECT_EQ(json["offset"], 42);
}

TEST(Mm2Format, IndependentPythonDecoderReadsOurHeartbeat) {
  const Heartbeat heartbeat{"us-east", "eu-west", 1765000000123};
  auto record = Encode(heartbeat);
  ASSERT_TRUE(record.ok());
  int status = 0;
  const auto out = RunPythonDecoder("heartbeat", *record, &status);
  ASSERT_EQ(status, 0) << out;
  const auto json = nlohmann::json::parse(out);
  EXPECT_EQ(json["sourceClusterAlias"], "us-east");
  EXPECT_EQ(json["targetClusterAlias"], "eu-west");
  EXPECT_EQ(json["version"], 0);
  EXPECT_EQ(json["timestamp"], 1765000000123);
}

TEST(Mm2Format, IndependentPythonDecoderRejectsWhatWeReject) {
  auto record = Encode(Checkpoint{"g", "t", 0, SourceOffset(1), TargetOffset(1), ""}).value();
  record.value += "x";
  int status = 0;
  RunPythonDecoder("checkpoint", record, &status);
  EXPECT_NE(status, 0);
  EXPECT_FALSE(DecodeCheckpoint(record.key, record.value).ok());
}

}  // namespace
}  // namespace rm::offsets::mm2
