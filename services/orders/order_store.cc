#include "orders/order_store.h"

#include <algorithm>

namespace orders {

std::vector<CartItem> InMemoryOrderStore::GetCart(const std::string& user_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const Line*> lines;
  if (auto it = carts_.find(user_id); it != carts_.end()) {
    for (const auto& [product, line] : it->second) lines.push_back(&line);
  }
  std::sort(lines.begin(), lines.end(), [](const Line* a, const Line* b) {
    return a->seq < b->seq;
  });
  std::vector<CartItem> out;
  for (const Line* line : lines) out.push_back(line->item);
  return out;
}

size_t InMemoryOrderStore::PutCartItem(const CartItem& item) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& cart = carts_[item.user_id()];
  auto [it, inserted] = cart.try_emplace(item.product_id(), Line{next_seq_, item});
  if (inserted) {
    ++next_seq_;
  } else {
    auto added_at = it->second.item.added_at();
    it->second.item = item;
    *it->second.item.mutable_added_at() = added_at;
  }
  return cart.size();
}

bool InMemoryOrderStore::RemoveCartItem(const std::string& user_id, const std::string& product_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = carts_.find(user_id);
  return it != carts_.end() && it->second.erase(product_id) > 0;
}

std::optional<Order> InMemoryOrderStore::FindOrderByRequest(const std::string& user_id,
                                                            const std::string& request_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_request_.find({user_id, request_id});
  if (it == by_request_.end()) return std::nullopt;
  return orders_.at(it->second);
}

bool InMemoryOrderStore::PlaceOrder(const std::string& request_id, Order& order) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = by_request_.try_emplace({order.user_id(), request_id}, order.id());
  if (!inserted) {
    order = orders_.at(it->second);
    return false;
  }
  orders_[order.id()] = order;
  by_user_[order.user_id()][next_seq_++] = order.id();
  auto& cart = carts_[order.user_id()];
  for (const auto& line : order.lines()) cart.erase(line.product_id());
  return true;
}

std::optional<Order> InMemoryOrderStore::GetOrder(const std::string& order_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = orders_.find(order_id);
  if (it == orders_.end()) return std::nullopt;
  return it->second;
}

std::vector<Order> InMemoryOrderStore::ListOrders(const std::string& user_id,
                                                  std::optional<OrderStatus> status,
                                                  int64_t cursor,
                                                  int limit,
                                                  int64_t& next_cursor) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Order> out;
  next_cursor = 0;
  auto user = by_user_.find(user_id);
  if (user == by_user_.end()) return out;
  const auto& ids = user->second;
  auto it = cursor > 0 ? std::make_reverse_iterator(ids.lower_bound(cursor)) : ids.rbegin();
  int64_t last = 0;
  for (; it != ids.rend(); ++it) {
    const Order& order = orders_.at(it->second);
    if (status && order.status() != *status) continue;
    if (static_cast<int>(out.size()) == limit) {
      next_cursor = last;  // another order follows this page
      break;
    }
    out.push_back(order);
    last = it->first;
  }
  return out;
}

cppsvc::Status InMemoryOrderStore::UpdateOrder(
    const std::string& order_id,
    const std::function<cppsvc::Status(Order&)>& change) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = orders_.find(order_id);
  if (it == orders_.end()) return cppsvc::Status::NotFound("order " + order_id + " does not exist");
  Order copy = it->second;
  cppsvc::Status status = change(copy);
  if (status.ok()) it->second = std::move(copy);
  return status;
}

}  // namespace orders
