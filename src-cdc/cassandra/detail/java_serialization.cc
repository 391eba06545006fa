#include "src-cdc/cassandra/detail/java_serialization.h"

namespace rm::cdc::cassandra::detail {
namespace {

// Stream protocol constants (java.io.ObjectStreamConstants).
constexpr uint16_t kStreamMagic = 0xACED;
constexpr uint16_t kStreamVersion = 5;
constexpr uint8_t kTcNull = 0x70;
constexpr uint8_t kTcReference = 0x71;
constexpr uint8_t kTcClassDesc = 0x72;
constexpr uint8_t kTcObject = 0x73;
constexpr uint8_t kTcString = 0x74;
constexpr uint8_t kTcArray = 0x75;
constexpr uint8_t kTcClass = 0x76;
constexpr uint8_t kTcBlockData = 0x77;
constexpr uint8_t kTcEndBlockData = 0x78;
constexpr uint8_t kTcLongString = 0x7C;
constexpr uint8_t kTcProxyClassDesc = 0x7D;
constexpr uint8_t kTcEnum = 0x7E;
constexpr uint32_t kBaseWireHandle = 0x7E0000;
constexpr uint8_t kScWriteMethod = 0x01;
constexpr uint8_t kScExternalizable = 0x04;

constexpr int kMaxDepth = 32;

struct ClassDesc {
  std::string name;
  uint8_t flags = 0;
  struct Field {
    char type;
    std::string name;
  };
  std::vector<Field> fields;
  std::shared_ptr<const ClassDesc> super;
};

// A handle refers to a class descriptor or to a value (string, array, object, enum).
struct Handle {
  std::shared_ptr<const ClassDesc> desc;
  std::shared_ptr<const JavaValue> value;
};

class StreamReader {
 public:
  explicit StreamReader(ByteReader& r) : r_(r) {}

  common::Result<std::shared_ptr<const JavaValue>> ReadTop() {
    uint16_t magic, version;
    if (!r_.ReadU16(&magic) || !r_.ReadU16(&version) || magic != kStreamMagic ||
        version != kStreamVersion) {
      return Error("not a Java serialization stream");
    }
    auto v = Content(0);
    if (!v) return error_;
    return v;
  }

 private:
  common::Error Error(const std::string& what) {
    if (error_.message.empty()) {
      error_ = {"jceks.format",
                "serialized object: " + what + " at offset " + std::to_string(r_.position())};
    }
    return error_;
  }
  std::nullptr_t Fail(const std::string& what) {
    Error(what);
    return nullptr;
  }

  bool Utf(std::string* out) {
    std::string_view s;
    if (!r_.ReadShortLengthBytes(&s)) return false;
    out->assign(s);
    return true;
  }

  std::shared_ptr<const ClassDesc> ClassDescriptor(int depth) {
    if (depth > kMaxDepth) return Fail("nesting too deep");
    uint8_t tc;
    if (!r_.ReadU8(&tc)) return Fail("truncated class descriptor");
    if (tc == kTcNull) return nullptr;
    if (tc == kTcReference) {
      auto h = Reference();
      if (!h || !h->desc) return Fail("reference to a non-class-descriptor");
      return h->desc;
    }
    if (tc == kTcProxyClassDesc) return Fail("proxy classes are not supported");
    if (tc != kTcClassDesc) return Fail("expected a class descriptor, found " + std::to_string(tc));
    auto desc = std::make_shared<ClassDesc>();
    int64_t suid;
    uint16_t field_count;
    if (!Utf(&desc->name) || !r_.ReadI64(&suid)) return Fail("truncated class descriptor");
    handles_.push_back({desc, nullptr});
    if (!r_.ReadU8(&desc->flags) || !r_.ReadU16(&field_count)) {
      return Fail("truncated class descriptor");
    }
    for (uint16_t i = 0; i < field_count; ++i) {
      uint8_t type;
      ClassDesc::Field f;
      if (!r_.ReadU8(&type) || !Utf(&f.name)) return Fail("truncated field descriptor");
      f.type = static_cast<char>(type);
      if (f.type == '[' || f.type == 'L') {
        auto type_name = Content(depth + 1);  // the field's class name: a string or reference
        if (!type_name) return nullptr;
      } else if (std::string_view("BCDFIJSZ").find(f.type) == std::string_view::npos) {
        return Fail("unknown field type code " + std::to_string(type));
      }
      desc->fields.push_back(std::move(f));
    }
    if (!SkipAnnotation(depth)) return nullptr;
    desc->super = ClassDescriptor(depth + 1);
    if (!error_.message.empty()) return nullptr;
    return desc;
  }

