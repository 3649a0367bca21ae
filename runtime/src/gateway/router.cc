#include "cppsvc/gateway/router.h"

#include <algorithm>
#include <stdexcept>

namespace cppsvc::gateway {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t slash = s.find('/', start);
    out.push_back(s.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

// The position of the custom verb's ':' (outside braces, after the last
// '/'), or npos.
size_t CustomVerbColon(std::string_view path) {
  size_t depth = 0;
  size_t colon = std::string_view::npos;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') ++depth;
    if (path[i] == '}' && depth > 0) --depth;
    if (depth == 0 && path[i] == '/') colon = std::string_view::npos;
    if (depth == 0 && path[i] == ':') colon = i;
  }
  return colon;
}

// The request path's segments for template `custom_verb`: empty and false
// when the path does not end with that verb.
bool RequestSegments(std::string_view path,
                     const std::string& custom_verb,
                     std::vector<std::string_view>& out) {
  if (path.empty() || path[0] != '/') return false;
  path.remove_prefix(1);
  if (!custom_verb.empty()) {
    const size_t colon = path.rfind(':');
    if (colon == std::string_view::npos || path.find('/', colon) != std::string_view::npos ||
        path.substr(colon + 1) != custom_verb)
      return false;
    path = path.substr(0, colon);
  }
  out = Split(path);
  return true;
}

}  // namespace

bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (in[i] != '%') {
      out.push_back(in[i]);
    } else {
      const int hi = i + 1 < in.size() ? HexValue(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return true;
}

Router::Template Router::Parse(std::string_view path) {
  if (path.empty() || path[0] != '/')
    throw std::invalid_argument("path template must start with '/'");
  Template t;
  const size_t colon = CustomVerbColon(path);
  std::string_view body = path.substr(1, colon == std::string_view::npos ? colon : colon - 1);
  if (colon != std::string_view::npos) t.custom_verb = std::string(path.substr(colon + 1));
  auto add = [&t](std::string_view seg) {
    Segment s;
    if (seg == "*")
      s.kind = Segment::Kind::kStar;
    else if (seg == "**")
      s.kind = Segment::Kind::kDoubleStar;
    else
      s.literal = std::string(seg), ++t.literals;
    t.segments.push_back(std::move(s));
  };
  size_t i = 0;
  while (true) {
    if (i < body.size() && body[i] == '{') {
      const size_t close = body.find('}', i);
      if (close == std::string_view::npos)
        throw std::invalid_argument("unclosed '{' in path template");
      const std::string_view inner = body.substr(i + 1, close - i - 1);
      const size_t eq = inner.find('=');
      Variable v{std::string(inner.substr(0, eq)), t.segments.size(), 0};
      for (std::string_view seg : Split(eq == std::string_view::npos ? "*" : inner.substr(eq + 1)))
        add(seg);
      v.end = t.segments.size();
      t.variables.push_back(std::move(v));
      i = close + 1;
    } else {
      const size_t next = std::min(body.find('/', i), body.size());
      add(body.substr(i, next - i));
      i = next;
    }
    if (i >= body.size()) return t;
    if (body[i] != '/') throw std::invalid_argument("expected '/' after a path variable");
    ++i;
  }
}

void Router::Add(std::string_view verb, std::string_view path, size_t route) {
  Template t = Parse(path);
  t.verb = std::string(verb);
  t.route = route;
  templates_.push_back(std::move(t));
}

bool Router::Matches(const Template& t,
                     const std::vector<std::string_view>& segments,
                     std::vector<std::pair<std::string, std::string>>* variables) {
  std::vector<size_t> starts(t.segments.size() + 1, 0);
  size_t j = 0;
  std::string decoded;
  for (size_t k = 0; k < t.segments.size(); ++k) {
    starts[k] = j;
    const Segment& seg = t.segments[k];
    if (seg.kind == Segment::Kind::kDoubleStar) {
      const size_t rest = t.segments.size() - k - 1;
      if (segments.size() < j + rest) return false;
      j = segments.size() - rest;
      continue;
    }
    if (j >= segments.size()) return false;
    if (seg.kind == Segment::Kind::kLiteral &&
        (!PercentDecode(segments[j], decoded) || decoded != seg.literal))
      return false;
    if (seg.kind == Segment::Kind::kStar && segments[j].empty()) return false;
    ++j;
  }
  starts[t.segments.size()] = j;
  if (j != segments.size()) return false;
  for (const Variable& v : t.variables) {
    std::string raw;
    for (size_t s = starts[v.begin]; s < starts[v.end]; ++s)
      raw.append(s == starts[v.begin] ? "" : "/").append(segments[s]);
    if (!PercentDecode(raw, decoded)) return false;
    if (variables != nullptr) variables->emplace_back(v.field, decoded);
  }
  return true;
}

Router::Match Router::Find(std::string_view verb, std::string_view path) const {
  Match m;
  const Template* best = nullptr;
  std::vector<std::string_view> segments;
  std::vector<std::string_view> best_segments;
  for (const Template& t : templates_) {
    if (!RequestSegments(path, t.custom_verb, segments) || !Matches(t, segments, nullptr)) continue;
    if (t.verb != verb) {
      if (std::find(m.allowed.begin(), m.allowed.end(), t.verb) == m.allowed.end())
        m.allowed.push_back(t.verb);
    } else if (best == nullptr || t.literals > best->literals) {
      best = &t;
      best_segments = segments;
    }
  }
  if (best != nullptr) {
    m.kind = Match::Kind::kFound;
    m.route = best->route;
    m.allowed.clear();
    Matches(*best, best_segments, &m.variables);
  } else if (!m.allowed.empty()) {
    m.kind = Match::Kind::kMethodNotAllowed;
    std::sort(m.allowed.begin(), m.allowed.end());
  }
  return m;
}

}  // namespace cppsvc::gateway
