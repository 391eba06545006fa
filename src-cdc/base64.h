// Base64 (RFC 4648 alphabet, with padding): how Debezium's JSON carries binary values (Postgres
// bytea, Cassandra blobs). One implementation for every capture, on OpenSSL's encoder.
#pragma once

#include <string>
#include <string_view>

namespace rm::cdc {

std::string Base64Encode(std::string_view bytes);

}  // namespace rm::cdc
