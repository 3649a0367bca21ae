# cmake -P CppSvcEmbedMigrations.cmake <migrations-dir>...
#
# Turns every <migrations-dir>/<name>.sql into <name>.sql.inc next to it: one
# initializer `{"<name>", R"cppsvc_sql(<the file, byte for byte>)cppsvc_sql"},`
# that <base>.cppsvc.migrations.cc #includes. So each migration's SQL exists
# once in a repository (the .sql file the plugin writes and the schema lock
# records) and the C++ gets it at build time, with the same bytes and so the
# same checksum. cppsvc_generate() runs this after protoc; a build driving
# protoc itself runs it over the migrations directories of its output.
# Directories that do not exist (files without a database) are skipped.
# The same is done for each <dir>/<name>.openapi.json (see below), for the
# gateway's main(): cppsvc_generate() passes the proto directories too.
set(delimiter "cppsvc_sql")
set(first_arg 0)
foreach(i RANGE ${CMAKE_ARGC})
  if(CMAKE_ARGV${i} STREQUAL "-P")
    math(EXPR first_arg "${i} + 2")
    break()
  endif()
endforeach()

foreach(i RANGE ${first_arg} ${CMAKE_ARGC})
  if(i EQUAL CMAKE_ARGC)
    break()
  endif()
  set(dir "${CMAKE_ARGV${i}}")
  file(GLOB sql_files "${dir}/*.sql")
  foreach(sql IN LISTS sql_files)
    get_filename_component(name "${sql}" NAME_WLE)
    file(READ "${sql}" text)
    string(FIND "${text}" ")${delimiter}\"" clash)
    if(NOT clash EQUAL -1)
      message(FATAL_ERROR "${sql} contains the raw string delimiter )${delimiter}\"")
    endif()
    set(content "// Generated from ${name}.sql at build time by CppSvcEmbedMigrations.cmake.
{\"${name}\", R\"${delimiter}(${text})${delimiter}\"},
")
    # Only touch the output when it changes: the including .cc need not be
    # recompiled for nothing.
    set(inc "${sql}.inc")
    if(EXISTS "${inc}")
      file(READ "${inc}" old)
      if(old STREQUAL content)
        continue()
      endif()
    endif()
    file(WRITE "${inc}" "${content}")
  endforeach()
  # An OpenAPI document becomes kOpenApiDocument, which the gateway's main()
  # #includes (<name>.openapi.json.inc).
  file(GLOB json_files "${dir}/*.openapi.json")
  foreach(json IN LISTS json_files)
    get_filename_component(name "${json}" NAME)
    file(READ "${json}" text)
    string(FIND "${text}" ")cppsvc_json\"" clash)
    if(NOT clash EQUAL -1)
      message(FATAL_ERROR "${json} contains the raw string delimiter )cppsvc_json\"")
    endif()
    set(content "// Generated from ${name} at build time by CppSvcEmbedMigrations.cmake.
constexpr char kOpenApiDocument[] = R\"cppsvc_json(${text})cppsvc_json\";
")
    set(inc "${json}.inc")
    if(EXISTS "${inc}")
      file(READ "${inc}" old)
      if(old STREQUAL content)
        continue()
      endif()
    endif()
    file(WRITE "${inc}" "${content}")
  endforeach()
endforeach()
