// Plugs a hand-written handler class into the generated main(). One line,
// next to the class (in the executable's own sources, not a static library,
// so the linker keeps it):
//
//   CPPSVC_REGISTER_HANDLERS(commerce::orders::v1::OrdersServiceBase, orders::OrdersService);
#pragma once

#include <functional>
#include <memory>

namespace cppsvc::impl {

template <typename Base>
struct HandlerRegistry {
  static std::function<std::unique_ptr<Base>()>& Factory() {
    static std::function<std::unique_ptr<Base>()> factory;
    return factory;
  }
};

template <typename Base>
bool RegisterHandlers(std::function<std::unique_ptr<Base>()> factory) {
  HandlerRegistry<Base>::Factory() = std::move(factory);
  return true;
}

}  // namespace cppsvc::impl

#define CPPSVC_INTERNAL_CONCAT2(a, b) a##b
#define CPPSVC_INTERNAL_CONCAT(a, b) CPPSVC_INTERNAL_CONCAT2(a, b)
#define CPPSVC_REGISTER_HANDLERS(Base, Impl)                                                   \
  [[maybe_unused]] static const bool CPPSVC_INTERNAL_CONCAT(cppsvc_registered_, __COUNTER__) = \
      ::cppsvc::impl::RegisterHandlers<Base>([] { return std::unique_ptr<Base>(new Impl()); })
