#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cppsvc/config/env.h"

namespace cppsvc::config {
namespace {

using std::chrono::milliseconds;

Env::Getter Fake(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string CheckMessage(const Env& env) {
  try {
    env.Check();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(Env, ValidConfigurationPasses) {
  Env env(Fake({{"ORDERS_DB_URL", "postgres://db/orders"},
                {"ORDERS_GRPC_PORT", "50051"},
                {"ORDERS_POOL", "16"},
                {"ORDERS_TIMEOUT", "250ms"},
                {"ORDERS_DEBUG", "true"},
                {"ORDERS_PEERS", " a:1 , b:2,,c:3 ,"}}));
  EXPECT_EQ(env.Required("ORDERS_DB_URL"), "postgres://db/orders");
  EXPECT_EQ(env.Port("ORDERS_GRPC_PORT", 1), 50051);
  EXPECT_EQ(env.Integer("ORDERS_POOL", 4, 1, 64), 16);
  EXPECT_EQ(env.Millis("ORDERS_TIMEOUT", milliseconds(1000)), milliseconds(250));
  EXPECT_TRUE(env.Flag("ORDERS_DEBUG", false));
  EXPECT_EQ(env.List("ORDERS_PEERS", {}), (std::vector<std::string>{"a:1", "b:2", "c:3"}));
  EXPECT_TRUE(env.problems().empty());
  EXPECT_NO_THROW(env.Check());
}

TEST(Env, FallbacksWhenUnsetOrEmpty) {
  Env env(Fake({{"EMPTY", ""}, {"BLANK", "   "}}));
  EXPECT_EQ(env.Optional("UNSET", "dflt"), "dflt");
  EXPECT_EQ(env.Optional("EMPTY", "dflt"), "dflt");
  EXPECT_EQ(env.Port("UNSET", 9090), 9090);
  EXPECT_EQ(env.Port("BLANK", 9090), 9090);
  EXPECT_EQ(env.Integer("UNSET", 7, 0, 10), 7);
  EXPECT_EQ(env.Millis("UNSET", milliseconds(1500)), milliseconds(1500));
  EXPECT_FALSE(env.Flag("UNSET", false));
  EXPECT_TRUE(env.Flag("EMPTY", true));
  EXPECT_EQ(env.List("UNSET", {"x", "y"}), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(env.problems().empty());
  EXPECT_NO_THROW(env.Check());
}

TEST(Env, ValueOrFileReadsTheFileWhenTheValueIsUnset) {
  const std::string path = ::testing::TempDir() + "/cppsvc_env_secret";
  {
    std::ofstream out(path);
    out << "from the file\n";
  }
  Env env(Fake({{"A", "inline"}, {"A_FILE", path}, {"B_FILE", path}, {"C_FILE", path + ".none"}}));
  EXPECT_EQ(env.ValueOrFile("A"), "inline");           // the value wins
  EXPECT_EQ(env.ValueOrFile("B"), "from the file\n");  // the whole file
  EXPECT_EQ(env.ValueOrFile("C"), "");
  EXPECT_EQ(env.ValueOrFile("D"), "");  // neither set: no problem
  ASSERT_EQ(env.problems().size(), 1u);
  EXPECT_EQ(env.problems()[0], "C_FILE: cannot read " + path + ".none");
  std::remove(path.c_str());
}

TEST(Env, OptionalReturnsTheValue) {
  Env env(Fake({{"LOG_LEVEL", "debug"}}));
  EXPECT_EQ(env.Optional("LOG_LEVEL", "info"), "debug");
}

TEST(Env, RequiredMissingOrEmpty) {
  Env env(Fake({{"EMPTY", ""}}));
  EXPECT_EQ(env.Required("ORDERS_DB_URL"), "");
  EXPECT_EQ(env.Required("EMPTY"), "");
  ASSERT_EQ(env.problems().size(), 2u);
  EXPECT_EQ(env.problems()[0], "ORDERS_DB_URL is required");
  EXPECT_EQ(env.problems()[1], "EMPTY is required");
}

TEST(Env, Ports) {
  Env env(Fake({{"A", "abc"},
                {"B", "0"},
                {"C", "65536"},
                {"D", "65535"},
                {"E", "1"},
                {"F", "80x"},
                {"G", "-1"},
                {"H", " 8080 "}}));
  EXPECT_EQ(env.Port("A", 5), 5);
  EXPECT_EQ(env.Port("B", 5), 5);
  EXPECT_EQ(env.Port("C", 5), 5);
  EXPECT_EQ(env.Port("D", 5), 65535);
  EXPECT_EQ(env.Port("E", 5), 1);
  EXPECT_EQ(env.Port("F", 5), 5);
  EXPECT_EQ(env.Port("G", 5), 5);
  EXPECT_EQ(env.Port("H", 5), 8080);
  EXPECT_EQ(env.problems(),
            (std::vector<std::string>{
                "A: 'abc' is not a port (1-65535)",
                "B: '0' is not a port (1-65535)",
                "C: '65536' is not a port (1-65535)",
                "F: '80x' is not a port (1-65535)",
                "G: '-1' is not a port (1-65535)",
            }));
}

TEST(Env, Integers) {
  Env env(Fake({{"X", "5"},
                {"Y", "15"},
                {"Z", "twelve"},
                {"N", "-3"},
                {"BIG", "99999999999999999999"},
                {"MIN", "-9223372036854775808"}}));
  EXPECT_EQ(env.Integer("X", 12, 10, 20), 12);
  EXPECT_EQ(env.Integer("Y", 12, 10, 20), 15);
  EXPECT_EQ(env.Integer("Z", 12, 10, 20), 12);
  EXPECT_EQ(env.Integer("N", 0, -5, 5), -3);
  EXPECT_EQ(env.Integer("BIG", 1, INT64_MIN, INT64_MAX), 1);
  EXPECT_EQ(env.Integer("MIN", 1, INT64_MIN, INT64_MAX), INT64_MIN);
  EXPECT_EQ(env.problems(),
            (std::vector<std::string>{
                "X: 5 is out of range [10, 20]",
                "Z: 'twelve' is not an integer",
                "BIG: '99999999999999999999' is not an integer",
            }));
}

TEST(Env, Durations) {
  Env env(Fake({{"A", "250"},
                {"B", "250ms"},
                {"C", "2s"},
                {"D", "1m"},
                {"E", "1h"},
                {"F", "fast"},
                {"G", "-5"},
                {"H", "1.5s"},
                {"I", "10 S"},
                {"J", "ms"}}));
  const milliseconds fb(42);
  EXPECT_EQ(env.Millis("A", fb), milliseconds(250));
  EXPECT_EQ(env.Millis("B", fb), milliseconds(250));
  EXPECT_EQ(env.Millis("C", fb), milliseconds(2000));
  EXPECT_EQ(env.Millis("D", fb), milliseconds(60000));
  EXPECT_EQ(env.Millis("E", fb), milliseconds(3600000));
  EXPECT_EQ(env.Millis("I", fb), milliseconds(10000));
  EXPECT_TRUE(env.problems().empty());
  EXPECT_EQ(env.Millis("F", fb), fb);
  EXPECT_EQ(env.Millis("G", fb), fb);
  EXPECT_EQ(env.Millis("H", fb), fb);
  EXPECT_EQ(env.Millis("J", fb), fb);
  ASSERT_EQ(env.problems().size(), 4u);
  EXPECT_EQ(env.problems()[0].rfind("F: 'fast' is not a duration", 0), 0u) << env.problems()[0];
}

TEST(Env, Flags) {
  Env env(Fake({{"T1", "true"},
                {"T2", "1"},
                {"T3", "YES"},
                {"T4", "On"},
                {"F1", "false"},
                {"F2", "0"},
                {"F3", "no"},
                {"F4", "OFF"},
                {"BAD", "maybe"}}));
  for (const char* name : {"T1", "T2", "T3", "T4"}) EXPECT_TRUE(env.Flag(name, false)) << name;
  for (const char* name : {"F1", "F2", "F3", "F4"}) EXPECT_FALSE(env.Flag(name, true)) << name;
  EXPECT_TRUE(env.Flag("BAD", true));
  ASSERT_EQ(env.problems().size(), 1u);
  EXPECT_EQ(env.problems()[0].rfind("BAD: 'maybe' is not a boolean", 0), 0u) << env.problems()[0];
}

TEST(Env, ListDropsEmptyEntries) {
  Env env(Fake({{"L", ",,  ,"}, {"ONE", "solo"}}));
  EXPECT_TRUE(env.List("L", {"fallback"}).empty());
  EXPECT_EQ(env.List("ONE", {}), (std::vector<std::string>{"solo"}));
}

TEST(Env, CheckListsEveryProblemInOneMessage) {
  Env env(Fake({{"ORDERS_GRPC_PORT", "abc"}, {"ORDERS_POOL", "5"}, {"ORDERS_DEBUG", "maybe"}}));
  env.Required("ORDERS_DB_URL");
  env.Port("ORDERS_GRPC_PORT", 50051);
  env.Integer("ORDERS_POOL", 12, 10, 20);
  env.Flag("ORDERS_DEBUG", false);
  env.Required("ORDERS_JWT_SECRET");
  EXPECT_EQ(env.problems().size(), 5u);
  EXPECT_THROW(env.Check(), std::runtime_error);
  std::string message = CheckMessage(env);
  EXPECT_EQ(message.rfind("configuration: ", 0), 0u) << message;
  EXPECT_NE(message.find("ORDERS_DB_URL is required"), std::string::npos) << message;
  EXPECT_NE(message.find("ORDERS_GRPC_PORT: 'abc' is not a port (1-65535)"), std::string::npos);
  EXPECT_NE(message.find("ORDERS_POOL: 5 is out of range [10, 20]"), std::string::npos);
  EXPECT_NE(message.find("ORDERS_DEBUG: 'maybe' is not a boolean"), std::string::npos);
  EXPECT_NE(message.find("ORDERS_JWT_SECRET is required"), std::string::npos);
  EXPECT_NE(message.find("ORDERS_DB_URL is required; ORDERS_GRPC_PORT"), std::string::npos);
}

TEST(Env, CallerProblemsAreListedToo) {
  Env env(Fake({}));
  env.Required("A");
  env.Problem("B or C is required");
  EXPECT_EQ(CheckMessage(env), "configuration: A is required; B or C is required");
}

TEST(Env, ReadsTheProcessEnvironment) {
  ::setenv("CPPSVC_ENV_TEST_PORT", "8081", 1);
  ::unsetenv("CPPSVC_ENV_TEST_MISSING");
  Env env;
  EXPECT_EQ(env.Port("CPPSVC_ENV_TEST_PORT", 1), 8081);
  env.Required("CPPSVC_ENV_TEST_MISSING");
  EXPECT_EQ(CheckMessage(env), "configuration: CPPSVC_ENV_TEST_MISSING is required");
  ::unsetenv("CPPSVC_ENV_TEST_PORT");
}

}  // namespace
}  // namespace cppsvc::config
