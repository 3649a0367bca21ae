#include "payments/payment_store.h"

namespace payments {

std::optional<Payment> InMemoryPaymentStore::FindLocked(
    const std::unordered_map<std::string, std::string>& index,
    const std::string& key) {
  auto it = index.find(key);
  if (it == index.end()) return std::nullopt;
  return payments_.at(it->second);
}

std::optional<Payment> InMemoryPaymentStore::Get(const std::string& payment_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = payments_.find(payment_id);
  if (it == payments_.end()) return std::nullopt;
  return it->second;
}

std::optional<Payment> InMemoryPaymentStore::FindByIdempotencyKey(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  return FindLocked(by_key_, key);
}

std::optional<Payment> InMemoryPaymentStore::FindByOrder(const std::string& order_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return FindLocked(by_order_, order_id);
}

bool InMemoryPaymentStore::Insert(const std::string& idempotency_key,
                                  const Payment& payment,
                                  Payment& existing) {
  std::lock_guard<std::mutex> lock(mu_);
  auto found = FindLocked(by_key_, idempotency_key);
  if (!found) found = FindLocked(by_order_, payment.order_id());
  if (found) {
    existing = std::move(*found);
    return false;
  }
  payments_[payment.id()] = payment;
  by_key_[idempotency_key] = payment.id();
  by_order_[payment.order_id()] = payment.id();
  return true;
}

cppsvc::Status InMemoryPaymentStore::Update(
    const std::string& payment_id,
    const std::string& request_key,
    const std::function<cppsvc::Status(Payment&, std::string&)>& change,
    Payment& saved,
    std::string& answer,
    bool& repeated) {
  std::lock_guard<std::mutex> lock(mu_);
  repeated = false;
  auto it = payments_.find(payment_id);
  if (it == payments_.end())
    return cppsvc::Status::NotFound("payment " + payment_id + " does not exist");
  if (auto done = answers_.find(request_key); !request_key.empty() && done != answers_.end()) {
    repeated = true;
    answer = done->second;
    saved = it->second;
    return cppsvc::Status::Ok();
  }
  Payment copy = it->second;
  std::string first;
  cppsvc::Status status = change(copy, first);
  if (!status.ok()) return status;
  it->second = copy;
  if (!request_key.empty()) answers_[request_key] = first;
  saved = std::move(copy);
  answer = std::move(first);
  return status;
}

}  // namespace payments
