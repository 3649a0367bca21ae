#include "emit/template.h"

#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "emit/cpp_layout.h"

namespace cppsvc::emit {

// Defined in the source generated from templates/ at build time.
const std::map<std::string_view, std::string_view>& EmbeddedTemplates();

namespace {

using Mustache = kainjow::mustache::mustache;

// The Mustache spec drops a line holding only a section or partial tag
// ({{#x}}, {{^x}}, {{/x}}, {{!...}}, {{>x}}) whether or not the section
// renders; kainjow drops it only when it renders. Such lines get a marker after the tag, and every
// output line that is just the marker is removed after rendering.
constexpr char kStandaloneMark = '\x01';

bool IsStandaloneTag(std::string_view line) {
  size_t first = line.find_first_not_of(" \t");
  size_t last = line.find_last_not_of(" \t");
  if (first == std::string_view::npos || last - first < 4) return false;
  std::string_view tag = line.substr(first, last - first + 1);
  return tag.substr(0, 2) == "{{" &&
         std::string_view("#^/!>").find(tag[2]) != std::string_view::npos &&
         tag.find("}}") == tag.size() - 2;
}

template <typename Fn>
void ForEachLine(std::string_view text, Fn fn) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    fn(text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos),
       end != std::string_view::npos);
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
}

std::string MarkStandaloneTags(std::string_view text) {
  std::string out;
  ForEachLine(text, [&](std::string_view line, bool newline) {
    if (IsStandaloneTag(line)) {
      size_t first = line.find_first_not_of(" \t");
      out += line.substr(first, line.find_last_not_of(" \t") - first + 1);
      out += kStandaloneMark;
    } else {
      out += line;
    }
    if (newline) out += '\n';
  });
  return out;
}

std::string DropMarkedLines(std::string_view text) {
  std::string out;
  ForEachLine(text, [&](std::string_view line, bool newline) {
    if (line.size() == 1 && line[0] == kStandaloneMark) return;
    out += line;
    if (newline) out += '\n';
  });
  return out;
}

// Lines of `text` each passed through `fn`, newlines kept.
template <typename Fn>
std::string EachLine(std::string_view text, Fn fn) {
  std::string out;
  ForEachLine(DropMarkedLines(text), [&](std::string_view line, bool newline) {
    out += fn(std::string(line));
    if (newline) out += '\n';
  });
  return out;
}

// `{{#fit}}  statement;{{/fit}}`: each rendered line laid out as
// clang-format would (see LayoutStatement), so templates hold whole
// statements and generated code stays clean under clang-format. Trailing
// spaces are dropped: a line opening a block ends in `{ {{/fit}}`, as
// `{{{/fit}}` would read as a triple mustache.
std::string Fit(const std::string& text, const kainjow::mustache::renderer& render) {
  return EachLine(render(text), [](std::string line) {
    line.erase(line.find_last_not_of(' ') + 1);
    return LayoutStatement(line);
  });
}

// `{{#line_comment}}  words...{{/line_comment}}`: the words (across
// template lines) as `// ` lines at the indent of the first, wrapped at the
// column limit.
std::string Comment(const std::string& text, const kainjow::mustache::renderer& render) {
  std::string words = DropMarkedLines(render(text));
  size_t indent = words.find_first_not_of(' ');
  std::string out = LayoutComment(indent == std::string::npos ? 0 : indent, words);
  if (!out.empty()) out.pop_back();  // the template line ends it
  return out;
}

// `{{#braced}}a, b{{/braced}}` is `{a, b}`: a brace written before a tag
// would read as a triple mustache (`{{{`).
std::string Braced(const std::string& text, const kainjow::mustache::renderer& render) {
  return "{" + render(text) + "}";
}

// What every template sees below its view data: the lambdas above, and
// every embedded template as a partial named by its path without
// ".mustache" (e.g. {{>repository/push_column}}). A view key of the same
// name would hide one, hence names no view uses.
const Data& Helpers() {
  static const Data helpers = [] {
    Data d;
    d.set("fit", Data(kainjow::mustache::lambda2(Fit)));
    d.set("line_comment", Data(kainjow::mustache::lambda2(Comment)));
    d.set("braced", Data(kainjow::mustache::lambda2(Braced)));
    for (const auto& [name, text] : EmbeddedTemplates()) {
      constexpr std::string_view kSuffix = ".mustache";
      if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) {
        continue;
      }
      std::string marked = MarkStandaloneTags(text);
      d.set(std::string(name.substr(0, name.size() - kSuffix.size())),
            Data(kainjow::mustache::partial([marked] { return marked; })));
    }
    return d;
  }();
  return helpers;
}

std::unique_ptr<Mustache> Compile(std::string_view name, std::string_view text) {
  auto tmpl = std::make_unique<Mustache>(MarkStandaloneTags(text));
  if (!tmpl->is_valid()) {
    throw std::logic_error("template " + std::string(name) + ": " + tmpl->error_message());
  }
  tmpl->set_custom_escape([](const std::string& s) { return s; });
  return tmpl;
}

std::string RenderWith(Mustache& tmpl, std::string_view name, const Data& data) {
  kainjow::mustache::context<std::string> ctx(&Helpers());
  ctx.push(&data);
  std::string out = DropMarkedLines(tmpl.render(ctx));
  if (!tmpl.is_valid()) {
    throw std::logic_error("template " + std::string(name) + ": " + tmpl.error_message());
  }
  return out;
}

// Each template is parsed once per process.
Mustache& Parsed(std::string_view name) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Mustache>, std::less<>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(name);
  if (it != cache.end()) return *it->second;
  const auto& all = EmbeddedTemplates();
  auto src = all.find(name);
  if (src == all.end()) throw std::logic_error("no embedded template " + std::string(name));
  return *cache.emplace(std::string(name), Compile(name, src->second)).first->second;
}

}  // namespace

Data List() {
  return Data(Data::type::list);
}

Data OneOf(std::initializer_list<const char*> forms, std::string_view chosen) {
  Data v;
  for (const char* form : forms) v.set(form, Data(chosen == form));
  return v;
}

std::string Render(std::string_view name, const Data& data) {
  return RenderWith(Parsed(name), name, data);
}

std::string RenderText(std::string_view text, const Data& data) {
  return RenderWith(*Compile("(text)", text), "(text)", data);
}

}  // namespace cppsvc::emit
