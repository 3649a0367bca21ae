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
      Error(At(e.span, {{"subject"}}),
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
    Error(At(e.span, {{"key"}}),
          "event " + Quote(m.full_name) + ": ordering key field " + Quote(e.key) +
              " does not exist" + diag::DidYouMean(e.key, names));
  } else if (f->repeated || f->kind == FieldKind::kMessage) {
    Error(At(e.span, {{"key"}}),
          "event " + Quote(m.full_name) + ": ordering key field " + Quote(e.key) +
              " must be a singular scalar");
  }
}

void Checker::CheckSubscriptions(const Service& s, const Span& span, const std::string& what) {
  std::set<std::string> subscribed;
  for (size_t i = 0; i < s.subscriptions.size(); ++i) {
    const Subscription& sub = s.subscriptions[i];
    const std::vector<OptionKey> at = {{"subscribe"}, {"", int(i)}};
    const Span event_span = At(span, {at[0], at[1], {"event"}});
    std::string sw = what + " subscription";
    if (!subscribed.insert(sub.event).second) {
      Error(event_span, sw + ": event " + Quote(sub.event) + " is subscribed twice");
    }
    if (CheckEventRef(event_span, sw, sub.event) && publishers_.count(sub.event) == 0) {
      Warning(event_span,
              sw + ": no service publishes event " + Quote(sub.event) +
                  " (add it to some rpc's emits or a service's publishes)");
    }
    for (size_t j = 0; j < sub.emits.size(); ++j) {
      CheckEventRef(At(span, {at[0], at[1], {"emits"}, {"", int(j)}}),
                    sw + " to " + Quote(ShortName(sub.event)) + " emits",
                    sub.emits[j]);
    }
  }
}

}  // namespace cppsvc::model::checks
