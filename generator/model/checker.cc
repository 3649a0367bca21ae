#include "model/checker.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "model/names.h"

namespace cppsvc::model::checks {

std::string Quote(const std::string& s) {
  return "'" + s + "'";
}

bool SingularString(const Field& f) {
  return f.kind == FieldKind::kString && !f.repeated;
}

Checker::Checker(const Model& model, diag::Diagnostics& diags) : model_(model), diags_(diags) {
  Index();
}

void Checker::Index() {
  for (const File& file : model_.files) {
    if (file.generate) generated_files_.insert(file.name);
    for (const Role& r : file.roles) {
      role_names_.push_back(r.name);
      if (!r.name.empty()) roles_.emplace(r.name, &r);
    }
    for (const Service& s : file.services) {
      service_names_.push_back(s.short_name);
      for (const PublishedEvent& p : s.published) publishers_[p.event].insert(s.short_name);
    }
  }
  for (const auto& [name, m] : model_.messages) {
    if (m.event) event_names_.push_back(name);
  }
}

Span Checker::At(const Span& option, const std::vector<OptionKey>& path) const {
  auto source = model_.sources.find(option.file);
  if (source == model_.sources.end() || option.line == 0) return option;
  auto text = texts_.find(option.file);
  if (text == texts_.end()) text = texts_.emplace(option.file, SourceText(source->second)).first;
  for (size_t n = path.size(); n > 0; --n) {
    std::vector<OptionKey> prefix(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(n));
    if (prefix.back().key.empty() && n > 1 && prefix.back().index < 0) continue;
    if (auto at = text->second.Locate({option.line, option.column}, prefix))
      return Span{option.file, at->line, at->column};
  }
  return option;
}

bool Checker::Reported(const Span& span) const {
  return generated_files_.count(span.file) > 0;
}

void Checker::Error(const Span& span, std::string message) {
  if (Reported(span)) diags_.Error(span, std::move(message));
}

void Checker::Warning(const Span& span, std::string message) {
  if (Reported(span)) diags_.Warning(span, std::move(message));
}

bool Checker::Publishes(const std::string& service, const std::string& event) const {
  auto it = publishers_.find(event);
  return it != publishers_.end() && it->second.count(service) > 0;
}

// Checks that `event` names a declared event; reports with `what` as the
// element that refers to it. Returns true when it does.
bool Checker::CheckEventRef(const Span& span, const std::string& what, const std::string& event) {
  const Message* m = model_.FindMessage(event);
  if (m == nullptr) {
    Error(span, what + ": event " + Quote(event) + " is not declared" + SuggestEvent(event));
    return false;
  }
  if (!m->event) {
    Error(span,
          what + ": message " + Quote(event) +
              " is not an event (it has no (cppsvc.v1.event) option)");
    return false;
  }
  return true;
}

// Compares short names, so a long package does not make any event "near".
std::string Checker::SuggestEvent(const std::string& event) const {
  std::vector<std::string> short_names;
  for (const std::string& e : event_names_) {
    // The right name in another package: suggest its full name.
    if (ShortName(e) == ShortName(event)) return " (did you mean '" + e + "'?)";
    short_names.push_back(ShortName(e));
  }
  std::string hint = diag::DidYouMean(ShortName(event), short_names);
  if (hint.empty()) return "";
  std::string near = hint.substr(hint.find('\'') + 1);
  near = near.substr(0, near.find('\''));
  // Prefer a candidate in the same package as the reference.
  std::string package =
      event.substr(0, event.rfind('.') == std::string::npos ? 0 : event.rfind('.'));
  std::string full;
  for (const std::string& e : event_names_) {
    if (ShortName(e) != near) continue;
    if (full.empty() || e.rfind(package + ".", 0) == 0) full = e;
  }
  return " (did you mean '" + full + "'?)";
}

void Checker::CheckRoleRef(const Span& span, const std::string& what, const std::string& role) {
  if (roles_.count(role) == 0) {
    Error(
        span,
        what + ": role " + Quote(role) + " is not declared" + diag::DidYouMean(role, role_names_));
  }
}

// Resolves a dotted path of singular fields; sets `why` on failure.
const Field* Checker::FieldPath(const Message& root,
                                const std::string& path,
                                std::string& why) const {
  const Message* m = &root;
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const Field* f = m->FindField(part);
    if (f == nullptr) {
      std::vector<std::string> names;
      for (const Field& field : m->fields) names.push_back(field.name);
      why = Quote(part) + " is not a field of " + Quote(m->name) + diag::DidYouMean(part, names);
      return nullptr;
    }
    if (dot == std::string::npos) return f;
    if (f->kind != FieldKind::kMessage || f->repeated) {
      why = Quote(part) + " is not a singular message field, so " + Quote(path) +
            " cannot reach into it";
      return nullptr;
    }
    m = model_.FindMessage(f->type_name);
    if (m == nullptr) {
      why = "type " + Quote(f->type_name) + " is unknown";
      return nullptr;
    }
    start = dot + 1;
  }
}

}  // namespace cppsvc::model::checks
