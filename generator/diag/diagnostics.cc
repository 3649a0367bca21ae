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

namespace {

// The length of the valid UTF-8 sequence starting at `i` (no overlong
// forms, surrogates or code points above U+10FFFF), or 0.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xC2 && c <= 0xDF   ? 2
             : c >= 0xE0 && c <= 0xEF ? 3
             : c >= 0xF0 && c <= 0xF4 ? 4
                                      : 0;
  if (n == 0 || i + n > s.size()) return 0;
  // The second byte's range narrows after some lead bytes.
  unsigned char lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
  unsigned char hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = i + 2; k < i + n; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// protobuf refuses to serialize a response whose error text is not UTF-8,
// so a stray byte quoted from a contract becomes U+FFFD instead.
std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8Length(s, i);
    out += n == 0 ? std::string_view("\xEF\xBF\xBD") : s.substr(i, n);
    i += n == 0 ? 1 : n;
  }
  return out;
}

}  // namespace

std::string OneLine(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7F) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
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
  return ValidUtf8(OneLine(out));
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

// Names longer than this are not compared character by character: no typo
// makes an identifier that long, and a comparison costs the product of the
// two lengths (a hostile 40,000-character name took seconds).
constexpr size_t kMaxComparedLength = 128;

// The edit distance of `a` and `b` when it is at most `bound`, else
// bound + 1. Only the diagonal band of width 2 * bound + 1 is computed, and
// the walk stops as soon as a whole row is over the bound.
size_t BoundedEditDistance(std::string_view a, std::string_view b, size_t bound) {
  const size_t over = bound + 1;
  if (a.size() > b.size() + bound || b.size() > a.size() + bound) return over;
  std::vector<size_t> row(b.size() + 1, over);
  for (size_t j = 0; j <= std::min(b.size(), bound); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    const size_t lo = i > bound ? i - bound : 1;
    const size_t hi = std::min(b.size(), i + bound);
    size_t diagonal = row[lo - 1];        // D[i-1][lo-1]
    row[lo - 1] = i <= bound ? i : over;  // D[i][lo-1]: the first column, or outside the band
    size_t row_min = row[lo - 1];
    for (size_t j = lo; j <= hi; ++j) {
      const size_t above = row[j];
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + cost, over});
      diagonal = above;
      row_min = std::min(row_min, row[j]);
    }
    if (row_min > bound) return over;
  }
  return std::min(row[b.size()], over);
}

std::string Suggestion(const std::string& name) {
  return " (did you mean '" + name + "'?)";
}

}  // namespace

std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates) {
  if (std::find(candidates.begin(), candidates.end(), name) != candidates.end()) return "";
  // A typo changes a few characters; anything further is a different name.
  size_t bound = std::max<size_t>(2, name.size() / 3);
  const std::string* best = nullptr;
  for (const std::string& c : candidates) {
    if (name.size() > kMaxComparedLength || c.size() > kMaxComparedLength) continue;
    size_t d = BoundedEditDistance(name, c, bound);
    if (d > bound || (best != nullptr && d == bound && c >= *best)) continue;
    best = &c;
    bound = d;  // only as close or closer candidates can win now
  }
  if (best != nullptr) return Suggestion(*best);
  // A truncated name ("item" for "item_id") is a typo too.
  if (name.size() >= 3) {
    for (const std::string& c : candidates) {
      if (c.size() > name.size() && c.compare(0, name.size(), name) == 0) return Suggestion(c);
    }
  }
  return "";
}

}  // namespace cppsvc::diag
