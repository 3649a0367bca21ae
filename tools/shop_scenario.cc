// shop_scenario: the commerce shop's story, run against a shop started by
// scripts/shop.sh, one line per step with the call and its result. It is the
// demo (scripts/demo.sh) and the end-to-end test (e2e.shop_scenario) alike:
// it exits 1 as soon as a result is not the expected one.
//
//   shop_scenario --env <dir>/shop.env
//
// The story: an admin seeds a category and three products; a customer
// registers, logs in, searches the catalog, fills the cart and checks out
// (the checkout saga confirms the order), checks out a second order whose
// amount the simulated payment provider declines (the saga releases the
// stock and cancels the order), reads the notifications, logs out, and the
// logged-out token is refused by another service. It ends with a table of
// the orders, the stock and the payments.
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "commerce/auth/v1/auth.cppsvc.client.h"
#include "commerce/notifications/v1/notifications.cppsvc.client.h"
#include "commerce/orders/v1/orders.cppsvc.client.h"
#include "commerce/payments/v1/payments.cppsvc.client.h"
#include "commerce/products/v1/products.cppsvc.client.h"
#include "cppsvc/auth/jwt.h"
#include "cppsvc/status.h"

namespace {

namespace auth = commerce::auth::v1;
namespace notifications = commerce::notifications::v1;
namespace orders = commerce::orders::v1;
namespace payments = commerce::payments::v1;
namespace products = commerce::products::v1;

using Clock = std::chrono::steady_clock;
using cppsvc::Status;
using cppsvc::StatusCode;

constexpr std::string_view kUsage =
    R"usage(usage: shop_scenario --env <dir>/shop.env [--timeout <seconds>]

Runs the shop's story against the services scripts/shop.sh started and
prints one line per step; exits 1 at the first unexpected result.
  --env      the shop.env that `scripts/shop.sh start <dir>` wrote
             (default: $SHOP_ENV, else the process environment)
  --timeout  how long to wait for an asynchronous result, e.g. an order's
             saga (default 30)
)usage";

// ---------------------------------------------------------------------------
// Settings and helpers.

std::map<std::string, std::string> settings;

std::string Setting(const std::string& name) {
  if (auto it = settings.find(name); it != settings.end()) return it->second;
  if (const char* v = std::getenv(name.c_str())) return v;
  return "";
}

