#include "products/search_query.h"

namespace products {
namespace {

bool IsWordByte(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char LowerAscii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::vector<std::string> SearchWords(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (IsWordByte(c)) {
      word.push_back(LowerAscii(c));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

std::string ToTsQuery(std::string_view text) {
  std::vector<std::string> words = SearchWords(text);
  std::string query;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) query += " & ";
    query += words[i];
  }
  if (!query.empty()) query += ":*";
  return query;
}

}  // namespace products
