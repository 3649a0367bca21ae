#include "model/option_text.h"

#include <utility>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace cppsvc::model {
namespace {

namespace io = google::protobuf::io;

class Quiet : public io::ErrorCollector {
 public:
  void AddError(int, io::ColumnNumber, const std::string&) override {}
};

// Recursive descent over the tokens of one option statement (protobuf's
// text format inside the braces), streaming: nothing after the value it
// looks for is read.
class Locator {
 public:
  Locator(std::string_view text, int first_line)
      : input_(text.data(), static_cast<int>(text.size())),
        tokens_(&input_, &quiet_),
        first_line_(first_line) {
    tokens_.set_comment_style(io::Tokenizer::CPP_COMMENT_STYLE);
    ok_ = tokens_.Next();
  }

  // Skips tokens before `column` on the first line, then reads the
  // statement's head up to '='; returns the field names after the
  // extension's ')' (`(ext).validate = ...` gives {"validate"}).
  std::optional<std::vector<std::string>> Head(int column) {
    while (ok_ && Current().line == 0 && Current().column + 1 < column) Next();
    if (Is("option")) Next();
    if (!Is("(")) return std::nullopt;
    while (ok_ && !Is(")")) Next();
    Next();
    std::vector<std::string> prefix;
    while (Is(".")) {
      Next();
      if (!ok_ || Current().type != io::Tokenizer::TYPE_IDENTIFIER) return std::nullopt;
      prefix.push_back(Current().text);
      Next();
    }
    if (!Is("=")) return std::nullopt;
    Next();
    return prefix;
  }

  TextPosition Here() const { return {first_line_ + Current().line, Current().column + 1}; }

  // In the message value starting here ('{' or '<'), the position `path` names.
  std::optional<TextPosition> Find(const std::vector<OptionKey>& path, size_t at) {
    if (!Is("{") && !Is("<")) return std::nullopt;
    const std::string close = Is("{") ? "}" : ">";
    Next();
    const bool indexed = at + 1 < path.size() && path[at + 1].key.empty();
    int seen = 0;  // elements of the wanted field so far
    while (ok_ && !Is(close)) {
      const TextPosition key_at = Here();
      const std::string key = Key();
      if (Is(":")) Next();
      if (key != path[at].key) {
        SkipValue();
      } else if (!indexed) {
        return at + 1 == path.size() ? std::optional(key_at) : Find(path, at + 1);
      } else if (auto found = Elements(path, at + 1, seen)) {
        return found;
      }
      if (Is(",") || Is(";")) Next();
    }
    return std::nullopt;
  }

 private:
  const io::Tokenizer::Token& Current() const { return tokens_.current(); }
  bool Is(std::string_view text) const { return ok_ && Current().text == text; }
  void Next() { ok_ = ok_ && tokens_.Next(); }

  // A field name, or an extension or Any name in brackets ("").
  std::string Key() {
    if (!Is("[")) {
      std::string key = ok_ ? Current().text : "";
      Next();
      return key;
    }
    while (ok_ && !Is("]")) Next();
    Next();
    return "";
  }

  // The elements of a repeated field's value here: a [list] or one value.
  // path[at] is the element index; counts on from `seen`.
  std::optional<TextPosition> Elements(const std::vector<OptionKey>& path, size_t at, int& seen) {
    const bool list = Is("[");
    if (list) Next();
    while (ok_ && !(list && Is("]"))) {
      if (seen++ == path[at].index) {
        return at + 1 == path.size() ? std::optional(Here()) : Find(path, at + 1);
      }
      SkipValue();
      if (!list) return std::nullopt;
      if (Is(",")) Next();
    }
    Next();
    return std::nullopt;
  }

  void SkipValue() {
    if (Is("{") || Is("<") || Is("[")) {
      int depth = 0;
      do {
        if (Is("{") || Is("<") || Is("[")) ++depth;
        if (Is("}") || Is(">") || Is("]")) --depth;
        Next();
      } while (ok_ && depth > 0);
      return;
    }
    if (Is("-")) Next();
    const bool string = ok_ && Current().type == io::Tokenizer::TYPE_STRING;
    Next();
    // Adjacent strings are one value.
    while (string && ok_ && Current().type == io::Tokenizer::TYPE_STRING) Next();
  }

  Quiet quiet_;
  io::ArrayInputStream input_;
  mutable io::Tokenizer tokens_;  // current() is not const
  int first_line_;
  bool ok_ = false;
};

}  // namespace

SourceText::SourceText(std::string text) : text_(std::move(text)) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
  }
}

std::optional<TextPosition> SourceText::Locate(TextPosition start,
                                               const std::vector<OptionKey>& path) const {
  if (start.line < 1 || static_cast<size_t>(start.line) > line_starts_.size() || path.empty())
    return std::nullopt;
  Locator locator(std::string_view(text_).substr(line_starts_[start.line - 1]), start.line);
  std::optional<std::vector<std::string>> prefix = locator.Head(start.column);
  if (!prefix || prefix->size() >= path.size()) return std::nullopt;
  for (size_t i = 0; i < prefix->size(); ++i) {
    if (path[i].key != (*prefix)[i]) return std::nullopt;
  }
  return locator.Find(path, prefix->size());
}

}  // namespace cppsvc::model
