// An rpc's HTTP mapping: the verb, the path template (google.api.http
// grammar) whose variables are request fields, unique routes, and bodies.

#include "model/checker.h"
#include "model/http_path.h"

namespace cppsvc::model::checks {

void Checker::CheckHttp(const Service& s,
                        const Method& m,
                        const Message& req,
                        const Message& resp,
                        const Span& span,
                        const std::string& what) {
  const HttpRoute& h = *m.http;
  if (h.verb.empty()) {
    Error(At(span, {{"http"}}),
          what + ": http mapping has no method: set one of get, put, post, delete, patch");
    return;
  }
  std::string verb = h.verb;
  for (char& c : verb) c = static_cast<char>(c - 'A' + 'a');
  CheckHttpPath(s, m, req, At(span, {{"http"}, {verb}}), what);
  CheckHttpBodies(h, req, resp, span, what);
}

void Checker::CheckHttpPath(const Service& s,
                            const Method& m,
                            const Message& req,
                            const Span& span,
                            const std::string& what) {
  const HttpRoute& h = *m.http;
  PathTemplate tmpl;
  std::string error;
  if (!ParsePathTemplate(h.path, tmpl, error)) {
    Error(span, what + ": " + error);
    return;
  }
  for (const std::string& var : tmpl.variables) {
    std::string why;
    const Field* f = FieldPath(req, var, why);
    if (f == nullptr) {
      Error(span, what + ": path variable {" + var + "} is not a request field: " + why);
    } else if (f->repeated || f->kind == FieldKind::kMessage) {
      Error(span, what + ": path variable {" + var + "} must be a singular scalar field");
    }
  }
  std::string key = h.verb + " " + tmpl.key;
  auto [it, inserted] = routes_.emplace(key, s.name + "." + m.name);
  if (!inserted) {
    Error(span,
          what + ": route " + h.verb + " " + h.path + " is already served by rpc " +
              Quote(it->second));
  }
}

void Checker::CheckHttpBodies(const HttpRoute& h,
                              const Message& req,
                              const Message& resp,
                              const Span& span,
                              const std::string& what) {
  const Span body_span = At(span, {{"http"}, {"body"}});
  if (!h.body.empty()) {
    if (h.verb == "GET" || h.verb == "DELETE") {
      Error(body_span,
            what + ": body means nothing on " + h.verb + " (" + h.verb + " requests have no body)");
    } else if (h.body != "*") {
      std::string why;
      if (FieldPath(req, h.body, why) == nullptr)
        Error(body_span, what + ": body " + Quote(h.body) + ": " + why);
    }
  }
  if (!h.response_body.empty()) {
    std::string why;
    if (FieldPath(resp, h.response_body, why) == nullptr) {
      Error(At(span, {{"http"}, {"response_body"}}),
            what + ": response_body " + Quote(h.response_body) + ": " + why);
    }
  }
}

}  // namespace cppsvc::model::checks
