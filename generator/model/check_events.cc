// Events (subject, ordering key) and a service's subscriptions to them.

#include <re2/re2.h>

#include "model/checker.h"
#include "model/names.h"

namespace cppsvc::model::checks {

void Checker::CheckEvent(const Message& m) {
  const Event& e = *m.event;
  if (e.subject.empty()) {
    Error(e.span, "event " + Quote(m.full_name) + " has no subject: set subject");
  } else {
    static const re2::RE2 kSubject("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");
    if (!re2::RE2::FullMatch(e.subject, kSubject)) {
      Error(e.span,
            "event " + Quote(m.full_name) + ": subject " + Quote(e.subject) +
                " must be dot-separated tokens of letters, digits, '_' and '-' (no wildcards)");
    }
  }
  if (!e.key.empty()) CheckEventKey(m);
}

void Checker::CheckEventKey(const Message& m) {
  const Event& e = *m.event;
  const Field* f = m.FindField(e.key);
  std::vector<std::string> names;
  for (const Field& field : m.fields) names.push_back(field.name);
  if (f == nullptr) {
    Error(e.span,
          "event " + Quote(m.full_name) + ": ordering key field " + Quote(e.key) +
              " does not exist" + diag::DidYouMean(e.key, names));
  } else if (f->repeated || f->kind == FieldKind::kMessage) {
    Error(e.span,
          "event " + Quote(m.full_name) + ": ordering key field " + Quote(e.key) +
              " must be a singular scalar");
  }
}

void Checker::CheckSubscriptions(const Service& s, const Span& span, const std::string& what) {
  std::set<std::string> subscribed;
  for (const Subscription& sub : s.subscriptions) {
    std::string sw = what + " subscription";
    if (!subscribed.insert(sub.event).second) {
      Error(span, sw + ": event " + Quote(sub.event) + " is subscribed twice");
    }
    if (CheckEventRef(span, sw, sub.event) && publishers_.count(sub.event) == 0) {
      Warning(span,
              sw + ": no service publishes event " + Quote(sub.event) +
                  " (add it to some rpc's emits or a service's publishes)");
    }
    for (const std::string& e : sub.emits)
      CheckEventRef(span, sw + " to " + Quote(ShortName(sub.event)) + " emits", e);
  }
}

}  // namespace cppsvc::model::checks
