// What a message is (table, event or neither) and the rules on its fields.

#include <algorithm>
#include <cmath>

#include <re2/re2.h>

#include "model/checker.h"
#include "model/graph.h"
#include "text/number.h"

namespace cppsvc::model::checks {

void Checker::CheckMessage(const Message& m) {
  if (m.table && m.event) {
    Error(m.event->span,
          "message " + Quote(m.name) + " is both a table and an event: use separate messages");
  }
  if (m.table) CheckTable(m);
  if (m.event) CheckEvent(m);
  for (const Field& f : m.fields) {
    if (f.has_options) CheckFieldOptions(m, f);
  }
}

void Checker::CheckFieldOptions(const Message& m, const Field& f) {
  std::string what = "field " + Quote(m.name + "." + f.name);
  const Span& span = f.option_span;
  if (!m.table) {
    if (f.column.Any())
      Error(At(span, {{"column"}}), what + ": column options mean nothing outside a table message");
    if (f.generated != GeneratedValue::kNone)
      Error(At(span, {{"generated"}}), what + ": generated means nothing outside a table message");
  } else {
    CheckTableFieldOptions(f, span, what);
  }
  CheckValidationKinds(f, span, what);
  CheckValidationBounds(f.validate, span, what);
  if (!f.validate.pattern.empty()) CheckPattern(span, what, f.validate);
}

// Each rule applies to some kinds of field only.
void Checker::CheckValidationKinds(const Field& f, const Span& span, const std::string& what) {
  const ValidationRules& v = f.validate;
  bool text = f.kind == FieldKind::kString || f.kind == FieldKind::kBytes;
  // `rule` is the first key of the rule the contract sets, e.g. "max_len" of min_len/max_len.
  auto misplaced = [&](const char* rules, const char* needs, const char* rule) {
    std::string type = std::string(f.repeated ? "repeated " : "") + KindName(f.kind);
    const char* article = std::string("aeiou").find(type[0]) != std::string::npos ? "an " : "a ";
    Error(At(span, {{"validate"}, {rule}}),
          what + ": " + rules + " means nothing on " + article + type + " field (it needs " +
              needs + ")");
  };
  if ((v.min_len || v.max_len) && !text)
    misplaced("min_len/max_len", "a string or bytes field", v.min_len ? "min_len" : "max_len");
  if ((v.gte || v.lte || v.gt || v.lt) && !IsNumeric(f.kind)) {
    misplaced("gte/lte/gt/lt",
              "a numeric field",
              v.gte   ? "gte"
              : v.gt  ? "gt"
              : v.lte ? "lte"
                      : "lt");
  }
  if (!v.pattern.empty() && f.kind != FieldKind::kString)
    misplaced("pattern", "a string field", "pattern");
  if (v.email && f.kind != FieldKind::kString) misplaced("email", "a string field", "email");
  if (v.uuid && f.kind != FieldKind::kString) misplaced("uuid", "a string field", "uuid");
  if (v.enum_defined && f.kind != FieldKind::kEnum)
    misplaced("enum_defined", "an enum field", "enum_defined");
  if ((v.min_items || v.max_items) && !f.repeated) {
    misplaced("min_items/max_items", "a repeated field", v.min_items ? "min_items" : "max_items");
  }
  if (!v.example.empty() && f.kind != FieldKind::kString)
    misplaced("example", "a string field", "example");
}

// Bounds that no value can satisfy.
void Checker::CheckValidationBounds(const ValidationRules& v,
                                    const Span& span,
                                    const std::string& what) {
  auto key = [&](const char* name) { return At(span, {{"validate"}, {name}}); };
  if (v.min_len && v.max_len && *v.min_len > *v.max_len) {
    Error(key("min_len"),
          what + ": min_len " + std::to_string(*v.min_len) + " is greater than max_len " +
              std::to_string(*v.max_len));
  }
  if (v.min_items && v.max_items && *v.min_items > *v.max_items) {
    Error(key("min_items"),
          what + ": min_items " + std::to_string(*v.min_items) + " is greater than max_items " +
              std::to_string(*v.max_items));
  }
  if (v.required && v.max_len && *v.max_len == 0) {
    Error(key("max_len"),
          what + ": required refuses the empty value, the only one max_len 0 lets through");
  }
  if (v.required && v.max_items && *v.max_items == 0) {
    Error(key("max_items"),
          what + ": required refuses an empty list, the only one max_items 0 lets through");
  }
  if (v.gte && v.gt) Error(key("gt"), what + ": gte and gt both set: keep one lower bound");
  if (v.lte && v.lt) Error(key("lt"), what + ": lte and lt both set: keep one upper bound");
  CheckNumericRange(v, span, what);
}

// gte/gt against lte/lt: a range no value falls in.
void Checker::CheckNumericRange(const ValidationRules& v,
                                const Span& span,
                                const std::string& what) {
  const char* lower_name = v.gte ? "gte" : "gt";
  const char* upper_name = v.lte ? "lte" : "lt";
  auto lower = v.gte ? v.gte : v.gt;
  auto upper = v.lte ? v.lte : v.lt;
  const std::pair<const char*, std::optional<double>> all[] = {{"gte", v.gte},
                                                               {"lte", v.lte},
                                                               {"gt", v.gt},
                                                               {"lt", v.lt}};
  for (const auto& [name, bound] : all) {
    if (bound && !std::isfinite(*bound)) {
      Error(At(span, {{"validate"}, {name}}),
            what + ": " + name + " " + text::Number(*bound) +
                " is not a finite number: no value compares with it as intended");
    }
  }
  if (!lower || !upper || !std::isfinite(*lower) || !std::isfinite(*upper)) return;
  std::string bounds = std::string(lower_name) + " " + text::Number(*lower) + " and " + upper_name +
                       " " + text::Number(*upper);
  const Span range_span = At(span, {{"validate"}, {lower_name}});
  if (*lower > *upper) {
    Error(range_span,
          what + ": the lower bound is above the upper bound (" + bounds + "), no value can pass");
  } else if (*lower == *upper && (v.gt || v.lt)) {
    Error(range_span, what + ": " + bounds + " leave an empty range, no value can pass");
  }
}

// A message field that must be set (required, or min_items above 0) and
// whose type must hold this message again: no finite message passes the
// validator, and the contract tests' builder of a valid request would
// recurse forever. Each cycle is reported once, at the field of its first
// message in name order.
void Checker::CheckRequiredCycles() {
  std::vector<const Message*> nodes;
  std::map<std::string, size_t> node_of;
  for (const auto& [name, m] : model_.messages) {
    node_of.emplace(name, nodes.size());
    nodes.push_back(&m);
  }
  Graph out(nodes.size());
  std::vector<std::vector<const Field*>> via(nodes.size());  // the field of each edge
  for (size_t v = 0; v < nodes.size(); ++v) {
    for (const Field& f : nodes[v]->fields) {
      bool must = f.validate.required || f.validate.min_items.value_or(0) > 0;
      auto it = node_of.find(f.type_name);
      if (f.kind != FieldKind::kMessage || f.map || !must || it == node_of.end()) continue;
      out[v].push_back(it->second);
      via[v].push_back(&f);
    }
  }
  for (const std::vector<size_t>& component : Cycles(out)) {
    std::vector<size_t> path = CyclePath(out, component);
    std::string text;
    const Field* first = nullptr;
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      size_t e =
          std::find(out[path[i]].begin(), out[path[i]].end(), path[i + 1]) - out[path[i]].begin();
      const Field* f = via[path[i]][e];
      if (first == nullptr) first = f;
      text += nodes[path[i]]->name + "." + f->name + " -> ";
    }
    text += nodes[path.front()]->name;
    Error(first->has_options ? first->option_span : first->span,
          "field " + Quote(nodes[path.front()]->name + "." + first->name) +
              " must be set, and its type, through fields that must be set, holds a " +
              Quote(nodes[path.front()]->name) + " again (" + text +
              "): no finite message passes validation; make one of these fields optional");
  }
}

// Patterns are matched with RE2 at run time (linear, no recursion), so
// they are checked with RE2's own syntax here.
void Checker::CheckPattern(const Span& span, const std::string& what, const ValidationRules& v) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  const re2::RE2 re(v.pattern, options);
  if (!re.ok()) {
    Error(At(span, {{"validate"}, {"pattern"}}),
          what + ": pattern " + Quote(v.pattern) +
              " is not a valid RE2 regular expression: " + re.error());
  } else if (!v.example.empty() && !re2::RE2::FullMatch(v.example, re)) {
    Error(At(span, {{"validate"}, {"example"}}),
          what + ": example " + Quote(v.example) + " does not match pattern " + Quote(v.pattern));
  }
}

}  // namespace cppsvc::model::checks
