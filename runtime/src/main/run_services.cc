#include <csignal>
#include <iostream>

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

void DisableMutexDeadlockDetection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

int RunServices(int argc, char** argv, const std::vector<ServiceEntry>& services) {
  DisableMutexDeadlockDetection();
  // Signals are taken synchronously by the main thread; block them before
  // any other thread starts so none of those receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::string wanted = argc > 1 ? argv[1] : "";
  std::string names;
  for (const ServiceEntry& e : services) {
    names += (names.empty() ? "" : ", ") + std::string(e.spec.name);
    if (e.spec.name == wanted) {
      return ServiceProcess(e, signals).Run(std::vector<std::string>(argv + 2, argv + argc));
    }
    if (services.size() == 1 && (wanted.empty() || wanted == "relay" || wanted == "dead-letters")) {
      return ServiceProcess(e, signals).Run(std::vector<std::string>(argv + 1, argv + argc));
    }
  }
  std::cerr << (argc > 0 ? argv[0] : "service") << ": "
            << (wanted.empty() ? "name the service to run" : "unknown service '" + wanted + "'")
            << "; this binary serves: " << names << std::endl;
  return 2;
}

}  // namespace cppsvc::impl
