// Page tokens of the keyset-paginated lists of the products service: the
// sort key of the last row of a page, tagged with the list it belongs to,
// hex-encoded so that callers treat it as opaque.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace products {

// A token for list `tag` holding `parts` (any bytes).
std::string EncodeCursor(std::string_view tag, const std::vector<std::string>& parts);

// The `count` parts held by `token` if it is a token of list `tag`; throws
// cppsvc::db::InvalidArgument (INVALID_ARGUMENT) otherwise.
std::vector<std::string> DecodeCursor(std::string_view tag, std::string_view token, size_t count);

}  // namespace products
