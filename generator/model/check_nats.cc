// Names that end up in NATS: a service's short name (subjects
// cppsvc.<name>.<rpc>, queue groups, durable consumers), its JetStream
// stream, and the queue groups of its subscriptions. NATS and JetStream
// refuse some characters outright ('.', '*' and '>' split or match
// subjects); the generated services would fail only when they start.

#include <cctype>

#include <re2/re2.h>

#include "model/checker.h"

namespace cppsvc::model::checks {
namespace {

// Letters, digits, '_' and '-': a valid subject token and a valid
// JetStream stream or consumer name, and safe as a file name on the server.
bool IsNatsName(const std::string& name) {
  static const re2::RE2 kName("[A-Za-z0-9_-]+");
  return re2::RE2::FullMatch(name, kName);
}

}  // namespace

bool IsSnakeCaseName(const std::string& name) {
  static const re2::RE2 kSnake("[a-z][a-z0-9_]*");
  return re2::RE2::FullMatch(name, kSnake);
}

void Checker::CheckNatsNames(const Service& s, const Span& span, const std::string& what) {
  // The short name also prefixes environment variables and names binaries.
  if (!IsSnakeCaseName(s.short_name)) {
    Error(At(span, {{"name"}}),
          what + ": short name " + Quote(s.short_name) +
              " must be lowercase snake_case (letters, digits and '_', starting with a letter): "
              "it names NATS subjects, queue groups and environment variables");
  } else if (!IsNatsName(s.stream)) {
    Error(At(span, {{"stream"}}),
          what + ": stream " + Quote(s.stream) +
              " is not a valid JetStream stream name: use letters, digits, '_' and '-'");
  }
  for (size_t i = 0; i < s.subscriptions.size(); ++i) {
    const Subscription& sub = s.subscriptions[i];
    if (!sub.queue_group.empty() && !IsNatsName(sub.queue_group)) {
      Error(At(span, {{"subscribe"}, {"", int(i)}, {"queue_group"}}),
            what + " subscription to " + Quote(sub.event) + ": queue_group " +
                Quote(sub.queue_group) +
                " is not a valid NATS queue group and JetStream consumer name: use letters, "
                "digits, '_' and '-'");
    }
  }
}

// Each service publishes on a stream of its own: two services declaring
// one stream would each create it with their own subjects, and the second
// would fail (or take over the first one's events).
void Checker::CheckStreamsUnique() {
  std::map<std::string, const Service*> streams;
  for (const File& file : model_.files) {
    for (const Service& s : file.services) {
      if (s.published.empty()) continue;  // no events, no stream
      auto [it, ok] = streams.emplace(s.stream, &s);
      if (ok) continue;
      Error(At(s.has_options ? s.option_span : s.span, {{"stream"}}),
            "service " + Quote(s.name) + ": stream " + Quote(s.stream) +
                " is already the stream of service " + Quote(it->second->full_name) +
                ", which also publishes events: give each service a stream of its own");
    }
  }
}

}  // namespace cppsvc::model::checks
