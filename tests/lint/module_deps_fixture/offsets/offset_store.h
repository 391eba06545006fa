// A public header that names a private library's types.
#pragma once

#include <rocksdb/db.h>

class OffsetStore {
  rocksdb::DB* db_;
};
