// The texts of notifications: Mustache templates per kind (title, in-app
// text, SMS) and the email layout around the text, rendered as plain text
// (values are not HTML-escaped, and a value is never read as a template).
#pragma once

#include <map>
#include <string>

#include "commerce/notifications/v1/notifications.pb.h"

namespace notifications {

// Template values by name, e.g. {"name", "Ada"}, {"order_id", "..."}.
using TemplateValues = std::map<std::string, std::string>;

struct RenderedMessage {
  std::string title;       // in-app title and email subject
  std::string text;        // in-app text
  std::string email_body;  // the text in the email layout
  std::string sms;
};

// Throws std::invalid_argument for a kind without templates, and
// std::runtime_error naming the template when one does not parse.
RenderedMessage Render(commerce::notifications::v1::NotificationKind kind,
                       const TemplateValues& values);

// Parses every template once; throws as Render does. For start-up and tests.
void CheckTemplates();

}  // namespace notifications
