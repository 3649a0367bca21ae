// The gateway's proto3 JSON mapping, on protobuf's own descriptor messages
// (strings, integers, enums, nested and repeated fields).
#include "cppsvc/gateway/binding.h"

#include <google/protobuf/api.pb.h>
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace cppsvc::gateway {
namespace {

using google::protobuf::FieldDescriptorProto;
using google::protobuf::FileDescriptorProto;
using Vars = std::vector<std::pair<std::string, std::string>>;

RouteSpec Spec(std::string body) {
  RouteSpec s;
  s.verb = "POST";
  s.path = "/v1/files/{name}";
  s.body = std::move(body);
  return s;
}

std::optional<BindError> Bind(const RouteSpec& spec,
                              const Vars& path,
                              std::string_view query,
                              std::string_view body,
                              google::protobuf::Message& m,
                              bool ignore_unknown = false) {
  return BindRequest(spec, path, query, body, BindOptions{ignore_unknown}, m);
}

TEST(GatewayBindingTest, BodyPathAndQueryFillTheRequest) {
  FileDescriptorProto f;
  const auto error =
      Bind(Spec(""),
           {{"name", "a.proto"}},
           "package=pkg&dependency=x.proto&dependency=y%2Fz.proto&options.javaPackage=j"
           "&options.optimize_for=CODE_SIZE&syntax=proto3",
           "",
           f);
  ASSERT_FALSE(error) << error->description;
  EXPECT_EQ(f.name(), "a.proto");
  EXPECT_EQ(f.package(), "pkg");
  ASSERT_EQ(f.dependency_size(), 2);
  EXPECT_EQ(f.dependency(1), "y/z.proto");
  EXPECT_EQ(f.options().java_package(), "j");
  EXPECT_EQ(f.options().optimize_for(), google::protobuf::FileOptions::CODE_SIZE);
}

TEST(GatewayBindingTest, WholeBodyWithCamelOrProtoNames) {
  FileDescriptorProto f;
  ASSERT_FALSE(Bind(Spec("*"),
                    {{"name", "p.proto"}},
                    "",
                    R"({"package": "pkg", "publicDependency": [1, 2], "weak_dependency": [3]})",
                    f));
  EXPECT_EQ(f.name(), "p.proto");
  EXPECT_EQ(f.package(), "pkg");
  EXPECT_EQ(f.public_dependency_size(), 2);
  EXPECT_EQ(f.weak_dependency_size(), 1);
}

TEST(GatewayBindingTest, PathVariableOverridesTheBody) {
  FileDescriptorProto f;
  ASSERT_FALSE(Bind(Spec("*"), {{"name", "from-path"}}, "", R"({"name": "from-body"})", f));
  EXPECT_EQ(f.name(), "from-path");
}

TEST(GatewayBindingTest, TextsAreSetAsTheJsonMappingSetsThem) {
  FileDescriptorProto f;
  ASSERT_FALSE(Bind(Spec(""), {{"name", "caf\xc3\xa9 \"<x>\""}}, "package=p%20q", "", f));
  EXPECT_EQ(f.name(), "caf\xc3\xa9 \"<x>\"");
  EXPECT_EQ(f.package(), "p q");
  for (const char* bad : {"\xff", "\xc0\xaf", "\xed\xa0\x80", "ok\xe2\x82"}) {
    const auto error = Bind(Spec(""), {{"name", bad}}, "", "", f);
    ASSERT_TRUE(error) << bad;
    EXPECT_EQ(error->field, "name");
    EXPECT_EQ(error->description, "is not valid UTF-8");
  }
}

TEST(GatewayBindingTest, BodyOfOneField) {
  FileDescriptorProto f;
  ASSERT_FALSE(Bind(Spec("options"), {}, "package=q", R"({"javaPackage": "j"})", f));
  EXPECT_EQ(f.options().java_package(), "j");
  EXPECT_EQ(f.package(), "q");
}

TEST(GatewayBindingTest, BodyOfOneFieldCannotReachOthers) {
  FileDescriptorProto f;
  const auto error = Bind(Spec("options"), {}, "", R"({}, "package": "evil")", f);
  ASSERT_TRUE(error);
  EXPECT_EQ(f.package(), "");
}

TEST(GatewayBindingTest, UnknownFieldsAreRefusedUnlessIgnored) {
  FileDescriptorProto f;
  auto error = Bind(Spec("*"), {}, "", R"({"nope": 1})", f);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->field, "nope");
  EXPECT_FALSE(Bind(Spec("*"), {}, "", R"({"nope": 1})", f, true));
  error = Bind(Spec(""), {}, "nope=1", "", f);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->field, "nope");
  EXPECT_EQ(error->description, "no such field");
  EXPECT_FALSE(Bind(Spec(""), {}, "nope=1", "", f, true));
}

