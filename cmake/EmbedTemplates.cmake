# cmake -DTEMPLATE_DIR=<dir> -DOUTPUT=<file.cc> -P EmbedTemplates.cmake
# Writes a C++ source holding every *.mustache file under TEMPLATE_DIR (and
# the plain SQL files emitted verbatim, *.sql) as a raw string literal, keyed
# by its path relative to TEMPLATE_DIR, so the plugin is one self-contained
# binary.
file(GLOB_RECURSE templates RELATIVE "${TEMPLATE_DIR}" "${TEMPLATE_DIR}/*.mustache" "${TEMPLATE_DIR}/*.sql")
list(SORT templates)
set(body "")
foreach(name IN LISTS templates)
  file(READ "${TEMPLATE_DIR}/${name}" text)
  string(FIND "${text}" ")cppsvc_template\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${name} contains the raw string delimiter")
  endif()
  string(APPEND body "      {\"${name}\", R\"cppsvc_template(${text})cppsvc_template\"},\n")
endforeach()
set(content "// Generated from templates/ by cmake/EmbedTemplates.cmake.
#include <map>
#include <string_view>

namespace cppsvc::emit {

const std::map<std::string_view, std::string_view>& EmbeddedTemplates() {
  static const std::map<std::string_view, std::string_view> kTemplates = {
${body}  };
  return kTemplates;
}

}  // namespace cppsvc::emit
")
# Only touch the output when it changes, so the plugin is not relinked for nothing.
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
  if(old STREQUAL content)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${content}")
