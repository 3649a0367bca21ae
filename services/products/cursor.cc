#include "products/cursor.h"

#include <optional>

#include "common/util.h"
#include "cppsvc/db/errors.h"

namespace products {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> Unhex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexDigit(hex[i]);
    int lo = HexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

// Reads "<length>:<bytes>" at `pos`.
std::optional<std::string> ReadPart(std::string_view text, size_t& pos) {
  size_t colon = text.find(':', pos);
  if (colon == std::string_view::npos || colon == pos || colon - pos > 6) return std::nullopt;
  size_t length = 0;
  for (size_t i = pos; i < colon; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    length = length * 10 + static_cast<size_t>(text[i] - '0');
  }
  if (text.size() - colon - 1 < length) return std::nullopt;
  pos = colon + 1 + length;
  return std::string(text.substr(colon + 1, length));
}

void AppendPart(std::string& text, std::string_view part) {
  text += std::to_string(part.size());
  text += ':';
  text += part;
}

[[noreturn]] void Invalid() {
  throw cppsvc::db::InvalidArgument("page_token: not a token of this list");
}

}  // namespace

std::string EncodeCursor(std::string_view tag, const std::vector<std::string>& parts) {
  std::string text;
  AppendPart(text, tag);
  for (const std::string& part : parts) AppendPart(text, part);
  return services::Hex(text);
}

std::vector<std::string> DecodeCursor(std::string_view tag, std::string_view token, size_t count) {
  std::optional<std::string> text = Unhex(token);
  if (!text) Invalid();
  size_t pos = 0;
  std::optional<std::string> read_tag = ReadPart(*text, pos);
  if (!read_tag || *read_tag != tag) Invalid();
  std::vector<std::string> parts;
  while (pos < text->size()) {
    std::optional<std::string> part = ReadPart(*text, pos);
    if (!part) Invalid();
    parts.push_back(std::move(*part));
  }
  if (parts.size() != count) Invalid();
  return parts;
}

}  // namespace products
