#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "emit/artifacts.h"
#include "generator.h"
#include "proto_fixture.h"

namespace cppsvc {
namespace {

using ::testing::ElementsAre;

TEST(Parameters, DefaultsEmitEverything) {
  Parameters p;
  std::vector<std::string> errors;
  EXPECT_TRUE(ParseParameters("", p, errors));
  EXPECT_TRUE(p.Emits("handler_base"));
  EXPECT_TRUE(p.Emits("doc"));
  EXPECT_FALSE(p.warnings_as_errors);
}

TEST(Parameters, KnownKeys) {
  Parameters p;
  std::vector<std::string> errors;
  EXPECT_TRUE(ParseParameters("emit=doc,werror=true", p, errors));
  EXPECT_FALSE(p.Emits("handler_base"));
  EXPECT_TRUE(p.Emits("doc"));
  EXPECT_TRUE(p.warnings_as_errors);
  EXPECT_TRUE(ParseParameters("emit=handler_base+doc", p, errors));
  EXPECT_TRUE(p.Emits("handler_base") && p.Emits("doc"));
}

TEST(Parameters, SchemaLocksAreCheckedUnlessUpdating) {
  Parameters p;
  std::vector<std::string> errors;
  EXPECT_TRUE(ParseParameters("", p, errors));
  EXPECT_EQ(p.schema_lock.mode, SchemaLockMode::kCheck);
  EXPECT_TRUE(p.schema_lock.dirs.empty());
  EXPECT_TRUE(ParseParameters(
      "schema_lock_dir=a,schema_lock=update,schema_lock_dir=b,schema_lock_store_command=make locks",
      p,
      errors));
  EXPECT_EQ(p.schema_lock.mode, SchemaLockMode::kUpdate);
  EXPECT_THAT(p.schema_lock.dirs, ElementsAre("a", "b"));
  EXPECT_EQ(p.schema_lock.store_command, "make locks");
  // The last mode given wins, so a build can override a project's choice.
  EXPECT_TRUE(ParseParameters("schema_lock=check", p, errors));
  EXPECT_EQ(p.schema_lock.mode, SchemaLockMode::kCheck);
  EXPECT_FALSE(ParseParameters("schema_lock=updat,schema_lock_dir=", p, errors));
  EXPECT_THAT(errors,
              ElementsAre("option 'schema_lock' expects check or update, got 'updat' (did "
                          "you mean 'update'?)",
                          "option 'schema_lock_dir' expects a directory"));
}

TEST(Parameters, EveryProblemIsReportedByName) {
  Parameters p;
  std::vector<std::string> errors;
  EXPECT_FALSE(ParseParameters("emitt=doc,werror=maybe,emit=docs", p, errors));
  EXPECT_THAT(
      errors,
      ElementsAre(
          "unknown option 'emitt' (did you mean 'emit'?); known options: emit, werror, "
          "schema_lock, schema_lock_dir, schema_lock_store_command, proto_path, deploy_dir",
          "option 'werror' expects true or false, got 'maybe'",
          "option 'emit': unknown artifact 'docs' (did you mean 'doc'?); expected "
          "artifacts joined by '+' from: handler_base, doc, validate, server, client, gateway, "
          "main, tests, repository, migrations, openapi, dockerfile, kubernetes, compose"));
}

TEST(Parameters, DeployDirIsARelativePathInsideTheProject) {
  for (const char* good : {"generated", "out/gen"}) {
    Parameters p;
    std::vector<std::string> errors;
    EXPECT_TRUE(ParseParameters(std::string("deploy_dir=") + good, p, errors)) << good;
    EXPECT_EQ(p.deploy_dir, good);
  }
  for (const char* bad : {"", "/abs", "gen/", "../up", "a/./b", "a//b"}) {
    Parameters p;
    std::vector<std::string> errors;
    EXPECT_FALSE(ParseParameters(std::string("deploy_dir=") + bad, p, errors)) << bad;
    EXPECT_EQ(p.deploy_dir, "") << bad;
  }
}

TEST(Parameters, EmitAcceptsEveryArtifactOfTheTableAndNothingElse) {
  std::vector<std::string> names = emit::ArtifactNames();
  ASSERT_FALSE(names.empty());
  for (const std::string& name : names) {
    Parameters p;
    std::vector<std::string> errors;
    EXPECT_TRUE(ParseParameters("emit=" + name, p, errors)) << name;
    EXPECT_EQ(p.artifacts, std::set<std::string>{name});
  }
  Parameters all;
  EXPECT_EQ(all.artifacts, std::set<std::string>(names.begin(), names.end()));
  std::vector<std::string> errors;
  EXPECT_FALSE(ParseParameters("emit=", all, errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], ::testing::EndsWith(names.back()));
}

TEST(Parameters, EachArtifactWritesTheFilesOfItsRow) {
  testing::ProtoFixture fx(std::map<std::string, std::string>{
      {"a/v1/a.proto",
       testing::Preamble("a.v1") +
           "service AService {\n"
           "  rpc Get(M) returns (M) { option (cppsvc.v1.method) = { public: true }; }\n"
           "}\n"
           "message M { string id = 1; }\n"}});
  ASSERT_EQ(fx.parse_errors(), "");
  for (const emit::Artifact& a : emit::Artifacts()) {
    // A row without suffixes (compose) names its one file itself.
    if (a.outputs.empty()) continue;
    Parameters p;
    p.artifacts = {std::string(a.name)};
    diag::Diagnostics diags;
    std::vector<emit::OutputFile> out;
    ASSERT_TRUE(Generate(fx.model(), p, diags, out)) << a.name;
    std::vector<std::string> names, expected;
    for (const emit::OutputFile& f : out) names.push_back(f.name);
    for (std::string_view suffix : a.outputs) expected.push_back("a/v1/a" + std::string(suffix));
    EXPECT_EQ(names, expected) << a.name;
  }
}

}  // namespace
}  // namespace cppsvc
