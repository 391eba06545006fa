// Each include below breaks the fixture's table once.
#include <rocksdb/db.h>

#include "common/log.h"
#include "offsets/detail/key_codec.h"
#include "offsets/offset_map.h"
#include "testbed/testbed.h"
