#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "generator.h"

namespace cppsvc {
namespace {

using ::testing::ElementsAre;

TEST(Parameters, DefaultsEmitEverything) {
  Parameters p;
  std::vector<std::string> errors;
  EXPECT_TRUE(ParseParameters("", p, errors));
  EXPECT_TRUE(p.emit_handler_base);
  EXPECT_TRUE(p.emit_doc);
  EXPECT_FALSE(p.warnings_as_errors);
}

TEST(Parameters, KnownKeys) {
  Parameters p;
  std::vector<std::string> errors;
  EXPECT_TRUE(ParseParameters("emit=doc,werror=true", p, errors));
  EXPECT_FALSE(p.emit_handler_base);
  EXPECT_TRUE(p.emit_doc);
  EXPECT_TRUE(p.warnings_as_errors);
  EXPECT_TRUE(ParseParameters("emit=handler_base+doc", p, errors));
  EXPECT_TRUE(p.emit_handler_base && p.emit_doc);
}

TEST(Parameters, EveryProblemIsReportedByName) {
  Parameters p;
  std::vector<std::string> errors;
  EXPECT_FALSE(ParseParameters("emitt=doc,werror=maybe,emit=docs", p, errors));
  EXPECT_THAT(errors, ElementsAre("unknown option 'emitt' (did you mean 'emit'?); known options: emit, werror, "
                                  "schema_lock_dir",
                                  "option 'werror' expects true or false, got 'maybe'",
                                  "option 'emit': unknown artifact 'docs' (did you mean 'doc'?); expected "
                                  "artifacts joined by '+' from: handler_base, doc, validate, server, client, main, tests, "
                                  "repository, migrations"));
}

}  // namespace
}  // namespace cppsvc
