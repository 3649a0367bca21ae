// The configuration step reads exactly the rows of
// cppsvc/config/service_variables.h that apply to a service: the table the
// generator writes deployment files from.
#include "cppsvc/config/service_variables.h"

#include "cppsvc/config/gateway_variables.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "main/gateway_settings.h"
#include "main/service_settings.h"

namespace cppsvc::impl {
namespace {

std::set<std::string> FromTable(const ServiceSpec& spec, const std::string& prefix) {
  std::set<std::string> names;
  for (const config::ServiceVariable* v : config::kServiceVariables) {
    if (config::Reads(*v, ShapeOf(spec), /*revocation=*/true)) {
      names.insert(v->prefixed ? prefix + std::string(v->name) : std::string(v->name));
    }
  }
  return names;
}

std::set<std::string> Read(const ServiceSpec& spec) {
  std::vector<std::string> names = VariablesRead(spec);
  return {names.begin(), names.end()};
}

ServiceSpec Spec(std::string_view database, bool nats, bool publishes, size_t subscriptions) {
  ServiceSpec spec;
  spec.name = "shop-cart";
  spec.database = database;
  spec.serves_nats = nats;
  spec.publishes = publishes;
  spec.subscriptions = subscriptions;
  return spec;
}

TEST(ServiceVariables, TheConfigurationStepReadsExactlyTheTableRowsThatApply) {
  const ServiceSpec shapes[] = {
      Spec("", false, false, 0),      // stateless
      Spec("", true, false, 0),       // NATS request-reply only
      Spec("cart", false, false, 0),  // a database, no events
      Spec("cart", false, true, 0),   // publishes
      Spec("cart", true, false, 2),   // consumes
  };
  for (const ServiceSpec& spec : shapes) {
    EXPECT_EQ(Read(spec), FromTable(spec, "SHOP_CART_"))
        << "database '" << spec.database << "' nats " << spec.serves_nats << " publishes "
        << spec.publishes << " subscriptions " << spec.subscriptions;
  }
}

TEST(ServiceVariables, EventsNeedADatabase) {
  EXPECT_FALSE(HasEvents(Spec("", true, true, 1)));
  EXPECT_TRUE(HasEvents(Spec("cart", false, true, 0)));
  EXPECT_TRUE(HasEvents(Spec("cart", false, false, 1)));
  EXPECT_FALSE(HasEvents(Spec("cart", true, false, 0)));
}

TEST(ServiceVariables, EveryVariableReadHasItsRow) {
  const ServiceSpec spec = Spec("cart", true, true, 1);
  for (const std::string& name : VariablesRead(spec)) {
    const config::ServiceVariable* v = FindVariable(spec, name);
    ASSERT_NE(v, nullptr) << name;
    EXPECT_FALSE(v->doc.empty()) << name;
  }
}

TEST(ServiceVariables, NamesAreUniqueAndNumericDefaultsParse) {
  std::set<std::string> names;
  for (const config::ServiceVariable* v : config::kServiceVariables) {
    EXPECT_TRUE(names.insert(std::string(v->name)).second) << v->name;
    if (v->max > 0 && !v->fallback.empty()) {
      EXPECT_GE(config::DefaultNumber(*v), v->min) << v->name;
      EXPECT_LE(config::DefaultNumber(*v), v->max) << v->name;
    }
  }
}

GatewaySpec TwoBackendGateway() {
  GatewaySpec spec;
  spec.name = "edge";
  AddGatewayBackend(spec, "shop.v1.CartService", "CART", "127.0.0.1:3001", nullptr);
  AddGatewayBackend(spec, "shop.v1.OrdersService", "ORDERS", "127.0.0.1:3002", nullptr);
  return spec;
}

TEST(GatewayVariables, TheConfigurationStepReadsExactlyTheTableRowsAndOnePerBackend) {
  const GatewaySpec spec = TwoBackendGateway();
  std::set<std::string> expected = {"EDGE_CART_ADDRESSES", "EDGE_ORDERS_ADDRESSES"};
  for (const config::ServiceVariable* v : config::kGatewayVariables) {
    expected.insert(v->prefixed ? "EDGE_" + std::string(v->name) : std::string(v->name));
  }
  std::vector<std::string> names = GatewayVariables(spec);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), expected);
  EXPECT_EQ(BackendAddressesName(spec, spec.backends[1]), "EDGE_ORDERS_ADDRESSES");
}

TEST(GatewayVariables, TheTablesPortsAreTheSpecsDefaults) {
  const GatewaySpec spec;
  EXPECT_EQ(config::DefaultNumber(config::gateway_vars::kHttpPort), spec.http_port);
  EXPECT_EQ(config::DefaultNumber(config::gateway_vars::kAdminPort), spec.admin_port);
}

TEST(GatewayVariables, NamesAreUniqueAndNumericDefaultsParse) {
  std::set<std::string> names;
  for (const config::ServiceVariable* v : config::kGatewayVariables) {
    EXPECT_TRUE(names.insert(std::string(v->name)).second) << v->name;
    EXPECT_FALSE(v->doc.empty()) << v->name;
    if (v->max > 0) {
      EXPECT_GE(config::DefaultNumber(*v), v->min) << v->name;
      EXPECT_LE(config::DefaultNumber(*v), v->max) << v->name;
    }
  }
}

}  // namespace
}  // namespace cppsvc::impl
