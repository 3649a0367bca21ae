#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "proto_fixture.h"

namespace cppsvc {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Preamble;
using testing::ProtoFixture;

std::vector<std::string> CheckOne(const std::string& body) {
  ProtoFixture fx(std::map<std::string, std::string>{{"t/v1/t.proto", Preamble("t.v1") + body}});
  EXPECT_EQ(fx.parse_errors(), "");
  return fx.Check();
}

TEST(Check, CleanContractHasNoDiagnostics) {
  EXPECT_THAT(CheckOne(R"(
service T { rpc Get(GetRequest) returns (GetResponse) { option (cppsvc.v1.method) = { roles: ["customer"] }; } }
message GetRequest {}
message GetResponse {}
)"),
              ElementsAre());
}

TEST(Check, DefaultDenyPointsAtTheRpc) {
  EXPECT_THAT(
      CheckOne("service T {\n  rpc Get(GetRequest) returns (GetResponse);\n}\n"
               "message GetRequest {}\nmessage GetResponse {}\n"),
      ElementsAre(
          "t/v1/t.proto:7:3: error: rpc 'T.Get' has no access rule: add roles, public: true, or "
          "default_roles on the service (access is denied by default)"));
}

TEST(Check, ServiceDefaultRolesGrantAccess) {
  EXPECT_THAT(CheckOne(R"(
service T { option (cppsvc.v1.service) = { default_roles: ["customer"] }; rpc Get(GetRequest) returns (GetResponse); }
message GetRequest {}
message GetResponse {}
)"),
              ElementsAre());
}

TEST(Check, ReportsEveryProblemNotJustTheFirst) {
  auto diags = CheckOne(R"(
service T {
  option (cppsvc.v1.service) = { database: "t" };
  rpc A(GetRequest) returns (GetResponse) { option (cppsvc.v1.method) = { roles: ["custmer"] }; }
  rpc B(GetRequest) returns (GetResponse) { option (cppsvc.v1.method) = { public: true owner_field: "x" }; }
  rpc C(GetRequest) returns (GetResponse) { option (cppsvc.v1.method) = { roles: ["admin"] emits: ["Nope"] }; }
}
message GetRequest { string id = 1 [(cppsvc.v1.field) = { validate: { min_len: 5 max_len: 2 } }]; }
message GetResponse {}
)");
  ASSERT_EQ(diags.size(), 4u);
  EXPECT_THAT(diags[0], HasSubstr("role 'custmer' is not declared (did you mean 'customer'?)"));
  EXPECT_THAT(diags[1], HasSubstr("owner_field means nothing on a public rpc"));
  EXPECT_THAT(diags[2], HasSubstr("event 't.v1.Nope' is not declared"));
  EXPECT_THAT(diags[3], HasSubstr("min_len 5 is greater than max_len 2"));
}

// The generated client retries an rpc with an idempotency key (a repeat is
// answered from the stored response), so retry settings are accepted there.
TEST(Check, RetryIsAcceptedWithAnIdempotencyKey) {
  EXPECT_THAT(CheckOne(R"(
service T {
  option (cppsvc.v1.service) = { database: "t" };
  rpc Create(CreateRequest) returns (CreateResponse) {
    option (cppsvc.v1.method) = { roles: ["customer"] idempotency_key: "request_id" retry: { max_attempts: 3 } };
  }
}
message CreateRequest { string request_id = 1; }
message CreateResponse {}
)"),
              ElementsAre());
}

TEST(Check, HttpVariablesMustBeRequestFields) {
  auto diags = CheckOne(R"(
service T {
  rpc Get(GetRequest) returns (GetResponse) {
    option (cppsvc.v1.method) = { roles: ["customer"] http: { get: "/v1/things/{thing_idd}" } };
  }
}
message GetRequest { string thing_id = 1; }
message GetResponse {}
)");
  EXPECT_THAT(
      diags,
      ElementsAre(HasSubstr("path variable {thing_idd} is not a request field: 'thing_idd' is not "
                            "a field of 'GetRequest' (did you mean 'thing_id'?)")));
}

TEST(Check, SagaNeedsCompensationForEarlierSteps) {
  auto diags = CheckOne(R"(
option (cppsvc.v1.saga) = {
  name: "flow" owner: "t" trigger: "Started"
  steps: [{ name: "one" participant: "t" success_event: "OneDone" },
          { name: "two" participant: "t" success_event: "TwoDone" failure_event: "TwoFailed" }]
};
service T {
  option (cppsvc.v1.service) = { database: "t"
                                 publishes: ["Started", "OneDone", "TwoDone", "TwoFailed"] };
}
message Started { option (cppsvc.v1.event) = { subject: "t.started" key: "id" }; string id = 1; }
message OneDone { option (cppsvc.v1.event) = { subject: "t.one" key: "id" }; string id = 1; }
message TwoDone { option (cppsvc.v1.event) = { subject: "t.two" key: "id" }; string id = 1; }
message TwoFailed { option (cppsvc.v1.event) = { subject: "t.two.failed" key: "id" }; string id = 1; }
)");
  EXPECT_THAT(
      diags,
      ElementsAre(HasSubstr("saga 'flow' step 'one' has no compensation, but step 'two' can fail "
                            "after it and must undo it")));
}

// A step on an unrelated event is reported once, as out of order (not
// again as unreachable); a success event that is the trigger is a cycle.
TEST(Check, SagaStepOutOfOrderReportedOnceAndCycle) {
  auto diags = CheckOne(R"(
option (cppsvc.v1.saga) = {
  name: "flow" owner: "t" trigger: "Started"
  steps: [{ name: "one" participant: "t" success_event: "OneDone" },
          { name: "two" participant: "t" on: "Orphan" success_event: "Started" }]
};
service T {
  option (cppsvc.v1.service) = { database: "t" publishes: ["Started", "OneDone", "Orphan"] };
}
message Started { option (cppsvc.v1.event) = { subject: "t.started" key: "id" }; string id = 1; }
message OneDone { option (cppsvc.v1.event) = { subject: "t.one" key: "id" }; string id = 1; }
message Orphan { option (cppsvc.v1.event) = { subject: "t.orphan" key: "id" }; string id = 1; }
)");
  EXPECT_THAT(
      diags,
      ElementsAre(HasSubstr("step 'two' runs on 't.v1.Orphan', but saga steps run in order"),
                  HasSubstr("step 'two': success event 't.v1.Started' is the saga's trigger")));
}

TEST(Check, ImportedFilesAreConsultedButNotReported) {
  // b.proto imports a broken a.proto; only b.proto is generated.
  std::string a = Preamble("a.v1") + "service A { rpc Get(R) returns (R); }\nmessage R {}\n";
  std::string b =
      "syntax = \"proto3\";\npackage b.v1;\nimport \"a/v1/a.proto\";\nimport "
      "\"cppsvc/v1/options.proto\";\n"
      "service B { rpc Get(a.v1.R) returns (a.v1.R) { option (cppsvc.v1.method) = { roles: "
      "[\"admin\"] }; } }\n";
  std::map<std::string, std::string> files = {{"a/v1/a.proto", a}, {"b/v1/b.proto", b}};
  ProtoFixture only_b(files, {"b/v1/b.proto"});
  EXPECT_THAT(only_b.Check(), ElementsAre());
  ProtoFixture both(files);
  EXPECT_THAT(both.Check(), ElementsAre(HasSubstr("rpc 'A.Get' has no access rule")));
}

TEST(Check, SubscriptionWithoutPublisherIsAWarning) {
  auto diags = CheckOne(R"(
service T { option (cppsvc.v1.service) = { subscribe: [{ event: "Lonely" }] }; }
message Lonely { option (cppsvc.v1.event) = { subject: "t.lonely" }; }
)");
  EXPECT_THAT(diags,
              ElementsAre(HasSubstr("warning: service 'T' subscription: no service publishes event "
                                    "'t.v1.Lonely'")));
}

TEST(Check, CppKeywordsThatProtocCannotEscape) {
  ProtoFixture fx(std::map<std::string, std::string>{
      {"k.proto",
       "syntax = \"proto3\";\npackage my.class.v1;\nmessage struct { string new = 1; }\n"}});
  EXPECT_THAT(fx.Check(),
              ElementsAre("k.proto:2:1: error: package 'my.class.v1': 'class' is a C++ keyword, "
                          "which protoc's C++ output cannot use as a namespace"));
}

TEST(Check, RoleCycleIsReportedOnceWithItsPath) {
  ProtoFixture fx(std::map<std::string, std::string>{
      {"r.proto",
       "syntax = \"proto3\";\npackage r;\nimport \"cppsvc/v1/options.proto\";\n"
       "option (cppsvc.v1.role) = { name: \"a\" includes: [\"b\"] };\n"
       "option (cppsvc.v1.role) = { name: \"b\" includes: [\"c\", \"ghost\"] };\n"
       "option (cppsvc.v1.role) = { name: \"c\" includes: [\"a\", \"d\"] };\n"
       "option (cppsvc.v1.role) = { name: \"d\" includes: [\"e\"] };\n"
       "option (cppsvc.v1.role) = { name: \"e\" includes: [\"d\"] };\n"}});
  ASSERT_EQ(fx.parse_errors(), "");
  EXPECT_THAT(fx.Check(),
              ElementsAre("r.proto:4:1: error: role 'a' includes itself through a cycle of "
                          "includes: a -> b -> c -> a",
                          "r.proto:5:1: error: role 'b' includes: role 'ghost' is not declared",
                          "r.proto:7:1: error: role 'd' includes itself through a cycle of "
                          "includes: d -> e -> d"));
}

TEST(Check, LongRoleChainIsNotACycle) {
  std::string src = "syntax = \"proto3\";\npackage r;\nimport \"cppsvc/v1/options.proto\";\n";
  for (int i = 0; i < 3000; ++i) {
    src += "option (cppsvc.v1.role) = { name: \"r" + std::to_string(i) + "\" includes: [\"r" +
           std::to_string(i + 1) + "\"] };\n";
  }
  src += "option (cppsvc.v1.role) = { name: \"r3000\" includes: [\"r0\"] };\n";
  ProtoFixture fx(std::map<std::string, std::string>{{"r.proto", src}});
  ASSERT_EQ(fx.parse_errors(), "");
  std::vector<std::string> diags = fx.Check();
  ASSERT_EQ(diags.size(), 1u);  // one cycle through 3,001 roles: one error
  EXPECT_THAT(diags[0],
              HasSubstr("role 'r0' includes itself through a cycle of includes: r0 -> r1 -> r2"));
  EXPECT_THAT(diags[0], HasSubstr("r2999 -> r3000 -> r0"));
}

}  // namespace
}  // namespace cppsvc
