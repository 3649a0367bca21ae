// e2e.saga_faults: the checkout saga under process crashes (the
// process-level tests of issues #20 and #21). On a shop started by
// scripts/shop.sh, drives checkouts of many customers, with every payment
// outcome of the simulated provider (succeeds, declined, insufficient funds,
// transient failure then success, slow), while the saga's owner (orders)
// and its participants (products, payments) are each killed with SIGKILL
// and restarted several times, then checks that every saga reached an end
// state and that each order's effects match it:
//   - as many orders as checkouts (a retried checkout makes no second order);
//   - no cppsvc_sagas instance running or compensating; completed for each
//     CONFIRMED order, aborted for each CANCELLED one;
//   - an order with the declined product is CANCELLED;
//   - products' record of each order: committed when CONFIRMED, nothing held
//     or committed when CANCELLED;
//   - each product's stock is its initial stock minus the confirmed units;
//   - payments: exactly one successful charge per CONFIRMED order, and for a
//     CANCELLED one no charge, a failed one or a refunded one;
//   - notifications: exactly one "order confirmed" or "order cancelled"
//     notification per order (none lost, none twice).
//
// Checkouts are spread at --rate per second so that the kills fall among
// them. Orders cancelled by the saga's timeout are counted and reported: an
// end state too, but with services back within seconds and a 60 s timeout,
// each one is a saga event the owner did not act on.
//
//   saga_faults --env <dir>/shop.env --shop <scripts/shop.sh> [--orders N]
//               [--kills K] [--rate R] [--settle <seconds>] [--seed S]
//               [--max-timeouts N] [--kill-services orders,products,payments]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "commerce/notifications/v1/notifications.pb.h"
#include "commerce/orders/v1/orders.cppsvc.client.h"
#include "commerce/payments/v1/payments.pb.h"
#include "commerce/products/v1/products.cppsvc.client.h"
#include "cppsvc/auth/jwt.h"
#include "cppsvc/status.h"

namespace {

namespace orders = commerce::orders::v1;
namespace products = commerce::products::v1;
using Clock = std::chrono::steady_clock;
using cppsvc::Status;
using cppsvc::StatusCode;

std::map<std::string, std::string> settings;

std::string Setting(const std::string& name) {
  auto it = settings.find(name);
  return it == settings.end() ? "" : it->second;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::mutex rng_mu;
std::mt19937_64 rng;

std::string Uuid() {
  uint64_t a, b;
  {
    std::lock_guard<std::mutex> lock(rng_mu);
    a = rng();
    b = rng();
  }
  char out[37];
  std::snprintf(out,
                sizeof out,
                "%08x-%04x-4%03x-%04x-%012llx",
                static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>(a & 0x0fff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return out;
}

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::mutex out_mu;
template <typename... Args>
void Say(const char* format, Args... args) {
  std::lock_guard<std::mutex> lock(out_mu);
  std::printf(format, args...);
  std::fflush(stdout);
}

std::string MintToken(const std::string& subject, const std::string& role) {
  cppsvc::auth::JwtConfig config;
  cppsvc::auth::ParseAlgorithm(Setting("CPPSVC_JWT_ALGORITHM"), config.algorithm);
  config.key = ReadWholeFile(Setting("CPPSVC_JWT_PRIVATE_KEY_FILE"));
  config.issuer = Setting("CPPSVC_JWT_ISSUER");
  config.audience = Setting("CPPSVC_JWT_AUDIENCE");
  cppsvc::auth::TokenClaims claims;
  claims.subject = subject;
  claims.roles = {role};
  claims.ttl = std::chrono::seconds(3600);
  return cppsvc::auth::JwtSigner(config).Sign(claims);
}

cppsvc::CallOptions As(const std::string& token) {
  cppsvc::CallOptions o;
  o.bearer_token = token;
  return o;
}

// Retries `call` while the services restart: every failure but a refusal
// of the request itself is tried again, for up to `limit`.
Status Persist(const std::function<Status()>& call,
               std::chrono::seconds limit = std::chrono::seconds(90)) {
  const auto deadline = Clock::now() + limit;
  while (true) {
    Status s = call();
    if (s.ok() || s.code() == StatusCode::kInvalidArgument ||
        s.code() == StatusCode::kPermissionDenied || s.code() == StatusCode::kFailedPrecondition ||
        Clock::now() >= deadline)
      return s;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(s.code() == StatusCode::kResourceExhausted ? 600 : 200));
  }
}

struct Line {
  int product = 0;  // index into the seeded products
  int quantity = 0;
};

struct PlannedOrder {
  int user = 0;
  std::vector<Line> lines;
  bool declined = false;  // has a product whose price the provider refuses
  std::string request_id;
  std::string order_id;  // once checked out
};

struct Product {
  std::string id;
  std::string name;
  int64_t price = 0;
  int stock = 0;
};

int failures = 0;
void Check(bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    if (failures <= 20) std::printf("  FAILED: %s\n", what.c_str());
  }
}

}  // namespace

// The index in the catalog of the first product with cents (declined,
// insufficient funds, transient, slow).
constexpr int kFirstOutcomeProduct = 3;

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  size_t from = 0;
  while (from <= text.size()) {
    const size_t comma = std::min(text.find(',', from), text.size());
    if (comma > from) out.push_back(text.substr(from, comma - from));
    from = comma + 1;
  }
  return out;
}

