// A secondary (read-only) OffsetStore beside a writing one: what the `regionmirror offsets` CLI
// relies on while `regionmirror run` holds the directory.
#include <gtest/gtest.h>

#include "offsets/checkpoint_store.h"
#include "offsets/offset_map.h"
#include "offsets/offset_store.h"
#include "tests/offsets/offsets_test_util.h"

namespace rm::offsets {
namespace {

using testing::OpenStore;
using testing::S;
using testing::T;

std::unique_ptr<OffsetStore> OpenSecondary(const std::filesystem::path& dir) {
  OffsetStoreOptions options;
  options.secondary = true;
  auto store = OffsetStore::Open(dir, options);
  if (!store.ok()) {
    ADD_FAILURE() << store.error().code << ": " << store.error().message;
    return nullptr;
  }
  return std::move(store).value();
}

TEST(OffsetStoreSecondary, ReadsWhatThePrimaryMadeDurableWhileThePrimaryHoldsTheDirectory) {
  rm::testing::TempDir dir;
  auto primary = OpenStore(dir / "db");
  ASSERT_TRUE(primary);
  OffsetMap writer(*primary);
  const PartitionKey p{"a->b", "orders", 0};
  for (int i = 0; i < 100; ++i) writer.OnDelivered(p, S(i), T(i + 10));
  ASSERT_TRUE(writer.Checkpoint().ok());
  writer.OnDelivered(p, S(100), T(110));  // reported, not yet durable

  auto secondary = OpenSecondary(dir / "db");
  ASSERT_TRUE(secondary);
  EXPECT_TRUE(secondary->secondary());
  OffsetMap reader(*secondary);
  auto t = reader.Translate(p, S(42));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(*t, (TranslationResult{TranslationKind::kExact, T(52)}));
  auto end = reader.Translate(p, S(100));
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(*end, (TranslationResult{TranslationKind::kBeyondEnd, T(110)}));

  // The primary goes on; the secondary sees it after CatchUp().
  ASSERT_TRUE(writer.Checkpoint().ok());
  CheckpointStore primary_checkpoints(*primary);
  ASSERT_TRUE(primary_checkpoints
                  .Put({GroupCheckpoint{"a->b", "app", "orders", 0, S(101), T(111),
                                        TranslationKind::kBeyondEnd, 1, ""}})
                  .ok());
  ASSERT_TRUE(secondary->CatchUp().ok());
  auto after = reader.Translate(p, S(101));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, (TranslationResult{TranslationKind::kBeyondEnd, T(111)}));
  auto listed = CheckpointStore(*secondary).List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].target_offset, T(111));
}

TEST(OffsetStoreSecondary, RefusesWrites) {
  rm::testing::TempDir dir;
  { ASSERT_TRUE(OpenStore(dir / "db")); }
  auto secondary = OpenSecondary(dir / "db");
  ASSERT_TRUE(secondary);
  OffsetMap map(*secondary);
  map.OnDelivered({"a->b", "orders", 0}, S(0), T(0));
  EXPECT_FALSE(map.Checkpoint().ok());
}

TEST(OffsetStoreSecondary, NamesTheDirectoryWhenThereIsNoStore) {
  rm::testing::TempDir dir;
  OffsetStoreOptions options;
  options.secondary = true;
  auto store = OffsetStore::Open(dir / "absent", options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, "offsets.not_found");
  EXPECT_NE(store.error().message.find((dir / "absent").string()), std::string::npos);
}

TEST(OffsetStoreSecondary, RemovesItsOwnLogDirectoryOnClose) {
  rm::testing::TempDir dir;
  { ASSERT_TRUE(OpenStore(dir / "db")); }
  OffsetStoreOptions options;
  options.secondary = true;
  options.secondary_dir = dir / "secondary";
  std::filesystem::create_directories(options.secondary_dir);
  {
    auto store = OffsetStore::Open(dir / "db", options);
    ASSERT_TRUE(store.ok()) << store.error().message;
  }
  // Given explicitly: ours to keep (only a directory the store made itself is removed).
  EXPECT_TRUE(std::filesystem::exists(dir / "secondary"));
}

}  // namespace
}  // namespace rm::offsets
