#include <gtest/gtest.h>

#include "model/option_text.h"

namespace cppsvc::model {
namespace {

std::string Where(const std::string& source, TextPosition start, std::vector<OptionKey> path) {
  std::optional<TextPosition> at = SourceText(source).Locate(start, path);
  return at ? std::to_string(at->line) + ":" + std::to_string(at->column) : "none";
}

const char* kMethod =
    "service S {\n"                                         // 1
    "  rpc Get(R) returns (R) {\n"                          // 2
    "    option (cppsvc.v1.method) = {\n"                   // 3
    "      roles: [\"a\", \"b\"]  // the callers\n"         // 4
    "      retry: {\n"                                      // 5
    "        retryable_codes: [\"UNAVAILABLE\", \"OK\"]\n"  // 6
    "        backoff_multiplier: -2\n"                      // 7
    "      }\n"                                             // 8
    "      http: { get: \"/v1/{id}\" body: \"*\" }\n"       // 9
    "    };\n"                                              // 10
    "  }\n"
    "}\n";

TEST(OptionText, KeysAndElementsOfAMultiLineOption) {
  EXPECT_EQ(Where(kMethod, {3, 5}, {{"roles"}}), "4:7");
  EXPECT_EQ(Where(kMethod, {3, 5}, {{"roles"}, {"", 1}}), "4:20");
  EXPECT_EQ(Where(kMethod, {3, 5}, {{"retry"}, {"backoff_multiplier"}}), "7:9");
  EXPECT_EQ(Where(kMethod, {3, 5}, {{"retry"}, {"retryable_codes"}, {"", 1}}), "6:42");
  EXPECT_EQ(Where(kMethod, {3, 5}, {{"http"}, {"body"}}), "9:31");
  EXPECT_EQ(Where(kMethod, {3, 5}, {{"timeout_ms"}}), "none");
  EXPECT_EQ(Where(kMethod, {3, 5}, {{"roles"}, {"", 2}}), "none");
}

TEST(OptionText, RepeatedFieldsWrittenOnePerKey) {
  const char* source =
      "option (cppsvc.v1.service) = {\n"
      "  subscribe { event: \"A\" }\n"
      "  subscribe: [{ event: \"B\" }, { event: \"C\" queue_group: \"x y\" }]\n"
      "};\n";
  EXPECT_EQ(Where(source, {1, 1}, {{"subscribe"}, {"", 0}, {"event"}}), "2:15");
  EXPECT_EQ(Where(source, {1, 1}, {{"subscribe"}, {"", 2}, {"queue_group"}}), "3:44");
}

TEST(OptionText, FieldOptionsWithASubPath) {
  const char* source =
      "message M {\n"
      "  int32 n = 1 [(cppsvc.v1.field).validate = { gt: 5 lt: 5 }];\n"
      "  string s = 2 [json_name = \"x\", (cppsvc.v1.field) = { validate: { max_len: 0 } }];\n"
      "}\n";
  EXPECT_EQ(Where(source, {2, 16}, {{"validate"}, {"lt"}}), "2:53");
  EXPECT_EQ(Where(source, {3, 34}, {{"validate"}, {"max_len"}}), "3:68");
  EXPECT_EQ(Where(source, {2, 16}, {{"column"}, {"name"}}), "none");  // another sub-path
}

TEST(OptionText, TabsCountAsProtocCountsThem) {
  // protoc's columns advance a tab to the next multiple of 8.
  EXPECT_EQ(Where("\toption (x.y) = {\n\t\tname: \"a\"\n};\n", {1, 9}, {{"name"}}), "2:17");
}

TEST(OptionText, NotAnOptionStatement) {
  EXPECT_EQ(Where("rpc Get(R) returns (R);\n", {1, 1}, {{"roles"}}), "none");
  EXPECT_EQ(Where("", {3, 1}, {{"roles"}}), "none");
}

}  // namespace
}  // namespace cppsvc::model
