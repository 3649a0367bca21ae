// The checked-in OpenAPI documents list exactly the routes the contract
// declares. The routes are read from the descriptors protobuf builds from
// specs/commerce (the http rules of the options as written), not from the
// plugin's model, and compared with the paths and methods of each
// generated/<file>.openapi.json: the gateway's document has every route of
// the system, a service's document those of its own file.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

#include <google/protobuf/compiler/importer.h>
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cppsvc/v1/options.pb.h"

namespace {

namespace fs = std::filesystem;
namespace pb = google::protobuf;

class Errors : public pb::compiler::MultiFileErrorCollector {
 public:
  void AddError(const std::string& file,
                int line,
                int column,
                const std::string& message) override {
    ADD_FAILURE() << file << ":" << line + 1 << ":" << column + 1 << ": " << message;
  }
};

// "GET /v1/items/{id}", with a variable's segment pattern dropped as
// OpenAPI paths drop it ({name=shelves/*} -> {name}).
std::string Route(const cppsvc::v1::HttpRule& h) {
  static const std::regex kPattern(R"(\{([^}=]+)=[^}]*\})");
  using Rule = cppsvc::v1::HttpRule;
  const std::map<Rule::PatternCase, std::pair<std::string, std::string>> verbs = {
      {Rule::kGet, {"GET", h.get()}},
      {Rule::kPut, {"PUT", h.put()}},
      {Rule::kPost, {"POST", h.post()}},
      {Rule::kDelete, {"DELETE", h.delete_()}},
      {Rule::kPatch, {"PATCH", h.patch()}}};
  const auto& [verb, path] = verbs.at(h.pattern_case());
  return verb + " " + std::regex_replace(path, kPattern, "{$1}");
}

// The routes of the services of `file`, read from its descriptors.
std::set<std::string> DeclaredRoutes(const pb::FileDescriptor* file) {
  std::set<std::string> routes;
  for (int s = 0; s < file->service_count(); ++s) {
    for (int m = 0; m < file->service(s)->method_count(); ++m) {
      // The pool is not the generated one: reparse to read the extension.
      pb::MethodOptions options;
      options.ParseFromString(file->service(s)->method(m)->options().SerializeAsString());
      const cppsvc::v1::MethodOptions& o = options.GetExtension(cppsvc::v1::method);
      if (o.has_http()) routes.insert(Route(o.http()));
    }
  }
  return routes;
}

// `file` and the files it imports publicly, transitively.
std::set<std::string> RoutesInView(const pb::FileDescriptor* file) {
  std::set<std::string> routes = DeclaredRoutes(file);
  for (int i = 0; i < file->public_dependency_count(); ++i) {
    for (const std::string& r : RoutesInView(file->public_dependency(i))) routes.insert(r);
  }
  return routes;
}

std::set<std::string> DocumentRoutes(const fs::path& document) {
  std::ifstream in(document);
  EXPECT_TRUE(in) << "cannot read " << document;
  const nlohmann::json doc = nlohmann::json::parse(in);
  std::set<std::string> routes;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const char* verb : {"get", "put", "post", "delete", "patch"}) {
      if (!item.contains(verb)) continue;
      std::string upper = verb;
      for (char& c : upper) c = static_cast<char>(c - 'a' + 'A');
      routes.insert(upper + " " + path);
    }
  }
  return routes;
}

class Routes : public ::testing::Test {
 protected:
  Routes() : importer_(&tree_, &errors_) {
    tree_.MapPath("", CPPSVC_SPECS_DIR);
    tree_.MapPath("", "/usr/include");
  }

  const pb::FileDescriptor* Import(const std::string& proto) {
    const pb::FileDescriptor* file = importer_.Import(proto);
    EXPECT_NE(file, nullptr) << proto;
    return file;
  }

  // Every .proto of specs/commerce, relative to specs/.
  static std::vector<std::string> CommerceProtos() {
    std::vector<std::string> protos;
    for (const auto& e :
         fs::recursive_directory_iterator(fs::path(CPPSVC_SPECS_DIR) / "commerce")) {
      if (e.path().extension() == ".proto")
        protos.push_back(fs::relative(e.path(), CPPSVC_SPECS_DIR).string());
    }
    std::sort(protos.begin(), protos.end());
    return protos;
  }

  static fs::path DocumentOf(const std::string& proto) {
    return fs::path(CPPSVC_GENERATED_DIR) /
           (proto.substr(0, proto.size() - std::string(".proto").size()) + ".openapi.json");
  }

  pb::compiler::DiskSourceTree tree_;
  Errors errors_;
  pb::compiler::Importer importer_;
};

TEST_F(Routes, GatewayDocumentListsEveryHttpRuleOfTheSystem) {
  std::set<std::string> declared;
  for (const std::string& proto : CommerceProtos()) {
    if (const pb::FileDescriptor* file = Import(proto)) {
      for (const std::string& r : DeclaredRoutes(file)) declared.insert(r);
    }
  }
  ASSERT_GT(declared.size(), 10U) << "the specs declare too few routes: is the path right?";
  EXPECT_EQ(DocumentRoutes(DocumentOf("commerce/gateway/v1/gateway.proto")), declared)
      << "regenerate with: cmake --build <build-dir> --target update-generated";
}

TEST_F(Routes, EachDocumentListsTheRoutesOfItsFileAndPublicImports) {
  for (const std::string& proto : CommerceProtos()) {
    const pb::FileDescriptor* file = Import(proto);
    if (file == nullptr) continue;
    EXPECT_EQ(DocumentRoutes(DocumentOf(proto)), RoutesInView(file)) << proto;
  }
}

}  // namespace
