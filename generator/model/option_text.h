// Where a key or a list element is written inside an option's value.
// protoc's SourceCodeInfo locates an aggregate option only as a whole, so
// an error about one key of a multi-line option would point at the line the
// option starts on; re-tokenizing the option's text finds the key itself.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cppsvc::model {

// One step into an option's value: a field by name, or (key empty) the
// index-th element of the field named by the step before, counting every
// element of a repeated field however it is written ([a, b] lists, or the
// field repeated).
struct OptionKey {
  std::string key;
  int index = -1;
};

struct TextPosition {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in bytes as protoc counts them (a tab to the next multiple of 8)
};

// The text of one .proto file, indexed by line.
class SourceText {
 public:
  explicit SourceText(std::string text);

  // `start` is where an option's statement starts, as SourceCodeInfo gives
  // it: `option (ext).sub = value`, or `(ext).sub = value` in a field's
  // brackets. The position of the key (or element) `path` names, `path`
  // starting below the extension; nullopt when the text does not hold it
  // (the caller then keeps the option's position).
  std::optional<TextPosition> Locate(TextPosition start, const std::vector<OptionKey>& path) const;

 private:
  std::string text_;
  std::vector<size_t> line_starts_;  // byte offset of each line, the first at [0]
};

}  // namespace cppsvc::model
