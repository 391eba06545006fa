// Change events the capture and transform tests build by hand, as the captures make them.
#pragma once

#include <optional>
#include <utility>

#include "src-cdc/change_event.h"

namespace rm::testing {

// An event of the Postgres capture "pg1" for table public.orders (key {"id": 7}), with every
// source field that capture writes (txId 771, lsn 0x16B3748) and fixed timestamps.
inline cdc::ChangeEvent PostgresOrdersEvent(cdc::Operation op, std::optional<cdc::Json> before,
                                            std::optional<cdc::Json> after) {
  cdc::ChangeEvent e;
  e.topic = "pg1.public.orders";
  e.op = op;
  e.before = std::move(before);
  e.after = std::move(after);
  e.ts_ms = 1700000000123;
  e.source.connector = "postgresql";
  e.source.name = "pg1";
  e.source.ts_ms = 1700000000000;
  e.source.db = "app";
  e.source.fields["sequence"] = nullptr;
  e.source.fields["schema"] = "public";
  e.source.fields["table"] = "orders";
  e.source.fields["txId"] = 771;
  e.source.fields["lsn"] = uint64_t{0x16B3748};
  e.source.fields["xmin"] = nullptr;
  e.key = cdc::Json::object({{"id", 7}});
  return e;
}

}  // namespace rm::testing
