#include "saga_admin.h"

#include <iostream>
#include <map>

#include "cppsvc/sagas/inspect.h"

namespace cppsvc::impl {
namespace {

constexpr size_t kListLimit = 1000;

// `--key value` pairs after the positional arguments, or false.
bool ParseFlags(const std::vector<std::string>& args,
                size_t from,
                std::map<std::string, std::string>& flags) {
  for (size_t i = from; i < args.size(); i += 2) {
    if ((args[i] != "--status" && args[i] != "--saga") || i + 1 >= args.size()) return false;
    flags[args[i].substr(2)] = args[i + 1];
  }
  return true;
}

int Usage(std::string_view service) {
  std::cerr
      << service
      << ": usage: sagas list [--status running|compensating|completed|aborted] [--saga NAME]\n"
      << "       sagas show <id> [--saga NAME]\n";
  return 2;
}

// The value of `key` in a query string such as "status=running&saga=checkout".
std::string QueryValue(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.substr(0, key.size()) == key && pair.size() > key.size() && pair[key.size()] == '=') {
      return std::string(pair.substr(key.size() + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

}  // namespace

int SagaCommand(std::string_view service, const std::vector<std::string>& args, db::Pool& pool) {
  std::map<std::string, std::string> flags;
  if (args.size() >= 2 && args[1] == "list" && ParseFlags(args, 2, flags)) {
    for (const auto& instance :
         sagas::ListInstances(pool, flags["status"], flags["saga"], kListLimit)) {
      std::cout << instance.dump() << "\n";
    }
    return 0;
  }
  if (args.size() >= 3 && args[1] == "show" && ParseFlags(args, 3, flags)) {
    const auto instance = sagas::ShowInstance(pool, args[2], flags["saga"]);
    if (!instance) {
      std::cerr << service << ": no saga instance " << args[2] << "\n";
      return 1;
    }
    std::cout << instance->dump(2) << "\n";
    return 0;
  }
  return Usage(service);
}

admin::AdminServer::Reply SagaRoute(db::Pool& pool,
                                    std::string_view method,
                                    std::string_view path) {
  if (method != "GET") return {405, R"({"error":"only GET"})"};
  const size_t q = path.find('?');
  const std::string_view query = q == std::string_view::npos ? "" : path.substr(q + 1);
  path = path.substr(0, q);
  if (path == "/sagas" || path == "/sagas/") {
    return {200,
            sagas::ListInstances(pool,
                                 QueryValue(query, "status"),
                                 QueryValue(query, "saga"),
                                 kListLimit)
                .dump()};
  }
  const std::string id(path.substr(std::string_view("/sagas/").size()));
  const auto instance = sagas::ShowInstance(pool, id, QueryValue(query, "saga"));
  if (!instance) return {404, R"({"error":"no such saga instance"})"};
  return {200, instance->dump()};
}

SagaSweeper::SagaSweeper(std::vector<sagas::Owner*> owners,
                         db::Pool& pool,
                         std::chrono::milliseconds interval)
    : owners_(std::move(owners)), pool_(pool), interval_(interval) {
  thread_ = std::thread([this] { Loop(); });
}

SagaSweeper::~SagaSweeper() {
  Stop();
}

void SagaSweeper::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

// A full batch is followed at once by the next one.
void SagaSweeper::Loop() {
  constexpr int kBatch = 100;
  while (!stopping_) {
    bool full = false;
    for (sagas::Owner* owner : owners_) full = owner->SweepOnce(pool_, kBatch) == kBatch || full;
    if (full) continue;
    for (auto waited = std::chrono::milliseconds(0); waited < interval_ && !stopping_;
         waited += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

}  // namespace cppsvc::impl
