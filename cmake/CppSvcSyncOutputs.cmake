# cmake -P CppSvcSyncOutputs.cmake <staging-dir> <out-dir>
#
# protoc rewrites every output of a run. cppsvc_generate() lets it write
# into <staging-dir>, then this copies each file to the same path under
# <out-dir> only where the content differs, and removes <staging-dir>. A file
# whose content did not change keeps its time, so touching one proto (or a
# change that alters a few files) recompiles only what really changed.
set(first_arg 0)
foreach(i RANGE ${CMAKE_ARGC})
  if(CMAKE_ARGV${i} STREQUAL "-P")
    math(EXPR first_arg "${i} + 2")
    break()
  endif()
endforeach()
math(EXPR second_arg "${first_arg} + 1")
set(from "${CMAKE_ARGV${first_arg}}")
set(to "${CMAKE_ARGV${second_arg}}")
if(NOT IS_DIRECTORY "${from}" OR "${to}" STREQUAL "")
  message(FATAL_ERROR "usage: cmake -P CppSvcSyncOutputs.cmake <staging-dir> <out-dir>")
endif()

file(GLOB_RECURSE files RELATIVE "${from}" "${from}/*")
foreach(f IN LISTS files)
  get_filename_component(dir "${to}/${f}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  file(COPY_FILE "${from}/${f}" "${to}/${f}" ONLY_IF_DIFFERENT)
endforeach()
file(REMOVE_RECURSE "${from}")
