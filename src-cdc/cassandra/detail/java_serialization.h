// Just enough of the Java Object Serialization Stream Protocol to read what a JCEKS keystore
// stores: a javax.crypto.SealedObject (byte arrays and strings) and, once decrypted, a
// javax.crypto.spec.SecretKeySpec or java.security.KeyRep. Never executes or instantiates
// anything: it only walks the grammar and keeps field values.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "src-cdc/cassandra/detail/byte_reader.h"

namespace rm::cdc::cassandra::detail {

struct JavaObject;

struct JavaValue {
  enum class Kind { kNull, kPrimitive, kString, kByteArray, kArray, kObject, kOther };
  Kind kind = Kind::kNull;
  int64_t primitive = 0;  // integral primitives; floats keep their bits
  std::string bytes;      // kString (modified UTF-8 as stored) and kByteArray
  std::vector<std::shared_ptr<const JavaValue>> elements;  // kArray of non-byte elements
  std::shared_ptr<const JavaObject> object;                // kObject
};

struct JavaObject {
  std::string class_name;
  // Serializable fields of every class in the hierarchy, superclass first.
  std::vector<std::pair<std::string, std::shared_ptr<const JavaValue>>> fields;

  // First field with this name whose value has `kind`, or nullptr.
  const JavaValue* Field(const std::string& name, JavaValue::Kind kind) const;
};

// Reads a stream header (0xACED 0x0005) and one top-level object from `r`, leaving `r` just
// after it. Errors (code "jceks.format") name the offset.
common::Result<std::shared_ptr<const JavaValue>> ReadJavaSerializedObject(ByteReader& r);

}  // namespace rm::cdc::cassandra::detail
