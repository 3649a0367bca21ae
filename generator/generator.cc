#include "generator.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <google/protobuf/io/zero_copy_stream.h>

#include "emit/artifacts.h"
#include "model/build.h"
#include "model/check.h"
#include "model/resolve.h"
#include "text/join.h"

namespace cppsvc {
namespace {

const std::vector<std::string> kKeys = {"emit",
                                        "werror",
                                        "schema_lock",
                                        "schema_lock_dir",
                                        "schema_lock_store_command",
                                        "proto_path",
                                        "deploy_dir"};

bool ParseBool(const std::string& key,
               const std::string& value,
               bool& out,
               std::vector<std::string>& errors) {
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

// emit=a+b: artifacts separated by '+', since protoc joins options with commas.
void ParseArtifacts(const std::string& value,
                    std::set<std::string>& out,
                    std::vector<std::string>& errors) {
  out.clear();
  const std::vector<std::string> names = emit::ArtifactNames();
  size_t p = 0;
  while (p <= value.size()) {
    size_t plus = value.find('+', p);
    std::string a = value.substr(p, plus == std::string::npos ? std::string::npos : plus - p);
    p = plus == std::string::npos ? value.size() + 1 : plus + 1;
    if (emit::FindArtifact(a) != nullptr) {
      out.insert(a);
    } else {
      std::string all;
      for (const std::string& n : names) all += (all.empty() ? "" : ", ") + n;
      errors.push_back("option 'emit': unknown artifact '" + a + "'" + diag::DidYouMean(a, names) +
                       "; expected artifacts joined by '+' from: " + all);
    }
  }
}

void ParseSchemaLockMode(const std::string& value,
                         SchemaLockMode& out,
                         std::vector<std::string>& errors) {
  if (value == "check") {
    out = SchemaLockMode::kCheck;
  } else if (value == "update") {
    out = SchemaLockMode::kUpdate;
  } else {
    errors.push_back("option 'schema_lock' expects check or update, got '" + value + "'" +
                     diag::DidYouMean(value, {"check", "update"}));
  }
}

// A directory or a command: any text but none.
void ParseText(const std::string& key,
               const std::string& value,
               const std::string& what,
               std::string& out,
               std::vector<std::string>& errors) {
  if (value.empty())
    errors.push_back("option '" + key + "' expects " + what);
  else
    out = value;
}

// A relative path without "." or ".." segments: the deployment files spell
// it inside the build context.
void ParseDeployDir(const std::string& value, std::string& out, std::vector<std::string>& errors) {
  bool bad = value.empty() || value.front() == '/' || value.back() == '/';
  for (size_t p = 0; !bad && p <= value.size();) {
    size_t slash = std::min(value.find('/', p), value.size());
    std::string segment = value.substr(p, slash - p);
    bad = segment.empty() || segment == "." || segment == "..";
    p = slash + 1;
  }
  if (bad) {
    errors.push_back(
        "option 'deploy_dir' expects a relative path such as 'generated' (no '.' or "
        "'..' segments, no leading or trailing '/'), got '" +
        value + "'");
  } else {
    out = value;
  }
}

bool ParseItem(const std::string& key,
               const std::string& value,
               Parameters& out,
               std::vector<std::string>& errors) {
  if (key == "emit") {
    ParseArtifacts(value, out.artifacts, errors);
  } else if (key == "werror") {
    ParseBool(key, value, out.warnings_as_errors, errors);
  } else if (key == "schema_lock") {
    ParseSchemaLockMode(value, out.schema_lock.mode, errors);
  } else if (key == "schema_lock_dir") {
    std::string dir;
    ParseText(key, value, "a directory", dir, errors);
    if (!dir.empty()) out.schema_lock.dirs.push_back(dir);
  } else if (key == "schema_lock_store_command") {
    ParseText(key, value, "a command", out.schema_lock.store_command, errors);
  } else if (key == "deploy_dir") {
    ParseDeployDir(value, out.deploy_dir, errors);
  } else if (key == "proto_path") {
    std::string dir;
    ParseText(key, value, "a directory", dir, errors);
    if (!dir.empty()) out.proto_paths.push_back(dir);
  } else {
    return false;
  }
  return true;
}

// The text of each file to generate, from the first directory holding it:
// only used to point inside options, so a file not found is no error.
void ReadSources(const Parameters& params, model::Model& model) {
  std::vector<std::string> dirs = params.proto_paths;
  dirs.insert(dirs.end(), params.schema_lock.dirs.begin(), params.schema_lock.dirs.end());
  dirs.push_back(".");
  for (const model::File& file : model.files) {
    if (!file.generate) continue;
    for (const std::string& dir : dirs) {
      std::ifstream in(dir + "/" + file.name, std::ios::binary);
      if (!in) continue;
      std::ostringstream text;
      text << in.rdbuf();
      model.sources.emplace(file.name, text.str());
      break;
    }
  }
}

}  // namespace

std::set<std::string> Parameters::DefaultArtifacts() {
  std::vector<std::string> names = emit::ArtifactNames();
  return {names.begin(), names.end()};
}

bool ParseParameters(const std::string& text, Parameters& out, std::vector<std::string>& errors) {
  size_t before = errors.size();
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    size_t comma = text.find(',', start);
    std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string key = item.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (!ParseItem(key, value, out, errors)) {
      errors.push_back("unknown option '" + key + "'" + diag::DidYouMean(key, kKeys) +
                       "; known options: " + text::Join(kKeys, ", "));
    }
  }
  return errors.size() == before;
}

bool Generate(const model::Model& model,
              const Parameters& params,
              diag::Diagnostics& diags,
              std::vector<emit::OutputFile>& out) {
  model::Check(model, diags);
  if (params.warnings_as_errors) diags.PromoteWarnings();
  if (diags.HasErrors()) return false;
  // Schema evolution may refuse the contract too, so it runs before any
  // file is rendered.
  std::map<std::string, emit::SchemaLock> locks;
  for (const model::File& file : model.files) {
    // Only the migrations use the lock.
    if (!file.generate || file.database.empty() || !params.Emits("migrations")) continue;
    PlanSchemaLock(model, file, params.schema_lock, diags, locks[file.name]);
  }
  if (diags.HasErrors()) return false;
  for (const model::File& file : model.files) {
    if (!file.generate) continue;
    auto lock = locks.find(file.name);
    const emit::EmitInput in{model,
                             file,
                             lock == locks.end() ? nullptr : &lock->second,
                             params.Emits("openapi"),
                             params.deploy_dir};
    for (const emit::Artifact& a : emit::Artifacts()) {
      if (params.Emits(std::string(a.name))) emit::EmitArtifact(a, in, out);
    }
  }
  return true;
}

bool CppSvcGenerator::Generate(const google::protobuf::FileDescriptor* file,
                               const std::string& parameter,
                               google::protobuf::compiler::GeneratorContext* context,
                               std::string* error) const {
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
    for (const std::string& e : param_errors)
      *error += (error->empty() ? "" : "\n") + diag::OneLine("error: " + e);
    return false;
  }

  model::Model model = model::Build(files);
  model::Resolve(model);
  ReadSources(params, model);
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
