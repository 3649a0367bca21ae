// Senders of email and SMS. The shop has no mail or SMS provider yet:
// SimulatedSender stands in for one behind the same interface, with
// outcomes fixed by the address so every path can be exercised.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "commerce/notifications/v1/notifications.pb.h"

namespace notifications {

using commerce::notifications::v1::DeliveryChannel;

struct OutgoingMessage {
  DeliveryChannel channel = commerce::notifications::v1::DELIVERY_CHANNEL_UNSPECIFIED;
  std::string to;       // email address or E.164 phone number
  std::string subject;  // email only
  std::string body;
  // The same for every attempt to send this message (the event and the
  // channel), so a provider that honours it sends a retried message once.
  std::string idempotency_key;
};

struct SendResult {
  bool sent = false;
  std::string detail;  // the provider's message id when sent, else why not
};

class Sender {
 public:
  virtual ~Sender() = default;
  virtual SendResult Send(const OutgoingMessage& message) = 0;
};

// Accepts every message but those to an email address whose local part
// starts with "bounce" ("mailbox unavailable") and to a phone number ending
// in "000" ("unreachable number"). A repeated idempotency key returns the
// first result without sending again. Optionally logs each message sent.
class SimulatedSender final : public Sender {
 public:
  explicit SimulatedSender(bool log = false) : log_(log) {}
  SendResult Send(const OutgoingMessage& message) override;
  // The messages sent (not those refused or repeated), in order.
  std::vector<OutgoingMessage> sent() const;

 private:
  static SendResult Outcome(const OutgoingMessage& message);

  const bool log_;
  mutable std::mutex mu_;
  std::map<std::string, SendResult> by_key_;
  std::vector<OutgoingMessage> sent_;
};

}  // namespace notifications
