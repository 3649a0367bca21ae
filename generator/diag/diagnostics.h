// Located diagnostics: every problem found in a contract, kept structured until
// the plugin boundary turns them into `file:line:col: severity: message` lines.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cppsvc::diag {

// A 1-based position in a .proto file, as protoc reports it. line == 0 means
// the file is known but not the position (no source info for it).
struct Span {
  std::string file;
  int line = 0;
  int column = 0;
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  Span span;
  Severity severity = Severity::kError;
  std::string message;  // lowercase, no final period
};

// Collects diagnostics in the order they are found; Sorted() gives the
// deterministic report order (file, line, column, then message).
class Diagnostics {
 public:
  void Error(const Span& span, std::string message);
  void Warning(const Span& span, std::string message);

  bool HasErrors() const;
  const std::vector<Diagnostic>& All() const { return items_; }
  std::vector<Diagnostic> Sorted() const;

  // Promotes every warning to an error (the `werror=true` option).
  void PromoteWarnings();

 private:
  std::vector<Diagnostic> items_;
};

std::string Format(const Diagnostic& d);

// `s` with its control characters escaped (\n, \t, \xNN): one diagnostic is
// one line, also when it quotes a name or option holding a newline.
std::string OneLine(std::string_view s);

// Joins Format() of the sorted diagnostics of one severity, one per line,
// without a trailing newline.
std::string FormatAll(const Diagnostics& diags, Severity severity);

// " (did you mean 'x'?)" for the candidate closest to `name` by edit
// distance, or "" when none is close enough to be a plausible typo.
std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace cppsvc::diag
