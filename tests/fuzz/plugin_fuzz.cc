// libFuzzer target over the plugin's request handling: a CodeGeneratorRequest
// is built into descriptors the way protoc-gen-cpp-svc's PluginMain does, and
// handed to CppSvcGenerator::GenerateAll. Inputs that protoc could never send
// (unparsable bytes, descriptors that do not build) are skipped; for the rest
// the plugin must not crash, must not trip ASan or UBSan, and every error it
// returns must be located: "<file>:<line>:<col>: error: ..." (or "<file>:"
// alone when the element has no source position), where <file> is a proto of
// the request or a schema lock; only a bad --cpp-svc_opt is reported without
// a file ("error: ...").
//
// Seeds are requests protoc sent for the commerce contract
// (corpus/plugin_requests/, written by make_plugin_seeds.sh). The custom mutator
// changes them structurally, through reflection over the parsed request
// (names, numbers, labels, types, custom options, repeated elements), so
// that most mutants still parse and build and reach the model, the checks
// and the emitters; one in eight mutations is libFuzzer's own, on the bytes.
//
// A schema_lock_dir in the request's parameter is replaced by the specs
// directory (CPPSVC_SPECS_DIR), so runs read the commerce locks and never
// arbitrary files.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/compiler/code_generator.h>
#include <google/protobuf/compiler/plugin.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "diag/diagnostics.h"
#include "generator.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

namespace pb = google::protobuf;
using pb::compiler::CodeGeneratorRequest;

class MemoryContext : public pb::compiler::GeneratorContext {
 public:
  pb::io::ZeroCopyOutputStream* Open(const std::string& filename) override {
    return new pb::io::StringOutputStream(&files_[filename]);
  }

 private:
  std::map<std::string, std::string> files_;
};

class SilentErrors : public pb::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string&,
                const std::string&,
                const pb::Message*,
                ErrorLocation,
                const std::string&) override {}
};

// The request's parameter with any schema_lock_dir pointed at the specs.
std::string SafeParameter(const std::string& parameter) {
  std::string out;
  bool lock_dir = false;
  size_t start = 0;
  while (start <= parameter.size()) {
    size_t comma = parameter.find(',', start);
    if (comma == std::string::npos) comma = parameter.size();
    std::string item = parameter.substr(start, comma - start);
    start = comma + 1;
    if (item.rfind("schema_lock_dir", 0) == 0) {
      lock_dir = true;
    } else if (!item.empty()) {
      out += (out.empty() ? "" : ",") + item;
    }
  }
  if (lock_dir) out += std::string(out.empty() ? "" : ",") + "schema_lock_dir=" CPPSVC_SPECS_DIR;
  return out;
}

// Whether one error line names where the problem is.
bool Located(const std::string& line, const std::set<std::string>& files) {
  if (line.rfind("error: ", 0) == 0) {
    return line.rfind("error: option '", 0) == 0 || line.rfind("error: unknown option '", 0) == 0;
  }
  size_t colon = line.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string file = line.substr(0, colon);
  bool lock = file.size() > 17 && file.compare(file.size() - 17, 17, ".schema.lock.json") == 0;
  return (files.count(file) > 0 || lock) && line.find(": error: ") != std::string::npos;
}

void CheckLocated(const std::string& error, const CodeGeneratorRequest& request) {
  std::set<std::string> files;
  for (const pb::FileDescriptorProto& f : request.proto_file()) {
    // As a diagnostic names it: control characters escaped, one line each.
    std::string named =
        cppsvc::diag::Format({{f.name(), 0, 0}, cppsvc::diag::Severity::kError, ""});
    files.insert(named.substr(0, named.rfind(": error: ")));
  }
  if (error.empty()) {
    std::fprintf(stderr, "plugin_fuzz: generation failed without an error message\n");
    std::abort();
  }
  size_t start = 0;
  while (start < error.size()) {
    size_t end = error.find('\n', start);
    if (end == std::string::npos) end = error.size();
    std::string line = error.substr(start, end - start);
    start = end + 1;
    if (!Located(line, files)) {
      std::fprintf(stderr, "plugin_fuzz: error without a location: %s\n", line.c_str());
      std::abort();
    }
  }
}

// --- structure-aware mutation --------------------------------------------------

struct Leaf {
  pb::Message* message;
  const pb::FieldDescriptor* field;
  int index;  // element of a repeated field, else -1
};

