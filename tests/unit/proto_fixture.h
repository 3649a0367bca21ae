// Parses .proto sources given as strings (plus specs/ for the cppsvc
// options) and builds and resolves the model from them, as the plugin does
// from protoc.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/compiler/importer.h>

#include "diag/diagnostics.h"
#include "model/model.h"

namespace cppsvc::testing {

class ProtoFixture {
 public:
  // `files`: path -> source. All of them are "to generate", in map order
  // unless `order` names them otherwise.
  explicit ProtoFixture(const std::map<std::string, std::string>& files,
                        std::vector<std::string> order = {});
  ~ProtoFixture();

  const model::Model& model() const { return model_; }
  // Parse errors of protoc itself (the fixture sources must be valid).
  const std::string& parse_errors() const { return parse_errors_; }
  // model::Check over the model, formatted one diagnostic per line.
  std::vector<std::string> Check() const;

 private:
  class Errors;
  std::string dir_;
  std::string parse_errors_;
  std::unique_ptr<google::protobuf::compiler::DiskSourceTree> tree_;
  std::unique_ptr<Errors> errors_;
  std::unique_ptr<google::protobuf::compiler::Importer> importer_;
  model::Model model_;
};

// A header every fixture proto may start with: syntax, options import and
// the roles customer/admin.
std::string Preamble(const std::string& package);

}  // namespace cppsvc::testing
