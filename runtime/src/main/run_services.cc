#include <algorithm>
#include <csignal>
#include <iostream>
#include <optional>

#include <absl/synchronization/mutex.h>

#include "cppsvc/config/env.h"
#include "cppsvc/impl/main.h"
#include "service_process.h"
#include "service_settings.h"

namespace cppsvc::impl {

std::vector<std::string> CheckServiceEnvironment(const ServiceEntry& entry) {
  config::Env env;
  ReadSettings(entry.spec, env);
  return env.problems();
}

namespace {

// "  NAME  doc (default: x)": a variable the configuration step read, with
// its entry in config/service_variables.h.
std::string VariableLine(const ServiceSpec& spec, const std::string& name) {
  std::string line = "  " + name;
  const config::ServiceVariable* v = FindVariable(spec, name);
  if (v == nullptr) return line;
  line.resize(std::max<size_t>(line.size() + 2, 40), ' ');
  line += std::string(v->doc);
  if (v->required) line += " (required)";
  if (!v->fallback.empty()) line += " (default " + std::string(v->fallback) + ")";
  return line;
}

void PrintUsage(const std::string& binary, const std::vector<ServiceEntry>& services) {
  std::cout << "usage: " << binary << " [service] [command]\n\n"
            << "Runs a service until SIGTERM or SIGINT (with one service, its name may be\n"
            << "left out). Commands:\n"
            << "  relay                        only the outbox relay, no servers\n"
            << "  dead-letters list [consumer] the dead letters, as JSON\n"
            << "  dead-letters replay <id>     delivers a dead letter again\n"
            << "  sagas list [--status S] [--saga NAME]\n"
            << "                               the sagas it owns, newest first, as JSON\n"
            << "  sagas show <id>              one saga with its step history\n";
  for (const ServiceEntry& e : services) {
    std::cout << "\nService " << e.spec.name << " reads these environment variables (a missing\n"
              << "or malformed one stops it at start, listing every problem):\n";
    for (const std::string& name : VariablesRead(e.spec))
      std::cout << VariableLine(e.spec, name) << "\n";
  }
}

}  // namespace

void DisableMutexDeadlockDetection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int RunServices(int argc, char** argv, const std::vector<ServiceEntry>& services) {
  DisableMutexDeadlockDetection();
  sigset_t signals = BlockStopSignals();

  std::string wanted = argc > 1 ? argv[1] : "";
  if (wanted == "--help" || wanted == "-h") {
    PrintUsage(argc > 0 ? argv[0] : "service", services);
    return 0;
  }
  std::string names;
  for (const ServiceEntry& e : services) {
    names += (names.empty() ? "" : ", ") + std::string(e.spec.name);
    if (e.spec.name == wanted) {
      return ServiceProcess(e, signals).Run(std::vector<std::string>(argv + 2, argv + argc));
    }
    if (services.size() == 1 &&
        (wanted.empty() || wanted == "relay" || wanted == "dead-letters" || wanted == "sagas")) {
      return ServiceProcess(e, signals).Run(std::vector<std::string>(argv + 1, argv + argc));
    }
  }
  std::cerr << (argc > 0 ? argv[0] : "service") << ": "
            << (wanted.empty() ? "name the service to run" : "unknown service '" + wanted + "'")
            << "; this binary serves: " << names << std::endl;
  return 2;
}

}  // namespace cppsvc::impl
