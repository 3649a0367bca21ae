// Mustache templates compiled into the plugin (see cmake/EmbedTemplates.cmake)
// and rendered without HTML escaping: the output is code, not a web page.
//
// Every generated line is written in a template; emitters only prepare
// data. Besides its view data, a template can use:
//   {{#fit}}  statement;{{/fit}}       the statement laid out as clang-format
//                                      does (emit/cpp_layout.h)
//   {{#line_comment}}  text{{/line_comment}}  `// ` lines wrapped at 100 columns
//   {{#braced}}a, b{{/braced}}         `{a, b}` (a brace before a tag reads as `{{{`)
//   {{>dir/name}}                      templates/dir/name.mustache as a partial
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <kainjow/mustache.hpp>

namespace cppsvc::emit {

using Data = kainjow::mustache::data;

// A list value for Data::set.
Data List();

// A view of one thing that takes one of several forms: a flag per form, only
// `chosen` true, so a template writes each form in its own {{#form}} section.
// Every flag is set, so none resolves to an outer value of the same name.
Data OneOf(std::initializer_list<const char*> forms, std::string_view chosen);

// Renders the embedded template `name` (its path under templates/, e.g.
// "handler_base/handler_base.h.mustache"). Throws std::logic_error for an
// unknown or invalid template: that is a bug in the plugin, not in the input.
std::string Render(std::string_view name, const Data& data);

// Renders template text with the same rules (for tests).
std::string RenderText(std::string_view text, const Data& data);

}  // namespace cppsvc::emit
