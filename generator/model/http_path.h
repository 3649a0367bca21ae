// Parser of HTTP path templates (the google.api.http grammar):
//   Template = "/" Segments [ ":" LITERAL ] ;
//   Segments = Segment { "/" Segment } ;
//   Segment  = "*" | "**" | LITERAL | "{" FieldPath [ "=" Segments ] "}" ;
//   FieldPath = IDENT { "." IDENT } ;
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cppsvc::model {

struct PathTemplate {
  std::vector<std::string> variables;  // field paths, in order
  // The template with every variable replaced by "{}": two routes with the
  // same verb and key serve the same URLs.
  std::string key;
  // The template with each variable written `{field.path}`, its segment
  // pattern dropped: the form OpenAPI paths take.
  std::string named;
};

// Returns false and sets `error` (lowercase, no final period) when `path` is
// not a valid template.
bool ParsePathTemplate(std::string_view path, PathTemplate& out, std::string& error);

}  // namespace cppsvc::model
