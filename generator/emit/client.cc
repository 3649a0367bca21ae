#include "emit/cpp_layout.h"
#include "emit/emitters.h"
#include "emit/template.h"
#include "model/names.h"

namespace cppsvc::emit {
namespace {

std::string CodeList(const std::vector<std::string>& codes) {
  std::string out = "{";
  for (size_t i = 0; i < codes.size(); ++i) out += (i ? ", " : "") + std::string("::cppsvc::StatusCode::k") + codes[i];
  return out + "}";
}

// UNAVAILABLE -> Unavailable, for ::cppsvc::StatusCode::kUnavailable.
std::string CodeConstant(const std::string& code) {
  std::string out;
  bool upper = true;
  for (char c : code) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    upper = false;
  }
  return out;
}

Data MethodView(const model::Model& model, const model::File& file, const model::Service& s, const model::Method& m) {
  Data v;
  const std::string request = CppTypeIn(model, file, m.input);
  const std::string response = CppTypeIn(model, file, m.output);
  v.set("name", m.name);
  v.set("constant", "k" + m.name);
  v.set("full_name", s.full_name + "/" + m.name);
  v.set("subject", "cppsvc." + s.short_name + "." + m.name);
  uint32_t timeout = m.timeout_ms ? m.timeout_ms : (s.default_timeout_ms ? s.default_timeout_ms : 5000);
  v.set("timeout", std::to_string(timeout));
  v.set("idempotent", Data(m.idempotent || !m.idempotency_key.empty()));
  const model::RetryPolicy* retry = m.retry ? &*m.retry : s.default_retry ? &*s.default_retry : nullptr;
  v.set("has_retry", Data(retry != nullptr));
  if (retry != nullptr) {
    v.set("max_attempts", std::to_string(retry->max_attempts ? retry->max_attempts : 3));
    v.set("initial_backoff", std::to_string(retry->initial_backoff_ms ? retry->initial_backoff_ms : 50));
    v.set("max_backoff", std::to_string(retry->max_backoff_ms ? retry->max_backoff_ms : 2000));
    char mult[32];
    std::snprintf(mult, sizeof mult, "%g", retry->backoff_multiplier > 0 ? retry->backoff_multiplier : 2.0);
    v.set("multiplier", std::string(mult) + (std::string(mult).find_first_of(".e") == std::string::npos ? ".0" : ""));
    std::vector<std::string> codes;
    for (const std::string& c : retry->retryable_codes) codes.push_back(CodeConstant(c));
    v.set("has_codes", Data(!codes.empty()));
    v.set("codes", CodeList(codes));
  }
  std::vector<std::string> params = {"const " + request + "& request", response + "* response",
                                     "const ::cppsvc::CallOptions& options = {}"};
  v.set("declaration", LayoutDeclaration(2, "::cppsvc::Status " + m.name, params, ";"));
  params.back() = "const ::cppsvc::CallOptions& options";
  v.set("definition", LayoutDeclaration(0, "::cppsvc::Status " + s.name + "Client::" + m.name, params, " {"));
  v.set("call_grpc", LayoutDeclaration(2, "return ::cppsvc::impl::CallGrpc",
                                       {"*runtime_", "k" + m.name, "options", "stubs_",
                                        "&" + s.name + "::Stub::" + m.name, "request", "response"},
                                       ";"));
  v.set("call_nats", LayoutDeclaration(4, "return ::cppsvc::impl::CallNats",
                                       {"*runtime_", "k" + m.name, "options", "request", "response"}, ";"));
  v.set("comment", LayoutComment(2, m.name + ": " + (m.idempotent || !m.idempotency_key.empty()
                                                          ? "idempotent, retried on transient failures"
                                                          : "not idempotent, never retried") +
                                        "; timeout " + std::to_string(timeout) + " ms."));
  return v;
}

}  // namespace

void EmitClient(const model::Model& model, const model::File& file, std::vector<OutputFile>& out) {
  Data services = List();
  for (const model::Service& s : file.services) {
    Data sv;
    sv.set("name", s.name);
    sv.set("client_class", s.name + "Client");
    sv.set("short_name", s.short_name);
    sv.set("comment", LayoutComment(0, "Typed client of " + s.full_name + ": round-robin over replicas with a "
                                                                          "circuit breaker each, per-method "
                                                                          "deadlines, retries with backoff for "
                                                                          "idempotent RPCs, trace and token "
                                                                          "propagation; over gRPC or NATS."));
    sv.set("constructor", LayoutDeclaration(2, "explicit " + s.name + "Client", {"::cppsvc::ClientOptions options"},
                                            ";"));
    sv.set("constructor_definition",
           LayoutDeclaration(0, s.name + "Client::" + s.name + "Client", {"::cppsvc::ClientOptions options"}, ""));
    Data methods = List();
    for (const model::Method& m : s.methods) {
      if (!m.client_streaming && !m.server_streaming) methods.push_back(MethodView(model, file, s, m));
    }
    sv.set("methods", methods);
    services.push_back(sv);
  }
  Data view = ServiceFileView(file);
  view.set("services", services);
  out.push_back({file.base + ".cppsvc.client.h", Render("client/client.h.mustache", view)});
  out.push_back({file.base + ".cppsvc.client.cc", Render("client/client.cc.mustache", view)});
}

}  // namespace cppsvc::emit
