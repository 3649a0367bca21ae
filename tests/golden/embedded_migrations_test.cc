// The commerce migrations as the services run them: the .sql files embedded
// at build time must be the checked-in files byte for byte, and hash to the
// checksum the schema lock recorded when they were first generated (and so to
// what every database that applied them recorded: a different checksum would
// make ApplyMigrations refuse to start the service).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "commerce/auth/v1/auth.cppsvc.migrations.h"
#include "commerce/gateway/v1/gateway.cppsvc.migrations.h"
#include "commerce/notifications/v1/notifications.cppsvc.migrations.h"
#include "commerce/orders/v1/orders.cppsvc.migrations.h"
#include "commerce/payments/v1/payments.cppsvc.migrations.h"
#include "commerce/products/v1/products.cppsvc.migrations.h"
#include "commerce/roles/v1/roles.cppsvc.migrations.h"
#include "cppsvc/db/migrations.h"

namespace {

using ::cppsvc::db::Migration;
namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Contract {
  std::string base;  // proto path without .proto
  const std::vector<Migration>& (*migrations)();
};

const std::vector<Contract>& Contracts() {
  static const std::vector<Contract> kContracts = {
      {"commerce/auth/v1/auth", commerce::auth::v1::AuthMigrations},
      {"commerce/notifications/v1/notifications",
       commerce::notifications::v1::NotificationsMigrations},
      {"commerce/orders/v1/orders", commerce::orders::v1::OrdersMigrations},
      {"commerce/payments/v1/payments", commerce::payments::v1::PaymentsMigrations},
      {"commerce/products/v1/products", commerce::products::v1::ProductsMigrations},
  };
  return kContracts;
}

TEST(EmbeddedMigrations, MatchTheLockedChecksumsAndTheSqlFiles) {
  for (const Contract& c : Contracts()) {
    SCOPED_TRACE(c.base);
    const fs::path lock_path = fs::path(CPPSVC_SPECS_DIR) / (c.base + ".schema.lock.json");
    const nlohmann::json lock = nlohmann::json::parse(ReadFile(lock_path));
    const nlohmann::json& locked = lock.at("migrations");
    const std::vector<Migration>& embedded = c.migrations();
    ASSERT_EQ(embedded.size(), locked.size());
    const fs::path dir = (fs::path(CPPSVC_GENERATED_DIR) / c.base).parent_path() / "migrations";
    for (size_t i = 0; i < embedded.size(); ++i) {
      const Migration& m = embedded[i];
      EXPECT_EQ(m.name, locked[i].at("name").get<std::string>());
      EXPECT_EQ(::cppsvc::db::Sha256Hex(m.sql), locked[i].at("sha256").get<std::string>())
          << m.name;
      EXPECT_EQ(m.sql, ReadFile(dir / (m.name + ".sql"))) << m.name;
    }
  }
}

TEST(EmbeddedMigrations, NoneForFilesWithoutADatabase) {
  EXPECT_TRUE(commerce::gateway::v1::GatewayMigrations().empty());
  EXPECT_TRUE(commerce::roles::v1::RolesMigrations().empty());
}

}  // namespace
