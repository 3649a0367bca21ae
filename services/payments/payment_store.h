// Storage of payments and of the answers to idempotent requests.
// InMemoryPaymentStore is the first implementation; a PostgreSQL store
// (table payments plus an idempotency table) replaces it behind the same
// interface.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "commerce/payments/v1/payments.pb.h"
#include "cppsvc/status.h"

namespace payments {

using commerce::payments::v1::Payment;

class PaymentStore {
 public:
  virtual ~PaymentStore() = default;

  virtual std::optional<Payment> Get(const std::string& payment_id) = 0;
  virtual std::optional<Payment> FindByIdempotencyKey(const std::string& key) = 0;
  virtual std::optional<Payment> FindByOrder(const std::string& order_id) = 0;
  // Stores a new payment under its charge's idempotency key. False, with
  // `existing` set to the payment holding it, when the key or the order
  // already has a payment.
  virtual bool Insert(const std::string& idempotency_key,
                      const Payment& payment,
                      Payment& existing) = 0;
  // Atomic read-modify-write of one payment, done at most once per
  // `request_key` (when not empty): `change` gets the payment and fills
  // `answer`; on OK both are kept. A repeated request_key changes nothing and
  // returns the first answer with `repeated` set. NOT_FOUND for unknown ids.
  virtual cppsvc::Status Update(
      const std::string& payment_id,
      const std::string& request_key,
      const std::function<cppsvc::Status(Payment&, std::string& answer)>& change,
      Payment& saved,
      std::string& answer,
      bool& repeated) = 0;
};

class InMemoryPaymentStore final : public PaymentStore {
 public:
  std::optional<Payment> Get(const std::string& payment_id) override;
  std::optional<Payment> FindByIdempotencyKey(const std::string& key) override;
  std::optional<Payment> FindByOrder(const std::string& order_id) override;
  bool Insert(const std::string& idempotency_key,
              const Payment& payment,
              Payment& existing) override;
  cppsvc::Status Update(const std::string& payment_id,
                        const std::string& request_key,
                        const std::function<cppsvc::Status(Payment&, std::string& answer)>& change,
                        Payment& saved,
                        std::string& answer,
                        bool& repeated) override;

 private:
  std::optional<Payment> FindLocked(const std::unordered_map<std::string, std::string>& index,
                                    const std::string& key);

  std::mutex mu_;
  std::unordered_map<std::string, Payment> payments_;
  std::unordered_map<std::string, std::string> by_key_;    // charge idempotency key -> payment id
  std::unordered_map<std::string, std::string> by_order_;  // order id -> payment id
  std::unordered_map<std::string, std::string> answers_;   // request key -> first answer
};

}  // namespace payments