TEST(GatewayBindingTest, WrongTypesNameTheField) {
  FieldDescriptorProto d;
  RouteSpec spec = Spec("");
  auto error = Bind(spec, {}, "number=abc", "", d);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->field, "number");
  error = Bind(spec, {}, "number=99999999999", "", d);
  ASSERT_TRUE(error);
  error = Bind(spec, {}, "type=TYPE_NOPE", "", d);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->field, "type");
  error = BindRequest(Spec("*"), {}, "", R"({"number": "x"})", {}, d);
  ASSERT_TRUE(error);
  EXPECT_FALSE(error->description.empty());
}

TEST(GatewayBindingTest, MalformedJsonIsAnError) {
  FileDescriptorProto f;
  EXPECT_TRUE(Bind(Spec("*"), {}, "", R"({"package": )", f));
  EXPECT_TRUE(Bind(Spec("*"), {}, "", "[1, 2]", f));
}

TEST(GatewayBindingTest, QueryMayNotSetWhatPathOrBodySet) {
  FileDescriptorProto f;
  EXPECT_TRUE(Bind(Spec(""), {{"name", "a"}}, "name=b", "", f));
  EXPECT_TRUE(Bind(Spec("*"), {}, "package=b", "{}", f));
  EXPECT_TRUE(Bind(Spec("options"), {}, "options.javaPackage=b", "{}", f));
}

TEST(GatewayBindingTest, EnumsByNumberAndMessagesByTheirJsonForm) {
  FieldDescriptorProto d;
  ASSERT_FALSE(SetField(d, "type", "9"));
  EXPECT_EQ(d.type(), FieldDescriptorProto::TYPE_STRING);
  google::protobuf::FileDescriptorProto f;
  EXPECT_TRUE(SetField(f, "options", "x"));  // a message has no text form here
  EXPECT_TRUE(SetField(f, "package.x", "y"));
  EXPECT_TRUE(SetField(f, "name", std::string("\xff\xfe", 2)));
}

TEST(GatewayBindingTest, ResponsesArePrintedWithEveryField) {
  google::protobuf::Api api;  // proto3
  api.set_name("shop");
  api.set_syntax(google::protobuf::SYNTAX_PROTO3);
  std::string out;
  ASSERT_TRUE(ResponseJson(Spec(""), api, out));
  const nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_EQ(j["name"], "shop");
  EXPECT_EQ(j["syntax"], "SYNTAX_PROTO3");
  EXPECT_EQ(j["version"], "");  // a default value, printed
}

TEST(GatewayBindingTest, ResponseBodyPrintsOneField) {
  FileDescriptorProto f;
  f.mutable_options()->set_java_package("j");
  RouteSpec spec = Spec("");
  spec.response_body = "options";
  std::string out;
  ASSERT_TRUE(ResponseJson(spec, f, out));
  EXPECT_EQ(nlohmann::json::parse(out)["javaPackage"], "j");
}

}  // namespace
}  // namespace cppsvc::gateway
