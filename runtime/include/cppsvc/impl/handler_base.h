// For generated handler base classes only (`<Service>Base`).
#pragma once

#include <string_view>

#include "cppsvc/context.h"
#include "cppsvc/status.h"

namespace cppsvc::impl {

// Root of every generated `<Service>Base`: lets the runtime hold any service.
class ServiceBase {
 public:
  virtual ~ServiceBase() = default;
};

}  // namespace cppsvc::impl
