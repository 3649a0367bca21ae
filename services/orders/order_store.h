// Storage of carts and orders. InMemoryOrderStore is the first
// implementation; a PostgreSQL store (tables cart_items and orders) replaces
// it behind the same interface.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "commerce/orders/v1/orders.pb.h"
#include "cppsvc/status.h"

namespace orders {

using commerce::orders::v1::CartItem;
using commerce::orders::v1::Order;
using commerce::orders::v1::OrderStatus;

class OrderStore {
 public:
  virtual ~OrderStore() = default;

  // The user's cart lines, oldest first.
  virtual std::vector<CartItem> GetCart(const std::string& user_id) = 0;
  // Inserts the line (user_id, product_id) or replaces it, keeping its
  // added_at and its place in the cart. Returns the number of lines after.
  virtual size_t PutCartItem(const CartItem& item) = 0;
  // Removes a line; false when there was none.
  virtual bool RemoveCartItem(const std::string& user_id, const std::string& product_id) = 0;

  // The order a checkout (user_id, request_id) created, if any.
  virtual std::optional<Order> FindOrderByRequest(const std::string& user_id,
                                                  const std::string& request_id) = 0;
  // Atomically: when (order.user_id, request_id) already created an order,
  // sets `order` to it and returns false; else stores `order`, removes its
  // products from the user's cart and returns true.
  virtual bool PlaceOrder(const std::string& request_id, Order& order) = 0;

  virtual std::optional<Order> GetOrder(const std::string& order_id) = 0;
  // The user's orders, newest first, optionally of one status: at most
  // `limit` of those placed before `cursor` (0: from the newest).
  // `next_cursor` is 0 when no order follows the page.
  virtual std::vector<Order> ListOrders(const std::string& user_id,
                                        std::optional<OrderStatus> status,
                                        int64_t cursor,
                                        int limit,
                                        int64_t& next_cursor) = 0;
  // Atomic read-modify-write of one order: `change` gets the current order
  // and the change is kept only when it returns OK. NOT_FOUND for unknown ids.
  virtual cppsvc::Status UpdateOrder(const std::string& order_id,
                                     const std::function<cppsvc::Status(Order&)>& change) = 0;
};

class InMemoryOrderStore final : public OrderStore {
 public:
  std::vector<CartItem> GetCart(const std::string& user_id) override;
  size_t PutCartItem(const CartItem& item) override;
  bool RemoveCartItem(const std::string& user_id, const std::string& product_id) override;
  std::optional<Order> FindOrderByRequest(const std::string& user_id,
                                          const std::string& request_id) override;
  bool PlaceOrder(const std::string& request_id, Order& order) override;
  std::optional<Order> GetOrder(const std::string& order_id) override;
  std::vector<Order> ListOrders(const std::string& user_id,
                                std::optional<OrderStatus> status,
                                int64_t cursor,
                                int limit,
                                int64_t& next_cursor) override;
  cppsvc::Status UpdateOrder(const std::string& order_id,
                             const std::function<cppsvc::Status(Order&)>& change) override;

 private:
  struct Line {
    int64_t seq;
    CartItem item;
  };
  std::mutex mu_;
  int64_t next_seq_ = 1;
  std::unordered_map<std::string, std::map<std::string, Line>> carts_;  // user -> product -> line
  std::unordered_map<std::string, Order> orders_;                       // id -> order
  std::map<std::pair<std::string, std::string>, std::string> by_request_;  // (user, request) -> id
  std::unordered_map<std::string, std::map<int64_t, std::string>> by_user_;  // user -> seq -> id
};

}  // namespace orders
