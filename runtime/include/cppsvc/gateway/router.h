// Matches HTTP requests against the path templates of the contract's `http`
// rules (the google.api.http grammar: literals, `*`, `**`, `{field}`,
// `{a.b=segments}` and a custom verb such as `:search`).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cppsvc::gateway {

class Router {
 public:
  // Adds route number `route` for `verb` ("GET", ...) and `path`. Throws
  // std::invalid_argument when `path` is not a valid template.
  void Add(std::string_view verb, std::string_view path, size_t route);

  struct Match {
    enum class Kind { kFound, kNotFound, kMethodNotAllowed };
    Kind kind = Kind::kNotFound;
    size_t route = 0;
    // Field path (as written in the template) -> percent-decoded value.
    std::vector<std::pair<std::string, std::string>> variables;
    // kMethodNotAllowed: the verbs the path has, sorted.
    std::vector<std::string> allowed;
  };
  // `path` is the request target without its query string. Among templates
  // that match, the one with the most literal segments wins (so /v1/users/me
  // beats /v1/users/{id}), then the first added.
  Match Find(std::string_view verb, std::string_view path) const;

 private:
  struct Segment {
    enum class Kind { kLiteral, kStar, kDoubleStar };
    Kind kind = Kind::kLiteral;
    std::string literal;
  };
  struct Variable {
    std::string field;
    size_t begin = 0;  // first segment
    size_t end = 0;    // one past the last segment
  };
  struct Template {
    std::string verb;
    std::vector<Segment> segments;
    std::vector<Variable> variables;
    std::string custom_verb;
    size_t literals = 0;
    size_t route = 0;
  };
  static Template Parse(std::string_view path);
  static bool Matches(const Template& t,
                      const std::vector<std::string_view>& segments,
                      std::vector<std::pair<std::string, std::string>>* variables);

  std::vector<Template> templates_;
};

// Decodes %XX escapes; false when an escape is malformed. With
// `plus_is_space` (query strings), '+' becomes ' '.
bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space = false);

}  // namespace cppsvc::gateway
