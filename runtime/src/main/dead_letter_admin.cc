#include "dead_letter_admin.h"

#include <cstdlib>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cppsvc/events/dead_letters.h"
#include "service_process.h"

namespace cppsvc::impl {
namespace {

std::string DeadLetterJson(const events::DeadLetter& d) {
  return nlohmann::json({{"id", d.id},
                         {"consumer", d.consumer},
                         {"event_id", d.event_id},
                         {"subject", d.subject},
                         {"error", d.error},
                         {"attempts", d.attempts},
                         {"replayed", d.replayed}})
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Replays dead letter `id` through the handler of the consumer that parked it.
Status Replay(db::Pool& pool, const std::vector<SubscriptionRoute>& routes, int64_t id) {
  for (const events::DeadLetter& d : events::ListDeadLetters(pool, "", true, 1000000)) {
    if (d.id != id) continue;
    for (const SubscriptionRoute& r : routes) {
      if (r.durable == d.consumer) return events::ReplayDeadLetter(pool, id, r.handle);
    }
    return Status::FailedPrecondition("no consumer '" + d.consumer + "' in this service");
  }
  return Status::NotFound("no dead letter " + std::to_string(id));
}

// A whole decimal number, or false.
bool ParseId(const std::string& text, long long& id) {
  char* end = nullptr;
  id = std::strtoll(text.c_str(), &end, 10);
  return end != text.c_str() && *end == '\0';
}

admin::AdminServer::Reply ListRoute(db::Pool& pool) {
  nlohmann::json list = nlohmann::json::array();
  for (const events::DeadLetter& d : events::ListDeadLetters(pool, "", false, 1000)) {
    list.push_back(nlohmann::json::parse(DeadLetterJson(d)));
  }
  return {200, list.dump()};
}

admin::AdminServer::Reply ReplayRoute(db::Pool& pool,
                                      const std::vector<SubscriptionRoute>& routes,
                                      const std::string& id) {
  long long n = 0;
  if (!ParseId(id, n)) return {400, R"({"error":"not an id"})"};
  Status s = Replay(pool, routes, n);
  const int http = s.ok()                                        ? 200
                   : s.code() == StatusCode::kNotFound           ? 404
                   : s.code() == StatusCode::kFailedPrecondition ? 409
                                                                 : 500;
  return {http,
          nlohmann::json({{"code", StatusCodeName(s.code())}, {"message", s.message()}}).dump()};
}

}  // namespace

int DeadLetterCommand(std::string_view service,
                      const std::vector<std::string>& args,
                      db::Pool& pool,
                      const std::vector<SubscriptionRoute>& routes) {
  if (args.size() >= 2 && args[1] == "list" && args.size() <= 3) {
    for (const events::DeadLetter& d :
         events::ListDeadLetters(pool, args.size() == 3 ? args[2] : "", true, 1000000)) {
      std::cout << DeadLetterJson(d) << "\n";
    }
    return 0;
  }
  if (args.size() == 3 && args[1] == "replay") {
    long long id = 0;
    if (!ParseId(args[2], id))
      return Fail(service, "dead-letters replay: not an id: " + args[2], 2);
    Status s = Replay(pool, routes, id);
    if (!s.ok()) return Fail(service, "dead-letters replay " + args[2] + ": " + s.ToString(), 1);
    std::cout << "replayed " << id << "\n";
    return 0;
  }
  return Fail(service, "usage: dead-letters list [consumer] | dead-letters replay <id>", 2);
}

admin::AdminServer::Reply DeadLetterRoute(db::Pool& pool,
                                          const std::vector<SubscriptionRoute>& routes,
                                          std::string_view method,
                                          std::string_view path) {
  path = path.substr(0, path.find('?'));
  if (method == "GET" && (path == "/dead-letters" || path == "/dead-letters/")) {
    return ListRoute(pool);
  }
  constexpr std::string_view kPrefix = "/dead-letters/";
  constexpr std::string_view kSuffix = "/replay";
  std::string_view rest = path.substr(kPrefix.size() <= path.size() ? kPrefix.size() : path.size());
  if (method == "POST" && rest.size() > kSuffix.size() &&
      rest.substr(rest.size() - kSuffix.size()) == kSuffix) {
    return ReplayRoute(pool, routes, std::string(rest.substr(0, rest.size() - kSuffix.size())));
  }
  return {404, R"({"error":"not found"})"};
}

}  // namespace cppsvc::impl