  const Handle* Reference() {
    uint32_t h;
    if (!r_.ReadU32(&h) || h < kBaseWireHandle || h - kBaseWireHandle >= handles_.size()) {
      Error("bad handle");
      return nullptr;
    }
    return &handles_[h - kBaseWireHandle];
  }

  // classAnnotation / objectAnnotation: block data and objects until TC_ENDBLOCKDATA.
  bool SkipAnnotation(int depth) {
    while (true) {
      if (r_.empty()) return Fail("truncated annotation") != nullptr;
      const auto tc = static_cast<uint8_t>(r_.data()[r_.position()]);
      if (tc == kTcEndBlockData) {
        r_.Skip(1);
        return true;
      }
      if (tc == kTcBlockData) {
        uint8_t len;
        r_.Skip(1);
        if (!r_.ReadU8(&len) || !r_.Skip(len)) return Fail("truncated block data") != nullptr;
        continue;
      }
      if (!Content(depth + 1)) return false;
    }
  }

  bool Primitive(char type, int64_t* out) {
    uint64_t v = 0;
    bool ok = false;
    switch (type) {
      case 'B':
      case 'Z': {
        uint8_t b = 0;
        ok = r_.ReadU8(&b);
        v = type == 'B' ? static_cast<uint64_t>(static_cast<int8_t>(b)) : b;
        break;
      }
      case 'C':
      case 'S': {
        uint16_t s = 0;
        ok = r_.ReadU16(&s);
        v = type == 'S' ? static_cast<uint64_t>(static_cast<int16_t>(s)) : s;
        break;
      }
      case 'I':
      case 'F': {
        int32_t i = 0;
        ok = r_.ReadI32(&i);
        v = static_cast<uint64_t>(static_cast<int64_t>(i));
        break;
      }
      case 'J':
      case 'D':
        ok = r_.ReadU64(&v);
        break;
      default:
        break;
    }
    *out = static_cast<int64_t>(v);
    return ok;
  }

  std::shared_ptr<const JavaValue> Content(int depth) {
    if (depth > kMaxDepth) return Fail("nesting too deep");
    uint8_t tc;
    if (!r_.ReadU8(&tc)) return Fail("truncated content");
    switch (tc) {
      case kTcNull:
        return std::make_shared<JavaValue>();
      case kTcReference: {
        const Handle* h = Reference();
        if (h == nullptr) return nullptr;
        if (h->value) return h->value;
        auto other = std::make_shared<JavaValue>();
        other->kind = JavaValue::Kind::kOther;  // a class descriptor used as a value
        return other;
      }
      case kTcString:
      case kTcLongString: {
        auto v = std::make_shared<JavaValue>();
        v->kind = JavaValue::Kind::kString;
        std::string_view s;
        if (tc == kTcString) {
          if (!r_.ReadShortLengthBytes(&s)) return Fail("truncated string");
        } else {
          uint64_t len;
          if (!r_.ReadU64(&len) || len > r_.remaining() || !r_.ReadBytes(len, &s)) {
            return Fail("truncated long string");
          }
        }
        v->bytes.assign(s);
        handles_.push_back({nullptr, v});
        return v;
      }
      case kTcClass: {
        auto desc = ClassDescriptor(depth + 1);
        if (!error_.message.empty()) return nullptr;
        auto v = std::make_shared<JavaValue>();
        v->kind = JavaValue::Kind::kOther;
        handles_.push_back({nullptr, v});
        return v;
      }
      case kTcEnum: {
        auto desc = ClassDescriptor(depth + 1);
        if (!error_.message.empty()) return nullptr;
        auto v = std::make_shared<JavaValue>();
        v->kind = JavaValue::Kind::kOther;
        handles_.push_back({nullptr, v});
        if (!Content(depth + 1)) return nullptr;  // the constant's name
        return v;
      }
      case kTcArray:
        return Array(depth);
      case kTcObject:
        return Object(depth);
      default:
        return Fail("unsupported type code " + std::to_string(tc));
    }
  }

