# cmake -DMODE=store|check -DOUT=<dir> [-DLOCK_DIRS=<dir>|<dir>...] [-DSTAMP=<file>]
#       -P CppSvcSchemaLocks.cmake <protoc> <protoc arguments...>
#
# Runs protoc (with protoc-gen-cpp-svc and the --cpp-svc_opt given in the
# arguments) into a fresh OUT, for the schema locks of cppsvc_generate():
#   store  the <target>_schema_locks target: protoc runs with
#          schema_lock=update; every lock it writes is copied to the lock
#          directory already holding it, else to the first of LOCK_DIRS
#          ('|'-separated). A lock that did not exist before touches STAMP,
#          which cppsvc_generate() made a configure dependency, so the next
#          build reconfigures and tracks the new lock as an input.
#   check  cppsvc_add_schema_lock_test(): protoc runs with schema_lock=check;
#          the test fails, with the plugin's errors, when a lock is missing
#          or stale.
set(args "")
set(after_script FALSE)
foreach(i RANGE ${CMAKE_ARGC})
  if(i EQUAL CMAKE_ARGC)
    break()
  elseif(after_script)
    list(APPEND args "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "-P")
    math(EXPR script "${i} + 1")
  elseif(DEFINED script AND i EQUAL script)
    set(after_script TRUE)
  endif()
endforeach()
if(NOT MODE MATCHES "^(store|check)$" OR NOT OUT OR NOT args)
  message(FATAL_ERROR "usage: cmake -DMODE=store|check -DOUT=<dir> -P CppSvcSchemaLocks.cmake <protoc> <args...>")
endif()

file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")
execute_process(COMMAND ${args} "--cpp-svc_out=${OUT}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  string(REGEX REPLACE "(^|\n)--cpp-svc_out: " "\\1" out "${out}")
  message(FATAL_ERROR "${out}")
endif()
file(GLOB_RECURSE locks RELATIVE "${OUT}" "${OUT}/*.schema.lock.json")
list(SORT locks)
if(MODE STREQUAL "check")
  list(LENGTH locks n)
  message("ok: ${n} schema lock(s) up to date")
  return()
endif()

string(REPLACE "|" ";" lock_dirs "${LOCK_DIRS}")
list(GET lock_dirs 0 first_dir)
foreach(lock IN LISTS locks)
  set(dest "${first_dir}/${lock}")
  foreach(dir IN LISTS lock_dirs)
    if(EXISTS "${dir}/${lock}")
      set(dest "${dir}/${lock}")
      break()
    endif()
  endforeach()
  if(NOT EXISTS "${dest}" AND STAMP)
    file(TOUCH "${STAMP}")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${OUT}/${lock}" "${dest}"
                  RESULT_VARIABLE differs OUTPUT_QUIET ERROR_QUIET)
  if(differs)
    get_filename_component(dest_dir "${dest}" DIRECTORY)
    file(MAKE_DIRECTORY "${dest_dir}")
    file(COPY_FILE "${OUT}/${lock}" "${dest}")
    message("stored ${dest}: review it, with its new migration, and commit it with the proto")
  else()
    message("up to date: ${dest}")
  endif()
endforeach()
