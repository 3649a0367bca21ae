#include "cppsvc/gateway/gateway.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <future>

#include <nlohmann/json.hpp>

#include "cppsvc/gateway/binding.h"
#include "cppsvc/impl/client_address.h"
#include "cppsvc/observability/trace.h"

namespace cppsvc::gateway {
namespace {

constexpr size_t kMaxRequestIdLength = 128;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return std::tolower(c);
  });
  return out;
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const std::string& item : items) out.append(out.empty() ? "" : separator).append(item);
  return out;
}

// A client's X-Request-Id when it is a sane token, else a fresh random id.
std::string RequestIdOf(const HttpRequest& request) {
  const auto given = request.Header("x-request-id");
  const bool sane = given && !given->empty() && given->size() <= kMaxRequestIdLength &&
                    std::all_of(given->begin(), given->end(), [](unsigned char c) {
                      return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
                    });
  return sane ? std::string(*given) : observability::NewTrace().trace_id;
}

HttpResponse Error(int status,
                   StatusCode code,
                   std::string_view message,
                   const std::string& request_id,
                   const std::vector<std::pair<std::string, std::string>>& details = {}) {
  return HttpResponse{status, {}, ErrorBody(code, message, details, request_id), code};
}

HttpResponse TooManyRequests(double per_second, const std::string& request_id) {
  HttpResponse r = Error(429, StatusCode::kResourceExhausted, "rate limit exceeded", request_id);
  const double seconds = per_second > 0 ? std::ceil(1.0 / per_second) : 1.0;
  r.headers.emplace_back("retry-after", std::to_string(std::max(1L, std::lround(seconds))));
  return r;
}

std::string QuoteForHeader(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
  return out;
}

// The peer in gRPC's peer form, for ClientAddress.
std::string GrpcPeer(const std::string& address) {
  return address.find(':') != std::string::npos ? "ipv6:[" + address + "]:0"
                                                : "ipv4:" + address + ":0";
}

}  // namespace

std::optional<std::string_view> HttpRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (key == name) return std::string_view(value);
  return std::nullopt;
}

int HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kOutOfRange:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

