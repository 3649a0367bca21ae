#include "notifications/templates.h"

#include <stdexcept>

#include <kainjow/mustache.hpp>

namespace notifications {
namespace {

namespace v1 = commerce::notifications::v1;

struct Templates {
  const char* title;
  const char* text;
  const char* sms;
};

constexpr char kEmailLayout[] = "Hello {{name}},\n\n{{text}}\n\nThe Shop team\n";

const Templates& TemplatesOf(v1::NotificationKind kind) {
  static const Templates kWelcome{"Welcome, {{name}}!",
                                  "Your account is ready. Happy shopping!",
                                  "Welcome to the shop, {{name}}! Your account is ready."};
  static const Templates kConfirmed{"Order confirmed",
                                    "Your order {{order_id}} of {{total}} is paid and confirmed.",
                                    "Order {{order_id}} confirmed: {{total}} paid."};
  static const Templates kCancelled{"Order cancelled",
                                    "Your order {{order_id}} was cancelled because "
                                    "{{reason}}.{{#detail}} ({{detail}}){{/detail}}",
                                    "Order {{order_id}} cancelled: {{reason}}."};
  static const Templates kPaymentFailed{
      "Payment failed",
      "The payment for your order {{order_id}} failed: {{reason}}.",
      "Payment for order {{order_id}} failed: {{reason}}."};
  switch (kind) {
    case v1::NOTIFICATION_KIND_WELCOME:
      return kWelcome;
    case v1::NOTIFICATION_KIND_ORDER_CONFIRMED:
      return kConfirmed;
    case v1::NOTIFICATION_KIND_ORDER_CANCELLED:
      return kCancelled;
    case v1::NOTIFICATION_KIND_PAYMENT_FAILED:
      return kPaymentFailed;
    default:
      throw std::invalid_argument("no templates for notification kind " + std::to_string(kind));
  }
}

std::string RenderOne(const std::string& source, const kainjow::mustache::data& data) {
  kainjow::mustache::mustache tmpl(source);
  if (!tmpl.is_valid()) {
    throw std::runtime_error("template '" + source + "': " + tmpl.error_message());
  }
  tmpl.set_custom_escape([](const std::string& s) { return s; });  // plain text
  return tmpl.render(data);
}

kainjow::mustache::data DataOf(const TemplateValues& values) {
  kainjow::mustache::data data;
  for (const auto& [name, value] : values) {
    // An empty value is false in a section ({{#detail}}...{{/detail}}).
    if (value.empty()) {
      data.set(name, kainjow::mustache::data(false));
    } else {
      data.set(name, value);
    }
  }
  return data;
}

}  // namespace

RenderedMessage Render(v1::NotificationKind kind, const TemplateValues& values) {
  const Templates& t = TemplatesOf(kind);
  kainjow::mustache::data data = DataOf(values);
  RenderedMessage out;
  out.title = RenderOne(t.title, data);
  out.text = RenderOne(t.text, data);
  out.sms = RenderOne(t.sms, data);
  data.set("text", out.text);
  out.email_body = RenderOne(kEmailLayout, data);
  return out;
}

void CheckTemplates() {
  for (int kind = v1::NOTIFICATION_KIND_WELCOME; kind <= v1::NOTIFICATION_KIND_PAYMENT_FAILED;
       ++kind) {
    Render(static_cast<v1::NotificationKind>(kind), {});
  }
}

}  // namespace notifications
