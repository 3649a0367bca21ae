// Numbers as a contract writes them, shared by the model's messages and the
// emitters.
#pragma once

#include <string>

namespace cppsvc::text {

// The shortest text that reads back as `d`: 5, 0.25, 1e+30, nan, inf.
std::string Number(double d);

}  // namespace cppsvc::text
