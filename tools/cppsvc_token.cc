// cppsvc-token: signs a token for calling a service in development, with the
// same CPPSVC_JWT_* settings the services read (the private key for RS256
// and ES256, whose public half the services hold).
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cppsvc/auth/jwt.h"
#include "cppsvc/config/env.h"

namespace {

constexpr std::string_view kUsage =
    R"usage(usage: cppsvc-token --sub <subject> [--role <role>]... [--ttl <seconds>] [--jti <id>]

Prints a signed access token on stdout, e.g. for grpcurl:
  grpcurl -plaintext -H "authorization: Bearer $(cppsvc-token --sub u1 --role customer)" ...

Reads the settings the services read:
  CPPSVC_JWT_ALGORITHM                  HS256, RS256 or ES256
  CPPSVC_JWT_KEY or CPPSVC_JWT_KEY_FILE  HS256: the shared secret
  CPPSVC_JWT_PRIVATE_KEY[_FILE]         RS256/ES256: the PEM private key
  CPPSVC_JWT_ISSUER, CPPSVC_JWT_AUDIENCE
--ttl defaults to 900 seconds; --jti to a random id.
)usage";

struct Args {
  cppsvc::auth::TokenClaims claims;
  std::vector<std::string> problems;
  bool help = false;
};

Args Parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      args.help = true;
      continue;
    }
    if (i + 1 >= argc) {
      args.problems.push_back(std::string(flag) + " needs a value");
      break;
    }
    const std::string value = argv[++i];
    if (flag == "--sub") {
      args.claims.subject = value;
    } else if (flag == "--role") {
      args.claims.roles.push_back(value);
    } else if (flag == "--jti") {
      args.claims.token_id = value;
    } else if (flag == "--ttl" && value.find_first_not_of("0123456789") == std::string::npos &&
               value.size() <= 9) {
      args.claims.ttl = std::chrono::seconds(std::stol(value));
    } else if (flag == "--ttl") {
      args.problems.push_back("--ttl: '" + value + "' is not a number of seconds");
    } else {
      args.problems.push_back("unknown option '" + std::string(flag) + "'");
    }
  }
  if (!args.help && args.claims.subject.empty()) args.problems.push_back("--sub is required");
  return args;
}

cppsvc::auth::JwtConfig Config(cppsvc::config::Env& env) {
  cppsvc::auth::JwtConfig config;
  const std::string alg = env.Required("CPPSVC_JWT_ALGORITHM");
  if (!alg.empty() && !cppsvc::auth::ParseAlgorithm(alg, config.algorithm))
    env.Problem("CPPSVC_JWT_ALGORITHM: '" + alg + "' is not one of HS256, RS256, ES256");
  const bool hs = config.algorithm == cppsvc::auth::Algorithm::kHS256;
  const std::string name = hs ? "CPPSVC_JWT_KEY" : "CPPSVC_JWT_PRIVATE_KEY";
  config.key = env.ValueOrFile(name);
  if (config.key.empty()) env.Problem(name + " or " + name + "_FILE is required");
  config.issuer = env.Required("CPPSVC_JWT_ISSUER");
  config.audience = env.Required("CPPSVC_JWT_AUDIENCE");
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = Parse(argc, argv);
  if (args.help) {
    std::cout << kUsage;
    return 0;
  }
  cppsvc::config::Env env;
  cppsvc::auth::JwtConfig config = Config(env);
  for (std::string& problem : args.problems) env.Problem(std::move(problem));
  try {
    env.Check();
    std::cout << cppsvc::auth::JwtSigner(std::move(config)).Sign(args.claims) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "cppsvc-token: " << e.what() << "\n" << kUsage;
    return 2;
  }
}
