#include "diag/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace cppsvc::diag {

void Diagnostics::Error(const Span& span, std::string message) {
  items_.push_back({span, Severity::kError, std::move(message)});
}

void Diagnostics::Warning(const Span& span, std::string message) {
  items_.push_back({span, Severity::kWarning, std::move(message)});
}

bool Diagnostics::HasErrors() const {
  return std::any_of(items_.begin(), items_.end(), [](const Diagnostic& d) {
    return d.severity == Severity::kError;
  });
}

std::vector<Diagnostic> Diagnostics::Sorted() const {
  std::vector<Diagnostic> sorted = items_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.span.file, a.span.line, a.span.column, a.message) <
           std::tie(b.span.file, b.span.line, b.span.column, b.message);
  });
  sorted.erase(std::unique(sorted.begin(),
                           sorted.end(),
                           [](const Diagnostic& a, const Diagnostic& b) {
                             return a.severity == b.severity && a.message == b.message &&
                                    a.span.file == b.span.file && a.span.line == b.span.line &&
                                    a.span.column == b.span.column;
                           }),
               sorted.end());
  return sorted;
}

void Diagnostics::PromoteWarnings() {
  for (Diagnostic& d : items_) d.severity = Severity::kError;
}

std::string Format(const Diagnostic& d) {
  std::string out = d.span.file;
  if (d.span.line > 0) {
    // Appended piecewise: GCC 12 at -O3 reports a false -Wrestrict on the
    // concatenation.
    out += ':';
    out += std::to_string(d.span.line);
    out += ':';
    out += std::to_string(d.span.column);
  }
  out += d.severity == Severity::kError ? ": error: " : ": warning: ";
  out += d.message;
  return out;
}

std::string FormatAll(const Diagnostics& diags, Severity severity) {
  std::string out;
  for (const Diagnostic& d : diags.Sorted()) {
    if (d.severity != severity) continue;
    if (!out.empty()) out += '\n';
    out += Format(d);
  }
  return out;
}

namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  size_t best_distance = 0;
  for (const std::string& c : candidates) {
    size_t d = EditDistance(name, c);
    if (best == nullptr || d < best_distance || (d == best_distance && c < *best)) {
      best = &c;
      best_distance = d;
    }
  }
  // A typo changes a few characters; anything further is a different name.
  size_t limit = std::max<size_t>(2, name.size() / 3);
  if (best != nullptr && best_distance > 0 && best_distance <= limit)
    return " (did you mean '" + *best + "'?)";
  // A truncated name ("item" for "item_id") is a typo too.
  if (name.size() >= 3) {
    for (const std::string& c : candidates) {
      if (c.size() > name.size() && c.compare(0, name.size(), name) == 0)
        return " (did you mean '" + c + "'?)";
    }
  }
  return "";
}

}  // namespace cppsvc::diag
