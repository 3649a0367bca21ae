#include "emit/cpp_layout.h"
#include "emit/cpp_names.h"
#include "emit/emitters.h"
#include "emit/template.h"
#include "model/names.h"

namespace cppsvc::emit {
namespace {

std::string CodeList(const std::vector<std::string>& codes) {
  std::string out = "{";
  for (size_t i = 0; i < codes.size(); ++i)
    out += (i ? ", " : "") + std::string("::cppsvc::StatusCode::k") + codes[i];
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

void SetRetry(const model::RetryPolicy& retry, Data& v) {
  v.set("max_attempts", std::to_string(retry.max_attempts));
  v.set("initial_backoff", std::to_string(retry.initial_backoff_ms));
  v.set("max_backoff", std::to_string(retry.max_backoff_ms));
  char mult[32];
  std::snprintf(mult, sizeof mult, "%g", retry.backoff_multiplier);
  v.set(
      "multiplier",
      std::string(mult) + (std::string(mult).find_first_of(".e") == std::string::npos ? ".0" : ""));
  std::vector<std::string> codes;
  for (const std::string& c : retry.retryable_codes) codes.push_back(CodeConstant(c));
  v.set("has_codes", Data(!codes.empty()));
  v.set("codes", CodeList(codes));
}

Data MethodView(const model::Model& model,
                const model::File& file,
                const model::Service& s,
                const model::Method& m) {
  Data v;
  const std::string request = CppTypeIn(model, file, m.input);
  const std::string response = CppTypeIn(model, file, m.output);
  v.set("name", m.name);
  v.set("constant", "k" + m.name);
  v.set("full_name", s.full_name + "/" + m.name);
  v.set("subject", m.nats_subject);
  v.set("timeout", std::to_string(m.effective_timeout_ms));
  v.set("idempotent", Data(m.effective_idempotent));
  v.set("has_retry", Data(m.effective_retry.has_value()));
  if (m.effective_retry) SetRetry(*m.effective_retry, v);
  std::vector<std::string> params = {"const " + request + "& request",
                                     response + "* response",
                                     "const ::cppsvc::CallOptions& options = {}"};
  v.set("declaration", LayoutDeclaration(2, "::cppsvc::Status " + m.name, params, ";"));
  params.back() = "const ::cppsvc::CallOptions& options";
  v.set("definition",
        LayoutDeclaration(0, "::cppsvc::Status " + s.client_class + "::" + m.name, params, " {"));
  v.set("call_grpc",
        LayoutDeclaration(2,
                          "return ::cppsvc::impl::CallGrpc",
                          {"*runtime_",
                           "k" + m.name,
                           "options",
                           "stubs_",
                           "&" + s.name + "::Stub::" + m.name,
                           "request",
                           "response"},
                          ";"));
  v.set("call_nats",
        LayoutDeclaration(4,
                          "return ::cppsvc::impl::CallNats",
                          {"*runtime_", "k" + m.name, "options", "request", "response"},
                          ";"));
  v.set("comment",
        LayoutComment(2,
                      m.name + ": " +
                          (m.effective_idempotent ? "idempotent, retried on transient failures"
                                                  : "not idempotent, never retried") +
                          "; timeout " + std::to_string(m.effective_timeout_ms) + " ms."));
  return v;
}

}  // namespace

void EmitClient(const EmitInput& in, Rendered& out) {
  const model::Model& model = in.model;
  const model::File& file = in.file;
  Data services = List();
  for (const model::Service& s : file.services) {
    Data sv;
    sv.set("name", s.name);
    sv.set("client_class", s.client_class);
    sv.set("short_name", s.short_name);
    sv.set("comment",
           LayoutComment(0,
                         "Typed client of " + s.full_name +
                             ": round-robin over replicas with a "
                             "circuit breaker each, per-method "
                             "deadlines, retries with backoff for "
                             "idempotent RPCs, trace and token "
                             "propagation; over gRPC or NATS."));
    sv.set("constructor",
           LayoutDeclaration(2,
                             "explicit " + s.client_class,
                             {"::cppsvc::ClientOptions options"},
                             ";"));
    sv.set("constructor_definition",
           LayoutDeclaration(0,
                             s.client_class + "::" + s.client_class,
                             {"::cppsvc::ClientOptions options"},
                             ""));
    Data methods = List();
    for (const model::Method& m : s.methods) {
      if (!m.client_streaming && !m.server_streaming)
        methods.push_back(MethodView(model, file, s, m));
    }
    sv.set("methods", methods);
    services.push_back(sv);
  }
  Data view = ServiceFileView(file);
  view.set("services", services);
  out.outputs.push_back(Render("client/client.h.mustache", view));
  out.outputs.push_back(Render("client/client.cc.mustache", view));
}

}  // namespace cppsvc::emit
