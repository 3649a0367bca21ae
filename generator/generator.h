// The protoc plugin: CodeGeneratorRequest -> model::Build -> model::Resolve ->
// model::Check -> emitters -> files.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <google/protobuf/compiler/code_generator.h>

#include "diag/diagnostics.h"
#include "emit/emitters.h"
#include "model/model.h"
#include "schema_locks.h"

namespace cppsvc {

// --cpp-svc_opt parameters, parsed strictly.
struct Parameters {
  // Names of the artifacts to emit (emit=a+b); all of them by default.
  std::set<std::string> artifacts = DefaultArtifacts();
  bool warnings_as_errors = false;
  // How schema locks are read and whether a missing or stale one is an
  // error (schema_lock=check|update, schema_lock_dir=<dir> repeatable,
  // schema_lock_store_command=<command>).
  SchemaLockOptions schema_lock;
  // Where the .proto sources are read (proto_path=<dir>, repeatable; then
  // the schema lock directories, then the working directory), so an error
  // inside a multi-line option points at its key. Unreadable: the option.
  std::vector<std::string> proto_paths;
  // The output directory as seen from the project root, which is the build
  // context of the generated Dockerfiles (deploy_dir=generated); "" = the
  // root itself.
  std::string deploy_dir;

  bool Emits(const std::string& artifact) const { return artifacts.count(artifact) > 0; }
  static std::set<std::string> DefaultArtifacts();
};

// Parses "k=v,k=v". Every problem (unknown key, bad value) is reported.
bool ParseParameters(const std::string& text, Parameters& out, std::vector<std::string>& errors);

// Everything but the I/O: checks the (built and resolved) model and, when it is clean, renders
// every artifact of every file to generate. Returns false when there are
// errors; warnings are left in `diags` either way.
bool Generate(const model::Model& model,
              const Parameters& params,
              diag::Diagnostics& diags,
              std::vector<emit::OutputFile>& out);

class CppSvcGenerator : public google::protobuf::compiler::CodeGenerator {
 public:
  bool Generate(const google::protobuf::FileDescriptor* file,
                const std::string& parameter,
                google::protobuf::compiler::GeneratorContext* context,
                std::string* error) const override;
  bool GenerateAll(const std::vector<const google::protobuf::FileDescriptor*>& files,
                   const std::string& parameter,
                   google::protobuf::compiler::GeneratorContext* context,
                   std::string* error) const override;
  uint64_t GetSupportedFeatures() const override { return FEATURE_PROTO3_OPTIONAL; }
};

}  // namespace cppsvc