std::string ErrorBody(StatusCode code,
                      std::string_view message,
                      const std::vector<std::pair<std::string, std::string>>& details,
                      std::string_view request_id) {
  nlohmann::json body = {{"code", std::string(StatusCodeName(code))},
                         {"message", std::string(message)},
                         {"details", nlohmann::json::array()},
                         {"request_id", std::string(request_id)}};
  for (const auto& [field, description] : details)
    body["details"].push_back({{"field", field}, {"description", description}});
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// One request on its way, kept until its answer is sent.
struct Gateway::Flow {
  Flow(HttpRequest r, std::function<void(HttpResponse)> d)
      : request(std::move(r)), done(std::move(d)) {}

  HttpRequest request;
  std::function<void(HttpResponse)> done;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  observability::MethodMetrics* metrics = nullptr;
  std::string request_id;
  std::string_view path;  // of request.target
  std::string_view query;
  Router::Match match;
  std::shared_ptr<const Credentials> credentials;
  std::string address;  // the client's
  // The backend call's, once it is made.
  std::unique_ptr<Message> rpc_request;
  std::unique_ptr<Message> rpc_response;
  std::optional<CallContext> context;
  CallOptions call;
};

Gateway::Gateway(GatewayOptions options,
                 std::shared_ptr<const auth::JwtVerifier> verifier,
                 auth::RoleGraph roles,
                 std::shared_ptr<observability::Metrics> metrics)
    : options_(std::move(options)),
      verifier_(std::move(verifier)),
      roles_(std::move(roles)),
      metrics_(std::move(metrics)) {
  if (metrics_) {
    unmatched_metrics_ = std::make_unique<observability::MethodMetrics>(*metrics_, "unmatched");
    openapi_metrics_ =
        std::make_unique<observability::MethodMetrics>(*metrics_, "GET /openapi.json");
  }
  if (options_.client_rate_per_second > 0)
    client_limiter_ =
        std::make_unique<resilience::RateLimiter>(options_.client_rate_per_second,
                                                  std::max(options_.client_burst, 1.0));
}

Gateway::~Gateway() = default;

void Gateway::Add(Route route) {
  router_.Add(route.spec.verb, route.spec.path, routes_.size());
  const RateLimitSpec& limit = route.spec.rate_limit;
  route_limiters_.push_back(limit.per_second > 0 ? std::make_unique<resilience::RateLimiter>(
                                                       limit.per_second,
                                                       std::max<double>(limit.burst, 1))
                                                 : nullptr);
  full_methods_.push_back(route.spec.FullMethod());
  names_.push_back(route.spec.Name());
  if (metrics_)
    route_metrics_.push_back(
        std::make_unique<observability::MethodMetrics>(*metrics_, names_.back()));
  routes_.push_back(std::move(route));
}

void Gateway::AddBackend(std::string service, std::shared_ptr<impl::ClientRuntime> client) {
  backends_.push_back({std::move(service), std::move(client)});
}

std::vector<std::string> Gateway::RouteNames() const {
  return names_;
}

bool Gateway::BackendsReady(std::string& why) const {
  for (const Backend& backend : backends_) {
    bool ready =
        backend.client->replicas() == 0 || backend.client->options().transport != Transport::kGrpc;
    for (size_t i = 0; !ready && i < backend.client->replicas(); ++i) {
      const auto& channel = backend.client->channel(i);
      ready = channel != nullptr && channel->GetState(true) == GRPC_CHANNEL_READY;
    }
    if (!ready) {
      why = backend.service + ": no replica is connected";
      return false;
    }
  }
  return true;
}

void Gateway::Handle(HttpRequest request, std::function<void(HttpResponse)> done) const {
  auto flow = std::make_shared<Flow>(std::move(request), std::move(done));
  flow->request_id = RequestIdOf(flow->request);
  const std::string_view target = flow->request.target;
  flow->path = target.substr(0, target.find('?'));
  if (flow->path.size() < target.size()) flow->query = target.substr(flow->path.size() + 1);
  flow->metrics = unmatched_metrics_.get();
  const std::string& method = flow->request.method;
  if (method == "GET" && flow->path == "/openapi.json") {
    flow->metrics = openapi_metrics_.get();
    return Finish(*flow, {200, {}, options_.openapi});
  }
  flow->match = router_.Find(method == "OPTIONS" ? "" : method, flow->path);
  if (flow->match.kind == Router::Match::Kind::kFound && metrics_)
    flow->metrics = route_metrics_[flow->match.route].get();
  if (method == "OPTIONS") return Finish(*flow, Preflight(*flow));
  Serve(std::move(flow));
}

HttpResponse Gateway::Handle(const HttpRequest& request) const {
  std::promise<HttpResponse> answer;
  std::future<HttpResponse> answered = answer.get_future();
  Handle(request, [&answer](HttpResponse r) { answer.set_value(std::move(r)); });
  return answered.get();
}

void Gateway::Finish(Flow& flow, HttpResponse response) const {
  response.headers.emplace_back("x-request-id", flow.request_id);
  AddCors(flow.request, response);
  if (flow.metrics != nullptr) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - flow.start).count();
    flow.metrics->Record(static_cast<int>(response.code),
                         StatusCodeName(response.code),
                         "http",
                         seconds);
  }
  flow.done(std::move(response));
}

