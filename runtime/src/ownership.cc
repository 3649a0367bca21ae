#include "cppsvc/ownership.h"

namespace cppsvc {

Status ResourceNotFound() {
  return Status::NotFound("not found");
}

Status ForeignResource(ForeignResources answer) {
  if (answer == ForeignResources::kNotFound) return ResourceNotFound();
  return Status::PermissionDenied("the resource belongs to another user");
}

}  // namespace cppsvc
