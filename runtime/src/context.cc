#include "cppsvc/context.h"

#include <algorithm>

namespace cppsvc {

bool Caller::HasRole(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

}  // namespace cppsvc