using OrderStatuses = std::map<std::string, std::pair<int, int>>;  // id -> (status, reason)

// One successful charge per confirmed order; for a cancelled one no charge,
// a failed one or a refunded one (payments_order_id_key makes two rows for
// one order impossible; the status is what a retry could get wrong).
void CheckPayments(const std::string& url,
                   const std::vector<PlannedOrder>& plan,
                   const OrderStatuses& status_of) {
  namespace pay = commerce::payments::v1;
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  std::map<std::string, int> charge;  // order -> payment status
  for (const auto& row : tx.exec("SELECT order_id, status FROM payments"))
    charge[row[0].as<std::string>()] = row[1].as<int>();
  std::map<int, int> by_status;
  for (const PlannedOrder& o : plan) {
    auto it = status_of.find(o.order_id);
    if (o.order_id.empty() || it == status_of.end()) continue;
    const int paid =
        charge.count(o.order_id) ? charge[o.order_id] : pay::PAYMENT_STATUS_UNSPECIFIED;
    ++by_status[paid];
    if (it->second.first == orders::ORDER_STATUS_CONFIRMED) {
      Check(paid == pay::PAYMENT_STATUS_SUCCEEDED,
            "order " + o.order_id + " CONFIRMED, its payment " +
                pay::PaymentStatus_Name(static_cast<pay::PaymentStatus>(paid)));
    } else {
      Check(paid != pay::PAYMENT_STATUS_SUCCEEDED && paid != pay::PAYMENT_STATUS_PENDING,
            "order " + o.order_id + " CANCELLED, its payment " +
                pay::PaymentStatus_Name(static_cast<pay::PaymentStatus>(paid)));
    }
  }
  std::printf("  payments: %d succeeded, %d failed, %d refunded, %d orders never charged\n",
              by_status[pay::PAYMENT_STATUS_SUCCEEDED],
              by_status[pay::PAYMENT_STATUS_FAILED],
              by_status[pay::PAYMENT_STATUS_REFUNDED],
              by_status[pay::PAYMENT_STATUS_UNSPECIFIED]);
}

