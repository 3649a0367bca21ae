// What a shopper types in the search box, as a PostgreSQL tsquery: every
// word must match, the last one also as a prefix.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace products {

// The words of `text`: runs of ASCII letters and digits and of non-ASCII
// (UTF-8) bytes, ASCII lower-cased; everything else separates words.
std::vector<std::string> SearchWords(std::string_view text);

// Input for to_tsquery: "blue & pe:*" for "Blue pe". Holds only the bytes
// SearchWords keeps, so no tsquery operator of the shopper's reaches
// PostgreSQL. Empty when `text` has no word.
std::string ToTsQuery(std::string_view text);

}  // namespace products