void CollectLeaves(pb::Message& m, std::vector<Leaf>& out, int depth = 0) {
  if (depth > 12) return;
  const pb::Reflection* r = m.GetReflection();
  std::vector<const pb::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const pb::FieldDescriptor* f : fields) {
    if (!f->is_repeated()) {
      out.push_back({&m, f, -1});
      if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE)
        CollectLeaves(*r->MutableMessage(&m, f), out, depth + 1);
      continue;
    }
    for (int i = 0; i < r->FieldSize(m, f); ++i) {
      out.push_back({&m, f, i});
      if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE)
        CollectLeaves(*r->MutableRepeatedMessage(&m, f, i), out, depth + 1);
    }
  }
}

class Mutator {
 public:
  explicit Mutator(unsigned seed) : state_(seed * 0x9e3779b97f4a7c15ULL + 1) {}
  uint64_t Next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }
  size_t Below(size_t n) { return n == 0 ? 0 : Next() % n; }

  void Mutate(const Leaf& leaf, const std::vector<Leaf>& all) {
    const pb::FieldDescriptor* f = leaf.field;
    if (leaf.index >= 0 && Below(4) == 0) return MutateRepeated(leaf);
    switch (f->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_STRING:
        return MutateString(leaf, all);
      case pb::FieldDescriptor::CPPTYPE_MESSAGE:
        if (leaf.index < 0) leaf.message->GetReflection()->ClearField(leaf.message, f);
        return;
      case pb::FieldDescriptor::CPPTYPE_ENUM:
        return MutateEnum(leaf);
      case pb::FieldDescriptor::CPPTYPE_BOOL:
        return SetBool(leaf);
      case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      case pb::FieldDescriptor::CPPTYPE_FLOAT:
        return SetFloating(leaf);
      default:
        return MutateInteger(leaf);
    }
  }

 private:
  void MutateRepeated(const Leaf& leaf) {
    pb::Message* m = leaf.message;
    const pb::Reflection* r = m->GetReflection();
    int size = r->FieldSize(*m, leaf.field);
    switch (Below(3)) {
      case 0:  // delete the element
        r->SwapElements(m, leaf.field, leaf.index, size - 1);
        r->RemoveLast(m, leaf.field);
        return;
      case 1:  // move it
        r->SwapElements(m, leaf.field, leaf.index, static_cast<int>(Below(size)));
        return;
      default:  // duplicate it
        if (leaf.field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
          r->AddMessage(m, leaf.field)->CopyFrom(r->GetRepeatedMessage(*m, leaf.field, leaf.index));
        } else if (leaf.field->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
          r->AddString(m, leaf.field, r->GetRepeatedString(*m, leaf.field, leaf.index));
        }
        return;
    }
  }

  std::string GetString(const Leaf& l) {
    const pb::Reflection* r = l.message->GetReflection();
    return l.index < 0 ? r->GetString(*l.message, l.field)
                       : r->GetRepeatedString(*l.message, l.field, l.index);
  }
  void SetString(const Leaf& l, std::string v) {
    const pb::Reflection* r = l.message->GetReflection();
    if (l.index < 0)
      r->SetString(l.message, l.field, std::move(v));
    else
      r->SetRepeatedString(l.message, l.field, l.index, std::move(v));
  }

  void MutateString(const Leaf& leaf, const std::vector<Leaf>& all) {
    if (Below(3) == 0) {  // another string of the request: names refer to one another
      const Leaf& other = all[Below(all.size())];
      if (other.field->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
        SetString(leaf, GetString(other));
        return;
      }
    }
    std::string s = GetString(leaf);
    size_t max = s.size() + 16;
    s.resize(max);
    size_t n = LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(s.data()), max - 16, max);
    s.resize(n);
    SetString(leaf, s);
  }

  void MutateEnum(const Leaf& leaf) {
    const pb::EnumDescriptor* e = leaf.field->enum_type();
    const pb::EnumValueDescriptor* v = e->value(static_cast<int>(Below(e->value_count())));
    const pb::Reflection* r = leaf.message->GetReflection();
    if (leaf.index < 0)
      r->SetEnum(leaf.message, leaf.field, v);
    else
      r->SetRepeatedEnum(leaf.message, leaf.field, leaf.index, v);
  }

  void SetBool(const Leaf& leaf) {
    const pb::Reflection* r = leaf.message->GetReflection();
    if (leaf.index < 0)
      r->SetBool(leaf.message, leaf.field, !r->GetBool(*leaf.message, leaf.field));
    else
      r->SetRepeatedBool(leaf.message, leaf.field, leaf.index, Below(2) == 0);
  }

  void SetFloating(const Leaf& leaf) {
    static const double kValues[] = {0.0,
                                     -1.0,
                                     0.5,
                                     1.0,
                                     2.0,
                                     1e9,
                                     -1e-9,
                                     std::numeric_limits<double>::infinity(),
                                     std::numeric_limits<double>::quiet_NaN()};
    double v = kValues[Below(sizeof kValues / sizeof kValues[0])];
    const pb::Reflection* r = leaf.message->GetReflection();
    bool is_double = leaf.field->cpp_type() == pb::FieldDescriptor::CPPTYPE_DOUBLE;
    if (leaf.index >= 0) return;
    if (is_double)
      r->SetDouble(leaf.message, leaf.field, v);
    else
      r->SetFloat(leaf.message, leaf.field, static_cast<float>(v));
  }

  int64_t NewInteger(int64_t old) {
    static const int64_t kValues[] =
        {0, 1, 2, 3, 16, 255, 1000, 65535, 65536, 536870911, 2147483647};
    switch (Below(4)) {
      case 0:
        return old + 1;
      case 1:
        return old - 1;
      case 2:
        return -old;
      default:
        return kValues[Below(sizeof kValues / sizeof kValues[0])];
    }
  }

  void MutateInteger(const Leaf& leaf) {
    pb::Message* m = leaf.message;
    const pb::Reflection* r = m->GetReflection();
    if (leaf.index >= 0) return;
    switch (leaf.field->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_INT32:
        r->SetInt32(m, leaf.field, static_cast<int32_t>(NewInteger(r->GetInt32(*m, leaf.field))));
        return;
      case pb::FieldDescriptor::CPPTYPE_INT64:
        r->SetInt64(m, leaf.field, NewInteger(r->GetInt64(*m, leaf.field)));
        return;
      case pb::FieldDescriptor::CPPTYPE_UINT32:
        r->SetUInt32(m,
                     leaf.field,
                     static_cast<uint32_t>(NewInteger(r->GetUInt32(*m, leaf.field))));
        return;
      case pb::FieldDescriptor::CPPTYPE_UINT64:
        r->SetUInt64(
            m,
            leaf.field,
            static_cast<uint64_t>(NewInteger(static_cast<int64_t>(r->GetUInt64(*m, leaf.field)))));
        return;
      default:
        return;
    }
  }

  uint64_t state_;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The plugin prints warnings on std::cerr, which would flood the log.
  std::cerr.rdbuf(nullptr);
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data,
                                          size_t size,
                                          size_t max_size,
                                          unsigned int seed) {
  CodeGeneratorRequest request;
  Mutator mutator(seed);
  if (mutator.Below(8) == 0 || !request.ParseFromArray(data, static_cast<int>(size)))
    return LLVMFuzzerMutate(data, size, max_size);
  std::vector<Leaf> leaves;
  CollectLeaves(request, leaves);
  if (leaves.empty()) return LLVMFuzzerMutate(data, size, max_size);
  int rounds = 1 + static_cast<int>(mutator.Below(3));
  for (int i = 0; i < rounds; ++i) {
    mutator.Mutate(leaves[mutator.Below(leaves.size())], leaves);
    leaves.clear();
    CollectLeaves(request, leaves);
    if (leaves.empty()) break;
  }
  std::string out = request.SerializeAsString();
  if (out.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CodeGeneratorRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  pb::DescriptorPool pool;
  SilentErrors errors;
  for (const pb::FileDescriptorProto& f : request.proto_file()) {
    if (pool.BuildFileCollectingErrors(f, &errors) == nullptr) return 0;
  }
  std::vector<const pb::FileDescriptor*> files;
  for (const std::string& name : request.file_to_generate()) {
    const pb::FileDescriptor* f = pool.FindFileByName(name);
    if (f == nullptr) return 0;
    files.push_back(f);
  }
  if (files.empty()) return 0;
  cppsvc::CppSvcGenerator generator;
  MemoryContext context;
  std::string error;
  if (!generator.GenerateAll(files, SafeParameter(request.parameter()), &context, &error))
    CheckLocated(error, request);
  return 0;
}
