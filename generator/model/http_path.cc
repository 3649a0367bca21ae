#include "model/http_path.h"

#include <cctype>

namespace cppsvc::model {
namespace {

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}
bool IsLiteralChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
         c == '~' || c == '%';
}

class Parser {
 public:
  Parser(std::string_view in, PathTemplate& out, std::string& error)
      : in_(in), out_(out), error_(error) {}

  bool Parse() {
    if (in_.empty() || in_[0] != '/') return Fail("must start with '/'");
    out_.key.clear();
    out_.variables.clear();
    out_.named.clear();
    while (pos_ < in_.size() && in_[pos_] == '/') {
      out_.key += '/';
      out_.named += '/';
      ++pos_;
      if (!Segment(/*in_variable=*/false)) return false;
      if (pos_ < in_.size() && in_[pos_] == ':') break;
    }
    if (pos_ < in_.size() && in_[pos_] == ':') {
      out_.key += ':';
      ++pos_;
      size_t start = pos_;
      while (pos_ < in_.size() && IsLiteralChar(in_[pos_])) out_.key += in_[pos_++];
      if (pos_ == start) return Fail("expected a verb after ':'");
      out_.named += in_.substr(start - 1, pos_ - start + 1);
    }
    if (pos_ != in_.size()) return Unexpected();
    return true;
  }

 private:
  // The whole character at pos_: cutting a multi-byte UTF-8 character in
  // two would make the message invalid UTF-8, which protobuf refuses to
  // serialize into the plugin's response.
  std::string_view CharacterAt(size_t pos) const {
    size_t end = pos + 1;
    while (end < in_.size() && end - pos < 4 &&
           (static_cast<unsigned char>(in_[end]) & 0xC0) == 0x80) {
      ++end;
    }
    return in_.substr(pos, end - pos);
  }

  bool Unexpected() { return Fail("unexpected '" + std::string(CharacterAt(pos_)) + "'"); }

  bool Fail(const std::string& why) {
    error_ = "invalid path template '" + std::string(in_) + "': " + why;
    if (pos_ > 0 && pos_ < in_.size()) error_ += " at offset " + std::to_string(pos_);
    return false;
  }

  bool Segment(bool in_variable) {
    const size_t start = pos_;
    if (!SegmentKey(in_variable)) return false;
    if (!in_variable && in_[start] != '{') out_.named += in_.substr(start, pos_ - start);
    return true;
  }

  bool SegmentKey(bool in_variable) {
    if (pos_ >= in_.size()) return Fail("empty segment");
    if (after_double_wildcard_)
      return Fail("a segment follows '**', which matches the rest of the path and must come last");
    char c = in_[pos_];
    if (c == '*') {
      ++pos_;
      out_.key += '*';
      if (pos_ < in_.size() && in_[pos_] == '*') {
        ++pos_;
        out_.key += '*';
        after_double_wildcard_ = true;
      }
      return true;
    }
    if (c == '{') {
      if (in_variable) return Fail("nested variable");
      return Variable();
    }
    size_t start = pos_;
    while (pos_ < in_.size() && IsLiteralChar(in_[pos_])) out_.key += in_[pos_++];
    if (pos_ == start) return c == '/' ? Fail("empty segment") : Unexpected();
    return true;
  }

  bool Variable() {
    ++pos_;  // '{'
    std::string path;
    for (;;) {
      if (pos_ >= in_.size() || !IsIdentStart(in_[pos_]))
        return Fail("expected a field name in '{...}'");
      while (pos_ < in_.size() && IsIdentChar(in_[pos_])) path += in_[pos_++];
      if (pos_ < in_.size() && in_[pos_] == '.') {
        path += in_[pos_++];
        continue;
      }
      break;
    }
    for (const std::string& v : out_.variables) {
      if (v == path) return Fail("variable '" + path + "' bound twice");
    }
    out_.variables.push_back(path);
    out_.named += "{" + path + "}";
    out_.key += '{';
    if (pos_ < in_.size() && in_[pos_] == '=') {
      ++pos_;
      if (!Segment(/*in_variable=*/true)) return false;
      while (pos_ < in_.size() && in_[pos_] == '/') {
        out_.key += '/';
        ++pos_;
        if (!Segment(/*in_variable=*/true)) return false;
      }
    }
    if (pos_ >= in_.size() || in_[pos_] != '}') return Fail("expected '}'");
    ++pos_;
    out_.key += '}';
    return true;
  }

  std::string_view in_;
  PathTemplate& out_;
  std::string& error_;
  size_t pos_ = 0;
  bool after_double_wildcard_ = false;
};

}  // namespace

bool ParsePathTemplate(std::string_view path, PathTemplate& out, std::string& error) {
  return Parser(path, out, error).Parse();
}

}  // namespace cppsvc::model
