#include "notifications/senders.h"

#include <nlohmann/json.hpp>

#include "common/util.h"
#include "cppsvc/observability/log.h"

namespace notifications {

namespace v1 = commerce::notifications::v1;

SendResult SimulatedSender::Outcome(const OutgoingMessage& message) {
  const std::string& to = message.to;
  if (message.channel == v1::DELIVERY_CHANNEL_EMAIL && to.rfind("bounce", 0) == 0) {
    return {false, "mailbox unavailable"};
  }
  if (message.channel == v1::DELIVERY_CHANNEL_SMS && to.size() >= 3 &&
      to.compare(to.size() - 3, 3, "000") == 0) {
    return {false, "unreachable number"};
  }
  return {true, "sim-" + services::NewUuid()};
}

SendResult SimulatedSender::Send(const OutgoingMessage& message) {
  std::lock_guard<std::mutex> lock(mu_);
  auto known = by_key_.find(message.idempotency_key);
  if (known != by_key_.end()) return known->second;
  SendResult result = Outcome(message);
  by_key_.emplace(message.idempotency_key, result);
  if (!result.sent) return result;
  sent_.push_back(message);
  if (log_) {
    cppsvc::observability::LogJson({{"level", "info"},
                                    {"service", "notifications"},
                                    {"msg", "message sent (simulated)"},
                                    {"channel", v1::DeliveryChannel_Name(message.channel)},
                                    {"to", message.to},
                                    {"subject", message.subject},
                                    {"id", result.detail}});
  }
  return result;
}

std::vector<OutgoingMessage> SimulatedSender::sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_;
}

}  // namespace notifications