  std::shared_ptr<const JavaValue> Array(int depth) {
    auto desc = ClassDescriptor(depth + 1);
    if (!desc) return Fail("array without class descriptor");
    auto v = std::make_shared<JavaValue>();
    handles_.push_back({nullptr, v});
    int32_t len;
    if (!r_.ReadI32(&len) || len < 0 || static_cast<size_t>(len) > r_.remaining()) {
      return Fail("bad array length");
    }
    if (desc->name.size() != 2 || desc->name[0] != '[') {
      if (desc->name.size() < 2 || desc->name[0] != '[') return Fail("bad array class name");
    }
    const char elem = desc->name.size() > 1 ? desc->name[1] : '?';
    if (elem == 'B') {
      std::string_view b;
      if (!r_.ReadBytes(static_cast<size_t>(len), &b)) return Fail("truncated byte array");
      v->kind = JavaValue::Kind::kByteArray;
      v->bytes.assign(b);
      return v;
    }
    v->kind = JavaValue::Kind::kArray;
    for (int32_t i = 0; i < len; ++i) {
      if (elem == 'L' || elem == '[') {
        auto e = Content(depth + 1);
        if (!e) return nullptr;
        v->elements.push_back(std::move(e));
      } else {
        auto e = std::make_shared<JavaValue>();
        e->kind = JavaValue::Kind::kPrimitive;
        if (!Primitive(elem, &e->primitive)) return Fail("truncated array element");
        v->elements.push_back(std::move(e));
      }
    }
    return v;
  }

  std::shared_ptr<const JavaValue> Object(int depth) {
    auto desc = ClassDescriptor(depth + 1);
    if (!desc) return Fail("object without class descriptor");
    auto obj = std::make_shared<JavaObject>();
    obj->class_name = desc->name;
    auto v = std::make_shared<JavaValue>();
    v->kind = JavaValue::Kind::kObject;
    handles_.push_back({nullptr, v});
    // Class data is written superclass first.
    std::vector<const ClassDesc*> chain;
    for (const ClassDesc* d = desc.get(); d != nullptr; d = d->super.get()) {
      if (chain.size() > kMaxDepth) return Fail("class hierarchy too deep");
      chain.push_back(d);
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      const ClassDesc* d = *it;
      if (d->flags & kScExternalizable) return Fail("externalizable class " + d->name);
      for (const auto& f : d->fields) {
        std::shared_ptr<const JavaValue> fv;
        if (f.type == '[' || f.type == 'L') {
          fv = Content(depth + 1);
          if (!fv) return nullptr;
        } else {
          auto p = std::make_shared<JavaValue>();
          p->kind = JavaValue::Kind::kPrimitive;
          if (!Primitive(f.type, &p->primitive)) return Fail("truncated field " + f.name);
          fv = std::move(p);
        }
        obj->fields.emplace_back(f.name, std::move(fv));
      }
      if ((d->flags & kScWriteMethod) && !SkipAnnotation(depth)) return nullptr;
    }
    v->object = std::move(obj);
    return v;
  }

  ByteReader& r_;
  std::vector<Handle> handles_;
  common::Error error_;
};

}  // namespace

const JavaValue* JavaObject::Field(const std::string& name, JavaValue::Kind kind) const {
  for (const auto& [n, v] : fields) {
    if (n == name && v && v->kind == kind) return v.get();
  }
  return nullptr;
}

common::Result<std::shared_ptr<const JavaValue>> ReadJavaSerializedObject(ByteReader& r) {
  return StreamReader(r).ReadTop();
}

}  // namespace rm::cdc::cassandra::detail
