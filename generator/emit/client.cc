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
  Data v = RpcView(model, file, s, m);
  v.set("subject", m.nats_subject);
  v.set("has_retry", Data(m.effective_retry.has_value()));
  if (m.effective_retry) SetRetry(*m.effective_retry, v);
  v.set("service", s.name);
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
    sv.set("full_name", s.full_name);
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
