#include "generator.h"

#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <google/protobuf/io/zero_copy_stream.h>

#include "emit/migrations.h"
#include "model/build.h"
#include "model/check.h"
#include "model/resolve.h"

namespace cppsvc {
namespace {

const std::vector<std::string> kKeys = {"emit", "werror", "schema_lock_dir"};
const std::vector<std::string> kArtifacts = {"handler_base", "doc", "validate", "server", "client", "main", "tests", "repository", "migrations"};

bool ParseBool(const std::string& key, const std::string& value, bool& out, std::vector<std::string>& errors) {
  if (value == "true" || value == "1") {
    out = true;
  } else if (value == "false" || value == "0") {
    out = false;
  } else {
    errors.push_back("option '" + key + "' expects true or false, got '" + value + "'");
    return false;
  }
  return true;
}

}  // namespace

bool ParseParameters(const std::string& text, Parameters& out, std::vector<std::string>& errors) {
  size_t before = errors.size();
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string key = item.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (key == "emit") {
      // Artifacts separated by '+', since protoc joins options with commas.
      out.emit_handler_base = out.emit_doc = out.emit_validate = out.emit_server = out.emit_client = out.emit_main = out.emit_tests =
          out.emit_repository = out.emit_migrations = false;
      size_t p = 0;
      while (p <= value.size()) {
        size_t plus = value.find('+', p);
        std::string a = value.substr(p, plus == std::string::npos ? std::string::npos : plus - p);
        p = plus == std::string::npos ? value.size() + 1 : plus + 1;
        if (a == "handler_base") {
          out.emit_handler_base = true;
        } else if (a == "doc") {
          out.emit_doc = true;
        } else if (a == "validate") {
          out.emit_validate = true;
        } else if (a == "server") {
          out.emit_server = true;
        } else if (a == "client") {
          out.emit_client = true;
        } else if (a == "main") {
          out.emit_main = true;
        } else if (a == "tests") {
          out.emit_tests = true;
        } else if (a == "repository") {
          out.emit_repository = true;
        } else if (a == "migrations") {
          out.emit_migrations = true;
        } else {
          errors.push_back("option 'emit': unknown artifact '" + a + "'" + diag::DidYouMean(a, kArtifacts) +
                           "; expected artifacts joined by '+' from: handler_base, doc, validate, server, client, main, tests, "
                           "repository, migrations");
        }
      }
    } else if (key == "werror") {
      ParseBool(key, value, out.warnings_as_errors, errors);
    } else if (key == "schema_lock_dir") {
      if (value.empty()) errors.push_back("option 'schema_lock_dir' expects a directory");
      else out.schema_lock_dirs.push_back(value);
    } else {
      errors.push_back("unknown option '" + key + "'" + diag::DidYouMean(key, kKeys) +
                       "; known options: emit, werror, schema_lock_dir");
    }
  }
  return errors.size() == before;
}

namespace {

// The schema lock of `file` from the first of `dirs` holding one.
std::optional<emit::SchemaLock> ReadSchemaLock(const model::File& file, const std::vector<std::string>& dirs,
                                               diag::Diagnostics& diags) {
  for (const std::string& dir : dirs) {
    std::ifstream in(dir + "/" + file.schema_lock, std::ios::binary);
    if (!in) continue;
    std::ostringstream text;
    text << in.rdbuf();
    return emit::ParseSchemaLock(text.str(), diag::Span{file.schema_lock, 0, 0}, diags);
  }
  return std::nullopt;
}

}  // namespace

bool Generate(const model::Model& model, const Parameters& params, diag::Diagnostics& diags,
              std::vector<emit::OutputFile>& out) {
  model::Check(model, diags);
  if (params.warnings_as_errors) diags.PromoteWarnings();
  if (diags.HasErrors()) return false;
  // Schema evolution may refuse the contract too, so it runs before any
  // file is rendered.
  std::map<std::string, emit::SchemaLock> locks;
  for (const model::File& file : model.files) {
    if (!file.generate || file.database.empty() || !params.emit_migrations) continue;
    size_t errors = diags.All().size();
    std::optional<emit::SchemaLock> lock = ReadSchemaLock(file, params.schema_lock_dirs, diags);
    if (diags.All().size() != errors) continue;
    emit::PlanMigrations(model, file, lock, diags, locks[file.name]);
  }
  if (diags.HasErrors()) return false;
  for (const model::File& file : model.files) {
    if (!file.generate) continue;
    if (params.emit_handler_base) emit::EmitHandlerBase(model, file, out);
    if (params.emit_doc) emit::EmitServiceDoc(model, file, out);
    if (params.emit_validate) emit::EmitValidate(model, file, out);
    if (params.emit_server) emit::EmitServer(model, file, out);
    if (params.emit_client) emit::EmitClient(model, file, out);
    if (params.emit_main) emit::EmitMain(model, file, out);
    if (params.emit_tests) emit::EmitContractTest(model, file, out);
    if (params.emit_repository) emit::EmitRepository(model, file, out);
    if (params.emit_migrations) {
      auto lock = locks.find(file.name);
      emit::EmitMigrationsSource(file, lock == locks.end() ? nullptr : &lock->second, out);
      if (lock != locks.end()) emit::EmitMigrationFiles(file, lock->second, out);
    }
  }
  return true;
}

bool CppSvcGenerator::Generate(const google::protobuf::FileDescriptor* file, const std::string& parameter,
                               google::protobuf::compiler::GeneratorContext* context, std::string* error) const {
  return GenerateAll({file}, parameter, context, error);
}

bool CppSvcGenerator::GenerateAll(const std::vector<const google::protobuf::FileDescriptor*>& files,
                                  const std::string& parameter,
                                  google::protobuf::compiler::GeneratorContext* context,
                                  std::string* error) const {
  Parameters params;
  std::vector<std::string> param_errors;
  if (!ParseParameters(parameter, params, param_errors)) {
    *error = "";
    for (const std::string& e : param_errors) *error += (error->empty() ? "" : "\n") + std::string("error: ") + e;
    return false;
  }

  model::Model model = model::Build(files);
  model::Resolve(model);
  diag::Diagnostics diags;
  std::vector<emit::OutputFile> out;
  bool ok = cppsvc::Generate(model, params, diags, out);
  // Warnings travel on stderr, which protoc passes through; errors travel in
  // the response, which protoc prints and turns into a failed run.
  std::string warnings = diag::FormatAll(diags, diag::Severity::kWarning);
  if (!warnings.empty()) std::cerr << warnings << std::endl;
  if (!ok) {
    *error = diag::FormatAll(diags, diag::Severity::kError);
    return false;
  }
  for (const emit::OutputFile& f : out) {
    std::unique_ptr<google::protobuf::io::ZeroCopyOutputStream> stream(context->Open(f.name));
    void* data = nullptr;
    int size = 0;
    size_t written = 0;
    while (written < f.content.size()) {
      if (!stream->Next(&data, &size)) {
        *error = "cannot write " + f.name;
        return false;
      }
      size_t n = std::min<size_t>(static_cast<size_t>(size), f.content.size() - written);
      std::memcpy(data, f.content.data() + written, n);
      written += n;
      if (n < static_cast<size_t>(size)) stream->BackUp(size - static_cast<int>(n));
    }
  }
  return true;
}

}  // namespace cppsvc