HttpResponse Gateway::Preflight(const Flow& flow) const {
  const HttpRequest& request = flow.request;
  const Router::Match& match = flow.match;
  const std::string& id = flow.request_id;
  if (match.kind == Router::Match::Kind::kNotFound)
    return Error(404, StatusCode::kNotFound, "no route for this path", id);
  const auto origin = request.Header("origin");
  const auto wanted = request.Header("access-control-request-method");
  HttpResponse r{204, {}, ""};
  if (!origin || !wanted) {
    r.headers.emplace_back("allow", Join(match.allowed, ", "));
    return r;
  }
  if (!OriginAllowed(*origin))
    return Error(403, StatusCode::kPermissionDenied, "origin not allowed", id);
  if (std::find(match.allowed.begin(), match.allowed.end(), *wanted) == match.allowed.end()) {
    r = Error(405, StatusCode::kUnimplemented, "method not allowed for this path", id);
    r.headers.emplace_back("allow", Join(match.allowed, ", "));
    return r;
  }
  r.headers.emplace_back("access-control-allow-methods", Join(match.allowed, ", "));
  r.headers.emplace_back("access-control-allow-headers", Join(options_.cors_headers, ", "));
  r.headers.emplace_back("access-control-max-age", std::to_string(options_.cors_max_age.count()));
  return r;
}

bool Gateway::OriginAllowed(std::string_view origin) const {
  return std::any_of(
      options_.cors_origins.begin(),
      options_.cors_origins.end(),
      [&](const std::string& allowed) { return allowed == "*" || allowed == origin; });
}

void Gateway::AddCors(const HttpRequest& request, HttpResponse& response) const {
  const auto origin = request.Header("origin");
  if (!origin || !OriginAllowed(*origin)) return;
  response.headers.emplace_back("access-control-allow-origin", std::string(*origin));
  response.headers.emplace_back("vary", "Origin");
  response.headers.emplace_back("access-control-expose-headers",
                                "X-Request-Id, Retry-After, WWW-Authenticate");
}

void Gateway::Serve(std::shared_ptr<Flow> flow) const {
  if (auto refused = Refuse(*flow)) return Finish(*flow, std::move(*refused));
  Call(std::move(flow));
}

std::optional<HttpResponse> Gateway::Refuse(Flow& flow) const {
  if (flow.match.kind == Router::Match::Kind::kNotFound)
    return Error(404,
                 StatusCode::kNotFound,
                 "no route for " + std::string(flow.path),
                 flow.request_id);
  if (flow.match.kind == Router::Match::Kind::kMethodNotAllowed) {
    HttpResponse r = Error(405,
                           StatusCode::kUnimplemented,
                           "method " + flow.request.method + " not allowed here",
                           flow.request_id);
    r.headers.emplace_back("allow", Join(flow.match.allowed, ", "));
    return r;
  }
  return Admit(flow);
}

std::optional<HttpResponse> Gateway::Admit(Flow& flow) const {
  const Route& route = routes_[flow.match.route];
  flow.address = impl::ClientAddress(GrpcPeer(flow.request.peer),
                                     flow.request.Header("x-forwarded-for"),
                                     options_.trusted_proxies);
  if (auto refused = Authenticate(flow, route)) return refused;
  const Caller& caller = flow.credentials ? flow.credentials->caller : Caller::Anonymous();
  if (!route.spec.is_public && !route.spec.roles.empty() &&
      !roles_.Allows(caller, route.spec.roles))
    return Error(403,
                 StatusCode::kPermissionDenied,
                 "requires one of the roles: " + Join(route.spec.roles, ", "),
                 flow.request_id);
  const std::string client = caller.anonymous() ? "ip:" + flow.address : "sub:" + caller.subject;
  const std::string& name = names_[flow.match.route];
  if (client_limiter_ && !client_limiter_->Allow(client)) {
    if (metrics_) metrics_->RateLimited(name);
    return TooManyRequests(options_.client_rate_per_second, flow.request_id);
  }
  const auto& limiter = route_limiters_[flow.match.route];
  const RateLimitSpec& limit = route.spec.rate_limit;
  const std::string key = limit.key == "global" ? ""
                          : limit.key == "peer" ? "ip:" + flow.address
                                                : client;
  if (limiter && !limiter->Allow(key)) {
    if (metrics_) metrics_->RateLimited(name);
    return TooManyRequests(limit.per_second, flow.request_id);
  }
  return std::nullopt;
}

