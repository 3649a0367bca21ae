// Joining strings, shared by the model and every emitter.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cppsvc::text {

// `parts` with `separator` between each two: Join({"a", "b"}, ", ") is "a, b".
std::string Join(const std::vector<std::string>& parts, std::string_view separator);

}  // namespace cppsvc::text
