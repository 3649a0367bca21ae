// Gateway::Handle with routes whose calls are fakes: edge authentication,
// roles, rate limits, CORS, validation and the mapping of results to HTTP.
#include "cppsvc/gateway/gateway.h"

#include <google/protobuf/api.pb.h>
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace cppsvc::gateway {
namespace {

using google::protobuf::Api;
using google::protobuf::FileDescriptorProto;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";

auth::JwtConfig Jwt() {
  auth::JwtConfig c;
  c.algorithm = auth::Algorithm::kHS256;
  c.key = kSecret;
  c.issuer = "shop";
  c.audience = "api";
  return c;
}

std::string Token(std::string subject, std::vector<std::string> roles) {
  auth::TokenClaims claims;
  claims.subject = std::move(subject);
  claims.roles = std::move(roles);
  return auth::JwtSigner(Jwt()).Sign(claims);
}

struct Fixture {
  Status next = Status::Ok();
  std::shared_ptr<observability::Metrics> metrics =
      std::make_shared<observability::Metrics>("gateway");
  int calls = 0;
  std::string last_name;
  std::string last_token;
  std::string last_trace;
  std::string last_forwarded_for;
  std::unique_ptr<Gateway> gateway;

  explicit Fixture(GatewayOptions options = {}) {
    gateway = std::make_unique<Gateway>(
        std::move(options),
        std::make_shared<auth::JwtVerifier>(Jwt()),
        auth::RoleGraph(
            std::vector<auth::RoleSpec>{{"admin", {"customer"}, false}, {"customer", {}, false}}),
        metrics);
    Add("GET", "/v1/files/{name}", "", true, {}, {});
    Add("POST", "/v1/files", "*", false, {"customer"}, {});
    Add("DELETE", "/v1/files/{name}", "", false, {"admin"}, {});
    Add("GET", "/v1/limited", "", true, {}, {1, 2, "peer"});
  }

  void Add(std::string verb,
           std::string path,
           std::string body,
           bool is_public,
           std::vector<std::string> roles,
           RateLimitSpec limit) {
    pending.body = std::move(body);
    pending.verb = std::move(verb);
    pending.path = std::move(path);
    pending.service = "test.Files";
    pending.rpc = "Call" + std::to_string(added++);
    pending.is_public = is_public;
    pending.roles = std::move(roles);
    pending.rate_limit = std::move(limit);
    Flush();
  }

  void Flush() {
    Route route;
    route.spec = pending;
    route.request_prototype = &FileDescriptorProto::default_instance();
    route.response_prototype = &Api::default_instance();
    route.validate = [](const Message& m, impl::Violations& v) {
      const auto& f = static_cast<const FileDescriptorProto&>(m);
      static const impl::FieldRef package{nullptr, "package"};
      if (f.package() == "bad") v.Add(package, "must not be bad");
    };
    route.invoke = [this](const Message& request,
                          Message* response,
                          const CallOptions& options,
                          std::function<void(Status)> done) {
      ++calls;
      last_name = static_cast<const FileDescriptorProto&>(request).name();
      last_token = std::string(options.parent->bearer_token());
      last_trace = std::string(options.parent->trace_id());
      last_forwarded_for = options.forwarded_for;
      static_cast<Api*>(response)->set_name("answer:" + last_name);
      done(next);
    };
    specs.push_back(std::move(route));
  }

  void Build() {
    for (Route& r : specs) gateway->Add(std::move(r));
    specs.clear();
  }

  HttpResponse Send(std::string method,
                    std::string target,
                    std::string body = "",
                    Headers headers = {}) {
    if (!specs.empty()) Build();
    HttpRequest r{std::move(method),
                  std::move(target),
                  std::move(headers),
                  std::move(body),
                  "10.0.0.9"};
    return gateway->Handle(r);
  }

  RouteSpec pending;
  int added = 0;
  std::vector<Route> specs;
};

std::string HeaderOf(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

nlohmann::json Json(const HttpResponse& r) {
  return nlohmann::json::parse(r.body);
}

TEST(GatewayTest, PublicRouteAnswersWithTheResponseAsJson) {
  Fixture f;
  const HttpResponse r = f.Send("GET", "/v1/files/a.proto");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json(r)["name"], "answer:a.proto");
  EXPECT_EQ(f.last_name, "a.proto");
  EXPECT_EQ(HeaderOf(r, "x-request-id").size(), 32u);
}

TEST(GatewayTest, RequestIdIsPassedThroughAndInErrors) {
  Fixture f;
  const HttpResponse r = f.Send("GET", "/nowhere", "", {{"x-request-id", "abc-123"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(HeaderOf(r, "x-request-id"), "abc-123");
  EXPECT_EQ(Json(r)["request_id"], "abc-123");
  EXPECT_EQ(Json(r)["code"], "NOT_FOUND");
  const HttpResponse bad = f.Send("GET", "/nowhere", "", {{"x-request-id", "has space"}});
  EXPECT_NE(HeaderOf(bad, "x-request-id"), "has space");
}

TEST(GatewayTest, WrongMethodIs405WithAllow) {
  Fixture f;
  const HttpResponse r = f.Send("PUT", "/v1/files/a");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(HeaderOf(r, "allow"), "DELETE, GET");
}

TEST(GatewayTest, NoTokenIs401WithWwwAuthenticate) {
  Fixture f;
  const HttpResponse r = f.Send("POST", "/v1/files", "{}");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(HeaderOf(r, "www-authenticate").find("Bearer"), std::string::npos);
  EXPECT_EQ(Json(r)["code"], "UNAUTHENTICATED");
  EXPECT_EQ(f.calls, 0);
}

TEST(GatewayTest, BadTokenIs401EvenOnPublicRoutes) {
  Fixture f;
  const HttpResponse r = f.Send("GET", "/v1/files/a", "", {{"authorization", "Bearer not.a.jwt"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(HeaderOf(r, "www-authenticate").find("invalid_token"), std::string::npos);
  EXPECT_EQ(f.Send("GET", "/v1/files/a", "", {{"authorization", "Basic eDp5"}}).status, 401);
}

TEST(GatewayTest, WrongRoleIs403AndTheTokenIsForwarded) {
  Fixture f;
  const std::string customer = Token("u1", {"customer"});
  HttpResponse r = f.Send("DELETE", "/v1/files/a", "", {{"authorization", "Bearer " + customer}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(f.calls, 0);
  const std::string admin = Token("u2", {"admin"});
  r = f.Send("POST", "/v1/files", R"({"name": "n"})", {{"authorization", "Bearer " + admin}});
  EXPECT_EQ(r.status, 200) << r.body;  // admin includes customer
  EXPECT_EQ(f.last_token, admin);
}

TEST(GatewayTest, BadBodiesAre400NamingTheField) {
  Fixture f;
  const Headers auth = {{"authorization", "Bearer " + Token("u1", {"customer"})}};
  HttpResponse r = f.Send("POST", "/v1/files", R"({"name": )", auth);
  EXPECT_EQ(r.status, 400);
  r = f.Send("POST", "/v1/files", R"({"unknownField": 1})", auth);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["details"][0]["field"], "unknownField");
  r = f.Send("POST", "/v1/files", R"({"package": "bad"})", auth);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["details"][0]["field"], "package");
  EXPECT_EQ(Json(r)["details"][0]["description"], "must not be bad");
  Headers text = auth;
  text.emplace_back("content-type", "text/plain");
  EXPECT_EQ(f.Send("POST", "/v1/files", "{}", text).status, 415);
  EXPECT_EQ(f.Send("GET", "/v1/files/a", "{}").status, 400);
  EXPECT_EQ(f.calls, 0);
}

TEST(GatewayTest, UnknownFieldsPassWhenConfigured) {
  GatewayOptions options;
  options.ignore_unknown_fields = true;
  Fixture f(options);
  EXPECT_EQ(f.Send("GET", "/v1/files/a?whatever=1").status, 200);
}

TEST(GatewayTest, BackendCodesMapToStatuses) {
  Fixture f;
  const std::vector<std::pair<StatusCode, int>> cases = {{StatusCode::kNotFound, 404},
                                                         {StatusCode::kInvalidArgument, 400},
                                                         {StatusCode::kAlreadyExists, 409},
                                                         {StatusCode::kPermissionDenied, 403},
                                                         {StatusCode::kUnauthenticated, 401},
                                                         {StatusCode::kResourceExhausted, 429},
                                                         {StatusCode::kFailedPrecondition, 400},
                                                         {StatusCode::kAborted, 409},
                                                         {StatusCode::kUnavailable, 503},
                                                         {StatusCode::kDeadlineExceeded, 504},
                                                         {StatusCode::kInternal, 500},
                                                         {StatusCode::kDataLoss, 500}};
  for (const auto& [code, http] : cases) {
    f.next = Status(code, "secret detail");
    const HttpResponse r = f.Send("GET", "/v1/files/a");
    EXPECT_EQ(r.status, http) << StatusCodeName(code);
    EXPECT_EQ(Json(r)["code"], std::string(StatusCodeName(code)));
    if (http == 500)
      EXPECT_EQ(Json(r)["message"], "internal error");
    else
      EXPECT_EQ(Json(r)["message"], "secret detail");
  }
}

TEST(GatewayTest, RouteLimitAnswers429WithRetryAfter) {
  Fixture f;
  EXPECT_EQ(f.Send("GET", "/v1/limited").status, 200);
  EXPECT_EQ(f.Send("GET", "/v1/limited").status, 200);
  const HttpResponse r = f.Send("GET", "/v1/limited");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(HeaderOf(r, "retry-after"), "1");
  EXPECT_EQ(f.calls, 2);
}

TEST(GatewayTest, ClientLimitKeysOnTheSubject) {
  GatewayOptions options;
  options.client_rate_per_second = 0.5;
  options.client_burst = 1;
  Fixture f(options);
  EXPECT_EQ(f.Send("GET", "/v1/files/a").status, 200);
  const HttpResponse r = f.Send("GET", "/v1/files/a");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(HeaderOf(r, "retry-after"), "2");
  const Headers auth = {{"authorization", "Bearer " + Token("u1", {"customer"})}};
  EXPECT_EQ(f.Send("GET", "/v1/files/a", "", auth).status, 200);  // another client
}

TEST(GatewayTest, CorsPreflightIsAnsweredWithoutABackend) {
  GatewayOptions options;
  options.cors_origins = {"https://shop.example"};
  Fixture f(options);
  const Headers ok = {{"origin", "https://shop.example"},
                      {"access-control-request-method", "DELETE"}};
  HttpResponse r = f.Send("OPTIONS", "/v1/files/a", "", ok);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(HeaderOf(r, "access-control-allow-origin"), "https://shop.example");
  EXPECT_EQ(HeaderOf(r, "access-control-allow-methods"), "DELETE, GET");
  EXPECT_NE(HeaderOf(r, "access-control-allow-headers").find("authorization"), std::string::npos);
  r = f.Send("OPTIONS",
             "/v1/files/a",
             "",
             {{"origin", "https://evil.example"}, {"access-control-request-method", "GET"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(HeaderOf(r, "access-control-allow-origin"), "");
  r = f.Send("GET", "/v1/files/a", "", {{"origin", "https://shop.example"}});
  EXPECT_EQ(HeaderOf(r, "access-control-allow-origin"), "https://shop.example");
  EXPECT_EQ(f.calls, 1);
}

TEST(GatewayTest, ServesTheOpenApiDocumentAndListsRoutes) {
  GatewayOptions options;
  options.openapi = R"({"openapi": "3.0.3"})";
  Fixture f(options);
  const HttpResponse r = f.Send("GET", "/openapi.json");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, options.openapi);
  EXPECT_EQ(f.gateway->RouteNames(),
            (std::vector<std::string>{"GET /v1/files/{name}",
                                      "POST /v1/files",
                                      "DELETE /v1/files/{name}",
                                      "GET /v1/limited"}));
}

TEST(GatewayTest, ContinuesTheTraceAndNamesTheClientToTheBackend) {
  Fixture f;
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  EXPECT_EQ(
      f.Send("GET", "/v1/files/a", "", {{"traceparent", "00-" + trace + "-00f067aa0ba902b7-01"}})
          .status,
      200);
  EXPECT_EQ(f.last_trace, trace);
  EXPECT_EQ(f.last_forwarded_for, "10.0.0.9");
  EXPECT_EQ(f.Send("GET", "/v1/files/a").status, 200);
  EXPECT_EQ(f.last_trace.size(), 32u);  // a new trace
  EXPECT_NE(f.last_trace, trace);
}

TEST(GatewayTest, CountsRequestsPerRouteByCode) {
  Fixture f;
  EXPECT_EQ(f.Send("GET", "/v1/files/a").status, 200);
  f.next = Status::NotFound("gone");
  EXPECT_EQ(f.Send("GET", "/v1/files/b").status, 404);
  EXPECT_EQ(f.Send("GET", "/v1/nowhere").status, 404);
  const std::string text = f.metrics->Serialize();
  for (const char* series :
       {R"({service="gateway",code="OK",method="GET /v1/files/{name}",transport="http"} 1)",
        R"({service="gateway",code="NOT_FOUND",method="GET /v1/files/{name}",transport="http"} 1)",
        R"({service="gateway",code="NOT_FOUND",method="unmatched",transport="http"} 1)"})
    EXPECT_NE(text.find(series), std::string::npos) << series << "\n" << text;
}

}  // namespace
}  // namespace cppsvc::gateway