std::optional<HttpResponse> Gateway::Authenticate(Flow& flow, const Route& route) const {
  const auto header = flow.request.Header("authorization");
  if (!header) {
    if (route.spec.is_public) return std::nullopt;
    HttpResponse r =
        Error(401, StatusCode::kUnauthenticated, "a bearer token is required", flow.request_id);
    r.headers.emplace_back("www-authenticate", "Bearer realm=\"api\"");
    return r;
  }
  std::string reason = "the Authorization header is not a bearer token";
  if (header->size() > 7 && Lower(header->substr(0, 7)) == "bearer ") {
    if (verifier_ == nullptr) {
      reason = "no tokens are accepted";
    } else {
      auth::Authenticated result = verifier_->Authenticate(header->substr(7));
      if (result.ok()) {
        flow.credentials = std::move(result.credentials);
        return std::nullopt;
      }
      reason = result.reason;
    }
  }
  HttpResponse r =
      Error(401, StatusCode::kUnauthenticated, "invalid token: " + reason, flow.request_id);
  r.headers.emplace_back(
      "www-authenticate",
      "Bearer error=\"invalid_token\", error_description=\"" + QuoteForHeader(reason) + "\"");
  return r;
}

std::optional<HttpResponse> Gateway::Bind(const Flow& flow,
                                          const Route& route,
                                          Message& request) const {
  const std::string& body = flow.request.body;
  if (!body.empty() && route.spec.body.empty())
    return Error(400, StatusCode::kInvalidArgument, "this route takes no body", flow.request_id);
  const auto type = flow.request.Header("content-type");
  if (!body.empty() && type && Lower(type->substr(0, type->find(';'))) != "application/json")
    return Error(415,
                 StatusCode::kInvalidArgument,
                 "the body must be application/json",
                 flow.request_id);
  if (auto error = BindRequest(route.spec,
                               flow.match.variables,
                               flow.query,
                               body,
                               {options_.ignore_unknown_fields},
                               request))
    return Error(400,
                 StatusCode::kInvalidArgument,
                 "invalid request: " + error->description,
                 flow.request_id,
                 {{error->field, error->description}});
  if (!route.validate) return std::nullopt;
  impl::Violations violations;
  route.validate(request, violations);
  if (violations.empty()) return std::nullopt;
  return Error(400,
               StatusCode::kInvalidArgument,
               violations.ToString(),
               flow.request_id,
               violations.items());
}

void Gateway::Call(std::shared_ptr<Flow> flow) const {
  const Route& route = routes_[flow->match.route];
  flow->rpc_request.reset(route.request_prototype->New());
  if (auto refused = Bind(*flow, route, *flow->rpc_request))
    return Finish(*flow, std::move(*refused));
  flow->context.emplace(flow->credentials,
                        Clock::now() + options_.handler_timeout,
                        full_methods_[flow->match.route]);
  std::string trace_id;
  std::string traceparent;
  observability::ContinueOrStart(flow->request.Header("traceparent"), trace_id, traceparent);
  flow->context->set_traceparent(traceparent);
  flow->call.parent = &*flow->context;
  flow->call.forwarded_for = flow->address;
  flow->rpc_response.reset(route.response_prototype->New());
  Flow& f = *flow;
  try {
    route.invoke(*f.rpc_request, f.rpc_response.get(), f.call, [this, flow](Status status) {
      Finish(*flow, Answer(*flow, status));
    });
  } catch (const std::exception&) {
    Finish(f, Answer(f, Status::Internal("the call failed")));
  }
}

HttpResponse Gateway::Answer(const Flow& flow, const Status& status) const {
  if (!status.ok()) {
    const int http = HttpStatusOf(status.code());
    HttpResponse r = Error(http,
                           status.code(),
                           http == 500 ? "internal error" : status.message(),
                           flow.request_id);
    if (http == 429) r.headers.emplace_back("retry-after", "1");
    if (http == 401) r.headers.emplace_back("www-authenticate", "Bearer error=\"invalid_token\"");
    return r;
  }
  HttpResponse r{200, {}, ""};
  if (!ResponseJson(routes_[flow.match.route].spec, *flow.rpc_response, r.body))
    return Error(500, StatusCode::kInternal, "internal error", flow.request_id);
  return r;
}

}  // namespace cppsvc::gateway
