// Configuration from environment variables only. Every problem is collected
// so a misconfigured service fails fast with one message listing all of them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cppsvc::config {

class Env {
 public:
  using Getter = std::function<std::optional<std::string>(const std::string&)>;
  Env();  // reads the process environment
  explicit Env(Getter getter);

  std::string Required(const std::string& name);
  std::string Optional(const std::string& name, const std::string& fallback);
  uint16_t Port(const std::string& name, uint16_t fallback);
  int64_t Integer(const std::string& name, int64_t fallback, int64_t min, int64_t max);
  std::chrono::milliseconds Millis(const std::string& name, std::chrono::milliseconds fallback);
  bool Flag(const std::string& name, bool fallback);
  // Comma-separated list, entries trimmed, empty entries dropped.
  std::vector<std::string> List(const std::string& name, const std::vector<std::string>& fallback);

  // NAME's value, else the whole content of the file named by NAME_FILE (a
  // problem when it cannot be read), for secrets kept in files; "" when
  // neither is set.
  std::string ValueOrFile(const std::string& name);
  // Records a problem found by the caller's own checks.
  void Problem(std::string text) { problems_.push_back(std::move(text)); }

  const std::vector<std::string>& problems() const { return problems_; }
  // Throws std::runtime_error("configuration: <problem>; <problem>...") when
  // any problem was found.
  void Check() const;

 private:
  Getter get_;
  std::vector<std::string> problems_;
};

}  // namespace cppsvc::config