bool LoadEnvFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    settings[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return true;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Uuid() {
  static std::mt19937_64 rng{std::random_device{}()};
  const uint64_t a = rng(), b = rng();
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

std::string Short(const std::string& id) {
  return id.substr(0, 8);
}

std::string Money(int64_t cents) {
  char out[32];
  std::snprintf(out,
                sizeof out,
                "$%lld.%02lld",
                static_cast<long long>(cents / 100),
                static_cast<long long>(cents % 100));
  return out;
}

std::string Describe(const Status& s) {
  std::string out(cppsvc::StatusCodeName(s.code()));
  if (!s.message().empty()) out += " (" + s.message() + ")";
  return out;
}

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string Secs(double s) {
  char out[32];
  std::snprintf(out, sizeof out, "%.1f s", s);
  return out;
}

int step_number = 0;
std::chrono::seconds poll_timeout{30};

// One line: "NN  who  call  -> result".
void Line(const std::string& who, const std::string& call, const std::string& result) {
  std::printf("%3d  %-9s %-58s -> %s\n", ++step_number, who.c_str(), call.c_str(), result.c_str());
  std::fflush(stdout);
}

[[noreturn]] void Fail(const std::string& who,
                       const std::string& call,
                       const std::string& got,
                       const std::string& expected) {
  Line(who, call, got);
  std::printf("     FAILED: expected %s\n", expected.c_str());
  std::fflush(stdout);
  std::exit(1);
}

// A call whose status must be OK.
void Must(const Status& s, const std::string& who, const std::string& call) {
  if (!s.ok()) Fail(who, call, Describe(s), "OK");
}

// Calls `attempt` every 200 ms until it returns true or the poll timeout
// passes; false then.
bool Poll(const std::function<bool()>& attempt) {
  const auto deadline = Clock::now() + poll_timeout;
  while (true) {
    if (attempt()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

cppsvc::ClientOptions At(const std::string& address_setting) {
  cppsvc::ClientOptions o;
  const std::string address = Setting(address_setting);
  if (address.empty()) {
    std::fprintf(stderr, "shop_scenario: %s is not set (see --env)\n", address_setting.c_str());
    std::exit(2);
  }
  o.addresses = {address};
  return o;
}

cppsvc::CallOptions As(const std::string& token) {
  cppsvc::CallOptions o;
  o.bearer_token = token;
  return o;
}

// A token of the shop's issuer, signed with the private key auth signs with
// (what `cppsvc-token` does).
std::string MintToken(const std::string& subject, const std::vector<std::string>& roles) {
  cppsvc::auth::JwtConfig config;
  if (!cppsvc::auth::ParseAlgorithm(Setting("CPPSVC_JWT_ALGORITHM"), config.algorithm)) {
    std::fprintf(stderr, "shop_scenario: CPPSVC_JWT_ALGORITHM is not set (see --env)\n");
    std::exit(2);
  }
  if (config.algorithm == cppsvc::auth::Algorithm::kHS256) {
    config.key = Setting("CPPSVC_JWT_KEY");
    if (config.key.empty()) config.key = ReadWholeFile(Setting("CPPSVC_JWT_KEY_FILE"));
  } else {
    config.key = Setting("CPPSVC_JWT_PRIVATE_KEY");
    if (config.key.empty()) config.key = ReadWholeFile(Setting("CPPSVC_JWT_PRIVATE_KEY_FILE"));
  }
  config.issuer = Setting("CPPSVC_JWT_ISSUER");
  config.audience = Setting("CPPSVC_JWT_AUDIENCE");
  cppsvc::auth::TokenClaims claims;
  claims.subject = subject;
  claims.roles = roles;
  claims.ttl = std::chrono::seconds(3600);
  return cppsvc::auth::JwtSigner(config).Sign(claims);
}

struct Seeded {
  products::Product product;
  int initial_stock = 0;
};

std::string StatusName(orders::OrderStatus s) {
  std::string name = orders::OrderStatus_Name(s);
  return name.substr(std::string("ORDER_STATUS_").size());
}

// Polls the order until it leaves checkout; the final order, or a failure.
orders::Order AwaitOrder(orders::OrdersServiceClient& client,
                         const std::string& token,
                         const std::string& order_id,
                         orders::OrderStatus expected,
                         const std::string& call) {
  const auto start = Clock::now();
  orders::GetOrderRequest req;
  req.set_order_id(order_id);
  orders::GetOrderResponse res;
  Status last;
  Poll([&] {
    res.Clear();
    last = client.GetOrder(req, &res, As(token));
    return last.ok() && (res.order().status() == orders::ORDER_STATUS_CONFIRMED ||
                         res.order().status() == orders::ORDER_STATUS_CANCELLED);
  });
  if (!last.ok()) Fail("customer", call, Describe(last), "OK");
  const orders::Order& o = res.order();
  std::string got = StatusName(o.status());
  if (o.status() == orders::ORDER_STATUS_CANCELLED) {
    got += " (" +
           orders::CancellationReason_Name(o.cancellation_reason())
               .substr(std::string("CANCELLATION_REASON_").size()) +
           ": " + o.cancellation_detail() + ")";
  }
  got += " after " + Secs(SecondsSince(start));
  if (o.status() != expected) Fail("customer", call, got, StatusName(expected));
  Line("customer", call, got);
  return o;
}

int StockOf(products::ProductsServiceClient& client, const std::string& product_id) {
  products::GetProductRequest req;
  req.set_product_id(product_id);
  products::GetProductResponse res;
  Status s = client.GetProduct(req, &res);
  if (!s.ok()) Fail("admin", "products.GetProduct(" + Short(product_id) + ")", Describe(s), "OK");
  return res.product().stock();
}

// The product's stock, once it is `expected` (polled: stock moves with the
// saga's events).
void ExpectStock(products::ProductsServiceClient& client,
                 const Seeded& s,
                 int expected,
                 const std::string& why) {
  int stock = -1;
  Poll([&] {
    stock = StockOf(client, s.product.id());
    return stock == expected;
  });
  const std::string call = "products.GetProduct(" + s.product.name() + ")";
  const std::string got = "stock " + std::to_string(stock) + " (" + why + ")";
  if (stock != expected) Fail("anyone", call, got, "stock " + std::to_string(expected));
  Line("anyone", call, got);
}

// The story's state: the clients, this run's names and what each chapter
// leaves for the next.
class Story {
 public:
  Story()
      : auth_(At("AUTH_ADDRESS")),
        products_(At("PRODUCTS_ADDRESS")),
        orders_(At("ORDERS_ADDRESS")),
        payments_(At("PAYMENTS_ADDRESS")),
        notifications_(At("NOTIFICATIONS_ADDRESS")),
        decline_above_(std::atoll(Setting("SHOP_DECLINE_ABOVE_CENTS").c_str())),
        // Names unique to this run, so the scenario runs again on the same shop.
        run_(Uuid().substr(0, 6)) {
    if (decline_above_ <= 0) {
      std::cerr << "shop_scenario: SHOP_DECLINE_ABOVE_CENTS is not set (see --env)\n";
      std::exit(2);
    }
  }

  void Tell() {
    const auto started = Clock::now();
    std::printf("The shop's story (run %s)\n\n", run_.c_str());
    SeedCatalog();
    RegisterAndLogIn();
    Search();
    CheckoutAccepted();
    CheckoutDeclined();
    ReadNotifications();
    LogOut();
    PrintOrders();
    PrintStock();
    PrintPayments();
    std::printf("\nEvery step as expected (%s).\n", Secs(SecondsSince(started)).c_str());
  }

 private:
  // --- the catalog, seeded by an admin ----------------------------------------
  void SeedCatalog() {
    admin_ = MintToken("shop-admin-" + run_, {"admin"});
    products::CreateCategoryRequest req;
    req.set_name("Coffee " + run_);
    req.set_slug("coffee-" + run_);
    products::CreateCategoryResponse res;
    const std::string call = "products.CreateCategory(\"" + req.name() + "\")";
    Must(products_.CreateCategory(req, &res, As(admin_)), "admin", call);
    category_ = res.category();
    Line("admin", call, "OK category " + Short(category_.id()));
    SeedProduct("KETTLE",
                "Pour-over coffee kettle",
                "Gooseneck kettle for pour-over coffee",
                3499,
                10);
    SeedProduct("MUG", "Ceramic coffee mug", "Stoneware mug for coffee, 350 ml", 1299, 25);
    // Priced above what the simulated provider accepts (cents 13): payments'
    // simulated provider declines its charge.
    SeedProduct("ESPRESSO",
                "Espresso machine",
                "Dual boiler espresso and coffee machine",
                decline_above_ + 49913,
                5);
  }

  void SeedProduct(const std::string& sku,
                   const std::string& name,
                   const std::string& description,
                   int64_t price,
                   int stock) {
    std::string run = run_;
    for (char& c : run) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    products::CreateProductRequest req;
    req.set_sku(sku + "-" + run);
    req.set_name(name);
    req.set_description(description);
    req.set_category_id(category_.id());
    req.set_price_cents(price);
    req.set_stock(stock);
    products::CreateProductResponse res;
    const std::string call = "products.CreateProduct(\"" + name + "\", " + Money(price) +
                             ", stock " + std::to_string(stock) + ")";
    Must(products_.CreateProduct(req, &res, As(admin_)), "admin", call);
    seeded_.push_back({res.product(), stock});
    Line("admin", call, "OK product " + Short(res.product().id()));
  }

  // --- register, log in, search -------------------------------------------------
  void RegisterAndLogIn() {
    const std::string email = "ada-" + run_ + "@example.com";
    const std::string password = "correct horse battery staple";
    auth::RegisterRequest reg;
    reg.set_email(email);
    reg.set_password(password);
    reg.set_display_name("Ada");
    auth::RegisterResponse registered;
    const std::string call = "auth.Register(" + email + ")";
    Must(auth_.Register(reg, &registered), "visitor", call);
    user_id_ = registered.user().id();
    Line("visitor", call, "OK user " + Short(user_id_));

    auth::LoginRequest req;
    req.set_email(email);
    req.set_password(password);
    auth::LoginResponse res;
    const std::string login = "auth.Login(" + email + ")";
    Must(auth_.Login(req, &res), "visitor", login);
    access_ = res.tokens().access_token();
    refresh_ = res.tokens().refresh_token();
    if (access_.empty() || refresh_.empty())
      Fail("visitor", login, "OK without tokens", "an access and a refresh token");
    Line("visitor", login, "OK access token (ES256 JWT) and refresh token");
  }

  void Search() {
    products::SearchProductsRequest req;
    req.set_query("coffee");
    req.set_category_id(category_.id());
    products::SearchProductsResponse res;
    const std::string call =
        "products.SearchProducts(\"coffee\", category " + Short(category_.id()) + ")";
    Must(products_.SearchProducts(req, &res, As(access_)), "customer", call);
    std::string got = std::to_string(res.products_size()) + " found:";
    for (const auto& p : res.products()) got += " " + p.name() + " " + Money(p.price_cents()) + ";";
    got.pop_back();
    if (res.products_size() != 3) Fail("customer", call, got, "the 3 seeded products");
    Line("customer", call, got);
  }

  // --- a checkout the provider accepts -------------------------------------------
  orders::Cart Add(const Seeded& s, int quantity) {
    orders::AddCartItemRequest req;
    req.set_product_id(s.product.id());
    req.set_quantity(quantity);
    orders::AddCartItemResponse res;
    const std::string call =
        "orders.AddCartItem(" + s.product.name() + " x" + std::to_string(quantity) + ")";
    Must(orders_.AddCartItem(req, &res, As(access_)), "customer", call);
    Line("customer",
         call,
         "OK cart: " + std::to_string(res.cart().items_size()) +
             (res.cart().items_size() == 1 ? " line, " : " lines, ") +
             Money(res.cart().total_cents()));
    return res.cart();
  }

  orders::Order Checkout(const std::string& request_id, const std::string& label) {
    orders::CheckoutRequest req;
    req.set_request_id(request_id);
    orders::CheckoutResponse res;
    const std::string call = "orders.Checkout(request " + Short(request_id) + ")" + label;
    Must(orders_.Checkout(req, &res, As(access_)), "customer", call);
    Line("customer",
         call,
         "OK order " + Short(res.order().id()) + " " + StatusName(res.order().status()) + ", " +
             Money(res.order().total_cents()));
    return res.order();
  }

  void CheckoutAccepted() {
    const Seeded& kettle = seeded_[0];
    const Seeded& mug = seeded_[1];
    Add(kettle, 1);
    const orders::Cart cart = Add(mug, 2);
    if (cart.total_cents() != kettle.product.price_cents() + 2 * mug.product.price_cents())
      Fail("customer", "cart total", Money(cart.total_cents()), "the sum of the lines");
    const std::string request = Uuid();
    const orders::Order good = Checkout(request, "");
    // The same request again (a client retrying): the same order, no second one.
    const orders::Order again = Checkout(request, " again");
    if (again.id() != good.id())
      Fail("customer",
           "orders.Checkout again",
           "order " + Short(again.id()),
           "order " + Short(good.id()));
    confirmed_ = AwaitOrder(orders_,
                            access_,
                            good.id(),
                            orders::ORDER_STATUS_CONFIRMED,
                            "orders.GetOrder(" + Short(good.id()) + ") until the saga ends");
    ExpectStock(products_,
                kettle,
                kettle.initial_stock - 1,
                std::to_string(kettle.initial_stock) + ", 1 sold");
    ExpectStock(products_,
                mug,
                mug.initial_stock - 2,
                std::to_string(mug.initial_stock) + ", 2 sold");
  }

  // --- a checkout the provider declines ------------------------------------------
  void CheckoutDeclined() {
    const Seeded& espresso = seeded_[2];
    Add(espresso, 1);
    const orders::Order bad = Checkout(Uuid(), "");
    if (bad.total_cents() <= decline_above_)
      Fail("customer",
           "orders.Checkout",
           Money(bad.total_cents()),
           "a total above " + Money(decline_above_));
    cancelled_ = AwaitOrder(orders_,
                            access_,
                            bad.id(),
                            orders::ORDER_STATUS_CANCELLED,
                            "orders.GetOrder(" + Short(bad.id()) + ") until the saga ends");
    if (cancelled_.cancellation_reason() != orders::CANCELLATION_REASON_PAYMENT_FAILED)
      Fail("customer",
           "cancellation reason",
           orders::CancellationReason_Name(cancelled_.cancellation_reason()),
           "PAYMENT_FAILED");
    ExpectStock(products_,
                espresso,
                espresso.initial_stock,
                std::to_string(espresso.initial_stock) + ": reserved, then released");
  }

  // --- notifications ------------------------------------------------------------
  // Whether `res` holds a notification of each kind in `wanted`.
  static bool HasAll(const notifications::ListNotificationsResponse& res,
                     const std::vector<notifications::NotificationKind>& wanted) {
    for (auto kind : wanted) {
      bool found = false;
      for (const auto& n : res.notifications()) found = found || n.kind() == kind;
      if (!found) return false;
    }
    return true;
  }

  void ReadNotifications() {
    notifications::ListNotificationsRequest req;
    req.set_user_id(user_id_);
    notifications::ListNotificationsResponse res;
    Status last;
    const std::vector<notifications::NotificationKind> wanted = {
        notifications::NOTIFICATION_KIND_WELCOME,
        notifications::NOTIFICATION_KIND_ORDER_CONFIRMED,
        notifications::NOTIFICATION_KIND_PAYMENT_FAILED,
        notifications::NOTIFICATION_KIND_ORDER_CANCELLED};
    Poll([&] {
      res.Clear();
      last = notifications_.ListNotifications(req, &res, As(access_));
      return last.ok() && HasAll(res, wanted);
    });
    const std::string call = "notifications.ListNotifications(" + Short(user_id_) + ")";
    if (!last.ok()) Fail("customer", call, Describe(last), "OK");
    std::string got = std::to_string(res.notifications_size()) + " notifications";
    if (!HasAll(res, wanted) || res.notifications_size() != static_cast<int>(wanted.size()))
      Fail("customer",
           call,
           got,
           "welcome, order confirmed, payment failed, order cancelled (one each)");
    Line("customer", call, got + ", newest first:");
    for (const auto& n : res.notifications()) {
      std::printf("     %-16s %s\n",
                  notifications::NotificationKind_Name(n.kind())
                      .substr(std::string("NOTIFICATION_KIND_").size())
                      .c_str(),
                  n.title().c_str());
    }
  }

  // --- log out; the token is refused elsewhere -----------------------------------
  void LogOut() {
    auth::LogoutRequest req;
    req.set_refresh_token(refresh_);
    auth::LogoutResponse res;
    Must(auth_.Logout(req, &res, As(access_)), "customer", "auth.Logout");
    Line("customer", "auth.Logout", "OK");

    const auto start = Clock::now();
    Status last;
    Poll([&] {
      orders::GetCartResponse cart;
      last = orders_.GetCart(orders::GetCartRequest(), &cart, As(access_));
      return last.code() == StatusCode::kUnauthenticated;
    });
    const std::string call = "orders.GetCart with the logged-out token";
    if (last.code() != StatusCode::kUnauthenticated)
      Fail("customer", call, Describe(last), "UNAUTHENTICATED");
    Line("customer", call, Describe(last) + " after " + Secs(SecondsSince(start)));
  }

  // --- the table ----------------------------------------------------------------
  void PrintOrders() {
    std::printf("\nOrders\n  %-10s %-10s %10s  %s\n",
                "order",
                "status",
                "total",
                "payment / reason");
    for (const orders::Order* o : {&confirmed_, &cancelled_}) {
      std::string note = o->status() == orders::ORDER_STATUS_CONFIRMED
                             ? "payment " + Short(o->payment_id())
                             : o->cancellation_detail();
      std::printf("  %-10s %-10s %10s  %s\n",
                  Short(o->id()).c_str(),
                  StatusName(o->status()).c_str(),
                  Money(o->total_cents()).c_str(),
                  note.c_str());
    }
  }

  void PrintStock() {
    std::printf("\nStock\n  %-26s %8s %8s\n", "product", "before", "now");
    for (const Seeded& s : seeded_) {
      std::printf("  %-26s %8d %8d\n",
                  s.product.name().c_str(),
                  s.initial_stock,
                  StockOf(products_, s.product.id()));
    }
  }

  void PrintPayments() {
    std::printf("\nPayments\n  %-10s %-10s %10s  %s\n", "payment", "status", "amount", "order");
    payments::GetPaymentRequest req;
    req.set_payment_id(confirmed_.payment_id());
    payments::GetPaymentResponse res;
    Status s = payments_.GetPayment(req, &res, As(admin_));
    if (!s.ok())
      Fail("admin",
           "payments.GetPayment(" + Short(confirmed_.payment_id()) + ")",
           Describe(s),
           "OK");
    if (res.payment().status() != payments::PAYMENT_STATUS_SUCCEEDED ||
        res.payment().amount_cents() != confirmed_.total_cents())
      Fail("admin",
           "payments.GetPayment",
           payments::PaymentStatus_Name(res.payment().status()),
           "SUCCEEDED for the order's total");
    std::printf("  %-10s %-10s %10s  %s\n",
                Short(res.payment().id()).c_str(),
                payments::PaymentStatus_Name(res.payment().status())
                    .substr(std::string("PAYMENT_STATUS_").size())
                    .c_str(),
                Money(res.payment().amount_cents()).c_str(),
                Short(confirmed_.id()).c_str());
    std::printf("  %-10s %-10s %10s  %s (%s)\n",
                "-",
                "DECLINED",
                Money(cancelled_.total_cents()).c_str(),
                Short(cancelled_.id()).c_str(),
                cancelled_.cancellation_detail().c_str());
  }

  auth::AuthServiceClient auth_;
  products::ProductsServiceClient products_;
  orders::OrdersServiceClient orders_;
  payments::PaymentsServiceClient payments_;
  notifications::NotificationsServiceClient notifications_;
  const int64_t decline_above_;
  const std::string run_;
  std::string admin_;
  products::Category category_;
  std::vector<Seeded> seeded_;  // kettle, mug, espresso
  std::string user_id_, access_, refresh_;
  orders::Order confirmed_, cancelled_;
};

// Reads the flags; returns the exit code when the process should end now.
std::optional<int> ParseFlags(int argc, char** argv) {
  std::string env_file = std::getenv("SHOP_ENV") ? std::getenv("SHOP_ENV") : "";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--env" && i + 1 < argc) {
      env_file = argv[++i];
    } else if (arg == "--timeout" && i + 1 < argc) {
      poll_timeout = std::chrono::seconds(std::atoi(argv[++i]));
    } else {
      std::cerr << "shop_scenario: unknown argument '" << arg << "'\n" << kUsage;
      return 2;
    }
  }
  if (!env_file.empty() && !LoadEnvFile(env_file)) {
    std::cerr << "shop_scenario: cannot read " << env_file << "\n";
    return 2;
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  if (std::optional<int> exit_code = ParseFlags(argc, argv)) return *exit_code;
  Story().Tell();
  return 0;
}
