#include "proto_fixture.h"

#include <filesystem>
#include <fstream>

#include "model/build.h"
#include "model/check.h"
#include "model/resolve.h"

namespace cppsvc::testing {

class ProtoFixture::Errors : public google::protobuf::compiler::MultiFileErrorCollector {
 public:
  explicit Errors(std::string& out) : out_(out) {}
  void AddError(const std::string& file,
                int line,
                int column,
                const std::string& message) override {
    out_ += file + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " +
            message + "\n";
  }

 private:
  std::string& out_;
};

ProtoFixture::ProtoFixture(const std::map<std::string, std::string>& files,
                           std::vector<std::string> order) {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/cppsvc-fixture-XXXXXX";
  dir_ = mkdtemp(tmpl);
  for (const auto& [path, text] : files) {
    fs::create_directories(fs::path(dir_ + "/" + path).parent_path());
    std::ofstream(dir_ + "/" + path) << text;
  }
  tree_ = std::make_unique<google::protobuf::compiler::DiskSourceTree>();
  tree_->MapPath("", dir_);
  tree_->MapPath("", CPPSVC_SPECS_DIR);
  tree_->MapPath("", "/usr/include");
  errors_ = std::make_unique<Errors>(parse_errors_);
  importer_ = std::make_unique<google::protobuf::compiler::Importer>(tree_.get(), errors_.get());
  if (order.empty()) {
    for (const auto& [path, text] : files) order.push_back(path);
  }
  std::vector<const google::protobuf::FileDescriptor*> descriptors;
  for (const std::string& path : order) {
    const google::protobuf::FileDescriptor* fd = importer_->Import(path);
    if (fd != nullptr) descriptors.push_back(fd);
  }
  model_ = model::Build(descriptors);
  model::Resolve(model_);
}

ProtoFixture::~ProtoFixture() {
  std::filesystem::remove_all(dir_);
}

std::vector<std::string> ProtoFixture::Check() const {
  diag::Diagnostics diags;
  model::Check(model_, diags);
  std::vector<std::string> out;
  for (const diag::Diagnostic& d : diags.Sorted()) out.push_back(diag::Format(d));
  return out;
}

std::string Preamble(const std::string& package) {
  return "syntax = \"proto3\";\n"
         "package " +
         package +
         ";\n"
         "import \"cppsvc/v1/options.proto\";\n"
         "option (cppsvc.v1.role) = { name: \"customer\" };\n"
         "option (cppsvc.v1.role) = { name: \"admin\" includes: [\"customer\"] bypass_ownership: "
         "true };\n";
}

}  // namespace cppsvc::testing
