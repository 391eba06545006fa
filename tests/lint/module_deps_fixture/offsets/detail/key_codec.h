// Private to offsets: may use RocksDB.
#pragma once

#include <rocksdb/slice.h>
