#include "emit/access_summary.h"

#include "text/join.h"

namespace cppsvc::emit {

std::string AccessSummary(const model::Method& method) {
  if (method.is_public) return "public";
  std::string out = text::Join(method.effective_roles, ", ");
  if (!method.owner_field.empty()) out += "; owner: " + method.owner_field;
  return out;
}

}  // namespace cppsvc::emit