// Exactly one "order confirmed" or "order cancelled" notification per
// order, per user (they arrive after the saga ends: waits up to 30 s for
// the missing ones; one too many fails at once).
void CheckNotifications(const std::string& url,
                        const std::vector<PlannedOrder>& plan,
                        const OrderStatuses& status_of) {
  namespace note = commerce::notifications::v1;
  std::map<std::pair<std::string, int>, int> expected;  // (user, kind) -> count
  std::map<std::string, std::string> user_of_order;
  pqxx::connection oc(Setting("ORDERS_DATABASE_URL"));
  pqxx::nontransaction otx(oc);
  for (const auto& row : otx.exec("SELECT id, user_id FROM orders"))
    user_of_order[row[0].as<std::string>()] = row[1].as<std::string>();
  for (const PlannedOrder& o : plan) {
    auto it = status_of.find(o.order_id);
    if (o.order_id.empty() || it == status_of.end()) continue;
    const int kind = it->second.first == orders::ORDER_STATUS_CONFIRMED
                         ? note::NOTIFICATION_KIND_ORDER_CONFIRMED
                         : note::NOTIFICATION_KIND_ORDER_CANCELLED;
    ++expected[{user_of_order[o.order_id], kind}];
  }
  std::map<std::pair<std::string, int>, int> got;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (true) {
    got.clear();
    pqxx::connection c(url);
    pqxx::nontransaction tx(c);
    for (const auto& row :
         tx.exec("SELECT user_id, kind, count(*) FROM notifications WHERE kind IN (2, 3) "
                 "GROUP BY user_id, kind")) {
      const std::pair<std::string, int> key{row[0].as<std::string>(), row[1].as<int>()};
      if (expected.count(key)) got[key] = row[2].as<int>();
    }
    bool short_of = false, over = false;
    for (const auto& [key, n] : expected) {
      short_of = short_of || got[key] < n;
      over = over || got[key] > n;
    }
    if (over || !short_of || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  int missing = 0, extra = 0, total = 0;
  for (const auto& [key, n] : expected) {
    total += n;
    missing += std::max(0, n - got[key]);
    extra += std::max(0, got[key] - n);
  }
  std::printf("  notifications: %d for %d ended orders, %d missing, %d twice\n",
              total - missing + extra,
              total,
              missing,
              extra);
  Check(missing == 0, std::to_string(missing) + " order notifications missing");
  Check(extra == 0, std::to_string(extra) + " order notifications delivered twice");
}

int main(int argc, char** argv) {
  std::string env_file, shop_script;
  int order_count = 200, kills_each = 3, settle_s = 60, rate = 10, max_timeouts = -1;
  uint64_t seed = std::random_device{}();
  std::vector<std::string> kill_services = {"orders", "products", "payments"};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--env")
      env_file = value;
    else if (flag == "--shop")
      shop_script = value;
    else if (flag == "--orders")
      order_count = std::atoi(value.c_str());
    else if (flag == "--kills")
      kills_each = std::atoi(value.c_str());
    else if (flag == "--settle")
      settle_s = std::atoi(value.c_str());
    else if (flag == "--rate")
      rate = std::max(1, std::atoi(value.c_str()));
    else if (flag == "--max-timeouts")
      max_timeouts = std::atoi(value.c_str());
    else if (flag == "--kill-services")
      kill_services = SplitCommas(value);
    else if (flag == "--seed")
      seed = std::strtoull(value.c_str(), nullptr, 10);
    else {
      std::cerr << "saga_faults: unknown flag " << flag << "\n";
      return 2;
    }
  }
  {
    std::ifstream in(env_file);
    if (!in || shop_script.empty()) {
      std::cerr << "usage: saga_faults --env <dir>/shop.env --shop <scripts/shop.sh> [--orders N] "
                   "[--kills K] [--rate R] [--settle S] [--seed S] [--max-timeouts N] "
                   "[--kill-services a,b]\n";
      return 2;
    }
    std::string line;
    while (std::getline(in, line))
      if (auto eq = line.find('='); eq != std::string::npos)
        settings[line.substr(0, eq)] = line.substr(eq + 1);
  }
  rng.seed(seed);
  const std::string shop_dir = Setting("SHOP_DIR");
  const int64_t decline_above = std::atoll(Setting("SHOP_DECLINE_ABOVE_CENTS").c_str());
  std::string killed;
  for (const std::string& svc : kill_services) killed += (killed.empty() ? "" : ", ") + svc;
  std::printf("saga_faults: %d checkouts, %s each killed %d times (seed %llu)\n",
              order_count,
              killed.c_str(),
              kills_each,
              static_cast<unsigned long long>(seed));

  cppsvc::ClientOptions po, oo;
  // Every process of each (SHOP_REPLICAS), round robin.
  po.addresses = SplitCommas(Setting("PRODUCTS_ADDRESSES"));
  oo.addresses = SplitCommas(Setting("ORDERS_ADDRESSES"));
  products::ProductsServiceClient products_client(po);
  orders::OrdersServiceClient orders_client(oo);
  const std::string admin = MintToken("faults-admin", "admin");

  // --- catalog: plenty, scarce (some orders are short of it), declined ----------
  // Whole dollars, but one product per payment outcome: payments' simulated
  // provider picks it by the total's cents (services/payments/provider.h):
  // 13 declined, 17 insufficient funds, 19 transient once, 23 slow.
  std::vector<Product> catalog = {{"", "Green tea", 500, 100000},
                                  {"", "Tea pot", 2900, 100000},
                                  {"", "Scarce tea", 1000, 60},
                                  {"", "Gold tea", decline_above + 113, 100000},
                                  {"", "Lean tea", 1017, 100000},
                                  {"", "Flaky tea", 1019, 100000},
                                  {"", "Slow tea", 1023, 100000}};
  {
    const std::string run = Uuid().substr(0, 6);
    products::CreateCategoryRequest creq;
    creq.set_name("Faults " + run);
    creq.set_slug("faults-" + run);
    products::CreateCategoryResponse cres;
    if (Status s = products_client.CreateCategory(creq, &cres, As(admin)); !s.ok()) {
      std::printf("CreateCategory: %s\n", s.message().c_str());
      return 1;
    }
    int n = 0;
    for (Product& p : catalog) {
      products::CreateProductRequest req;
      req.set_sku("F" + std::to_string(n++) + "-" + std::to_string(seed % 1000000) + "-" +
                  std::to_string(std::rand() % 10000));
      req.set_name(p.name);
      req.set_category_id(cres.category().id());
      req.set_price_cents(p.price);
      req.set_stock(p.stock);
      products::CreateProductResponse res;
      if (Status s = products_client.CreateProduct(req, &res, As(admin)); !s.ok()) {
        std::printf("CreateProduct: %s\n", s.message().c_str());
        return 1;
      }
      p.id = res.product().id();
    }
  }

  // --- the plan: customers with a few orders each --------------------------------
  const int users = std::max(1, order_count / 4);
  std::vector<std::string> user_tokens;
  std::set<std::string> user_ids;
  for (int u = 0; u < users; ++u) {
    const std::string id = Uuid();
    user_ids.insert(id);
    user_tokens.push_back(MintToken(id, "customer"));
  }
  std::vector<PlannedOrder> plan(order_count);
  for (int i = 0; i < order_count; ++i) {
    PlannedOrder& o = plan[i];
    o.user = i % users;
    o.request_id = Uuid();
    std::set<int> used;
    const int lines = 1 + static_cast<int>(rng() % 2);
    for (int l = 0; l < lines; ++l) {
      const int product = static_cast<int>(rng() % 3);
      if (!used.insert(product).second) continue;
      o.lines.push_back({product, 1 + static_cast<int>(rng() % 3)});
    }
    // At most one product with cents, so the total's cents choose the outcome.
    if (const int outcome = static_cast<int>(rng() % 8); outcome < 4) {
      o.lines.push_back({kFirstOutcomeProduct + outcome, 1});
      o.declined = outcome < 2;
    }
  }

  // --- drive the checkouts while the killer runs ---------------------------------
  const auto start = Clock::now();
  std::atomic<bool> driving{true};
  std::atomic<int> checked_out{0};
  std::atomic<int> driver_errors{0};
  const int threads = 4;
  std::vector<std::thread> drivers;
  for (int t = 0; t < threads; ++t) {
    drivers.emplace_back([&, t] {
      for (int i = 0; i < order_count; ++i) {
        PlannedOrder& o = plan[i];
        if (o.user % threads != t) continue;
        // Order i starts at i / rate seconds, so the kills fall among the checkouts.
        std::this_thread::sleep_until(start + std::chrono::milliseconds(1000LL * i / rate));
        const std::string& token = user_tokens[o.user];
        bool ok = true;
        for (const Line& line : o.lines) {
          orders::AddCartItemRequest req;
          req.set_product_id(catalog[line.product].id);
          req.set_quantity(line.quantity);
          Status s = Persist([&] {
            orders::AddCartItemResponse res;
            return orders_client.AddCartItem(req, &res, As(token));
          });
          if (!s.ok()) {
            Say("  order %d: AddCartItem: %s %s\n",
                i,
                std::string(cppsvc::StatusCodeName(s.code())).c_str(),
                s.message().c_str());
            ok = false;
            break;
          }
        }
        if (!ok) {
          ++driver_errors;
          continue;
        }
        orders::CheckoutRequest req;
        req.set_request_id(o.request_id);
        orders::CheckoutResponse res;
        Status s = Persist([&] {
          res.Clear();
          return orders_client.Checkout(req, &res, As(token));
        });
        if (!s.ok()) {
          Say("  order %d: Checkout: %s %s\n",
              i,
              std::string(cppsvc::StatusCodeName(s.code())).c_str(),
              s.message().c_str());
          ++driver_errors;
          continue;
        }
        o.order_id = res.order().id();
        ++checked_out;
      }
    });
  }
  int kills = 0;
  std::thread killer([&] {
    std::mt19937 krng(static_cast<unsigned>(seed));
    for (int round = 0; round < kills_each; ++round) {
      for (const std::string& svc : kill_services) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1000 + krng() % 1500));
        const std::string base = "bash " + shop_script + " ";
        const auto t = Clock::now();
        const int k = std::system((base + "kill " + shop_dir + " " + svc + " KILL").c_str());
        std::this_thread::sleep_for(std::chrono::milliseconds(300 + krng() % 700));
        const int r = std::system((base + "restart " + shop_dir + " " + svc).c_str());
        ++kills;
        Say("  %5.1f s  SIGKILL %-8s -> restarted and ready in %.1f s%s (%d checkouts so far)\n",
            Since(start),
            svc.c_str(),
            Since(t),
            (k == 0 && r == 0) ? "" : " [shop.sh failed]",
            checked_out.load());
        if (k != 0 || r != 0) ++driver_errors;
      }
    }
  });
  for (auto& d : drivers) d.join();
  driving = false;
  Say("  %5.1f s  %d checkouts accepted\n", Since(start), checked_out.load());
  killer.join();
  Say("  %5.1f s  %d kills done; waiting for every saga to end\n", Since(start), kills);

  // --- settle -------------------------------------------------------------------
  const std::string orders_db = Setting("ORDERS_DATABASE_URL");
  const std::string products_db = Setting("PRODUCTS_DATABASE_URL");
  auto scalar = [](const std::string& url, const std::string& sql) {
    pqxx::connection c(url);
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<long long>();
  };
  const auto settle_deadline = Clock::now() + std::chrono::seconds(settle_s);
  long long open_sagas = -1, open_orders = -1, held = -1;
  while (true) {
    try {
      open_sagas =
          scalar(orders_db,
                 "SELECT count(*) FROM cppsvc_sagas WHERE status IN ('running', 'compensating')");
      open_orders = scalar(orders_db, "SELECT count(*) FROM orders WHERE status NOT IN (3, 4)");
      // Confirmed orders whose stock is not committed yet (OrderConfirmed on its way).
      held = scalar(products_db, "SELECT count(*) FROM stock_orders WHERE status = 1");
    } catch (const std::exception& e) {
      Say("  query: %s\n", e.what());
    }
    if (open_sagas == 0 && open_orders == 0 && held == 0) break;
    if (Clock::now() >= settle_deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::printf("  %5.1f s  settled: %lld sagas and %lld orders not ended, %lld stock holds open\n",
              Since(start),
              open_sagas,
              open_orders,
              held);

  // --- check ----------------------------------------------------------------------
  Check(driver_errors == 0,
        "every checkout accepted (" + std::to_string(driver_errors.load()) + " failed)");
  Check(open_sagas == 0,
        std::to_string(open_sagas) + " saga instances still running or compensating");
  Check(open_orders == 0, std::to_string(open_orders) + " orders neither CONFIRMED nor CANCELLED");
  Check(held == 0, std::to_string(held) + " orders' stock still held");

  pqxx::connection oc(orders_db);
  pqxx::nontransaction otx(oc);
  // This run's orders (the shop may hold others): order -> (status, reason).
  OrderStatuses status_of;
  for (const auto& row : otx.exec("SELECT id, status, cancellation_reason, user_id FROM orders"))
    if (user_ids.count(row[3].as<std::string>()))
      status_of[row[0].as<std::string>()] = {row[1].as<int>(), row[2].as<int>()};
  std::map<std::string, std::string> saga_of;
  for (const auto& row : otx.exec("SELECT id, status FROM cppsvc_sagas WHERE saga = 'checkout'"))
    saga_of[row[0].as<std::string>()] = row[1].as<std::string>();
  pqxx::connection pc(products_db);
  pqxx::nontransaction ptx(pc);
  std::map<std::string, int> stock_order;
  for (const auto& row : ptx.exec("SELECT order_id, status FROM stock_orders"))
    stock_order[row[0].as<std::string>()] = row[1].as<int>();
  std::map<std::string, int> stock_now;
  for (const auto& row : ptx.exec("SELECT id, stock FROM products"))
    stock_now[row[0].as<std::string>()] = row[1].as<int>();

  Check(static_cast<int>(status_of.size()) == checked_out.load(),
        std::to_string(status_of.size()) + " orders in the database for " +
            std::to_string(checked_out.load()) + " checkouts");
  std::vector<long long> sold(catalog.size(), 0);
  std::map<int, int> cancelled_by_reason;
  int confirmed = 0, cancelled = 0;
  for (const PlannedOrder& o : plan) {
    if (o.order_id.empty()) continue;
    auto it = status_of.find(o.order_id);
    if (it == status_of.end()) {
      Check(false, "order " + o.order_id + " is missing");
      continue;
    }
    const auto [status, reason] = it->second;
    const std::string saga = saga_of.count(o.order_id) ? saga_of[o.order_id] : "(none)";
    const int stock = stock_order.count(o.order_id) ? stock_order[o.order_id] : 0;
    if (status == orders::ORDER_STATUS_CONFIRMED) {
      ++confirmed;
      Check(!o.declined, "order " + o.order_id + " with the declined product is CONFIRMED");
      Check(saga == "completed", "order " + o.order_id + " CONFIRMED, its saga " + saga);
      Check(stock == products::RESERVATION_STATUS_COMMITTED,
            "order " + o.order_id + " CONFIRMED, its stock " + std::to_string(stock));
      for (const Line& l : o.lines) sold[l.product] += l.quantity;
    } else if (status == orders::ORDER_STATUS_CANCELLED) {
      ++cancelled;
      ++cancelled_by_reason[reason];
      Check(saga == "aborted", "order " + o.order_id + " CANCELLED, its saga " + saga);
      Check(stock != products::RESERVATION_STATUS_HELD &&
                stock != products::RESERVATION_STATUS_COMMITTED,
            "order " + o.order_id + " CANCELLED, its stock " + std::to_string(stock));
    } else {
      Check(false,
            "order " + o.order_id + " is " +
                orders::OrderStatus_Name(static_cast<orders::OrderStatus>(status)));
    }
  }
  std::printf("\n  %-12s %8s %8s %8s %8s\n", "product", "initial", "sold", "expected", "now");
  for (size_t p = 0; p < catalog.size(); ++p) {
    const long long expected = catalog[p].stock - sold[p];
    const int now = stock_now.count(catalog[p].id) ? stock_now[catalog[p].id] : -1;
    std::printf("  %-12s %8d %8lld %8lld %8d\n",
                catalog[p].name.c_str(),
                catalog[p].stock,
                sold[p],
                expected,
                now);
    Check(now == expected,
          catalog[p].name + ": stock " + std::to_string(now) + ", expected " +
              std::to_string(expected));
  }
  CheckPayments(Setting("PAYMENTS_DATABASE_URL"), plan, status_of);
  CheckNotifications(Setting("NOTIFICATIONS_DATABASE_URL"), plan, status_of);
  std::printf("\n  orders: %d confirmed, %d cancelled (", confirmed, cancelled);
  bool first = true;
  for (const auto& [reason, n] : cancelled_by_reason) {
    std::printf(
        "%s%s %d",
        first ? "" : ", ",
        orders::CancellationReason_Name(static_cast<orders::CancellationReason>(reason)).c_str() +
            20,
        n);
    first = false;
  }
  std::printf("); %d kills; %.1f s\n", kills, Since(start));
  const int timeouts = cancelled_by_reason[orders::CANCELLATION_REASON_TIMEOUT];
  if (timeouts > 0) {
    std::printf(
        "  note: %d orders were cancelled by the saga's timeout although every service was back "
        "within seconds\n",
        timeouts);
  }
  if (max_timeouts >= 0)
    Check(timeouts <= max_timeouts,
          std::to_string(timeouts) + " orders timed out (at most " + std::to_string(max_timeouts) +
              ")");
  if (failures > 0) {
    std::printf("saga_faults: %d checks failed\n", failures);
    return 1;
  }
  std::printf("saga_faults: every saga ended and its effects match its end state\n");
  return 0;
}
