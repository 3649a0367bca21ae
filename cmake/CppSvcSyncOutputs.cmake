# cmake -DFROM=<staging-dir> -DTO=<out-dir> -P CppSvcSyncOutputs.cmake
#
# protoc rewrites every output of a run. cppsvc_generate() lets it write
# into <staging-dir>, then this copies each file to the same path under
# <out-dir> only where the content differs, and removes <staging-dir>. A file
# whose content did not change keeps its time, so touching one proto (or a
# change that alters a few files) recompiles only what really changed.
if(NOT IS_DIRECTORY "${FROM}" OR "${TO}" STREQUAL "")
  message(FATAL_ERROR "usage: cmake -DFROM=<staging-dir> -DTO=<out-dir> -P CppSvcSyncOutputs.cmake")
endif()

file(GLOB_RECURSE files RELATIVE "${FROM}" "${FROM}/*")
foreach(f IN LISTS files)
  get_filename_component(dir "${TO}/${f}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  file(COPY_FILE "${FROM}/${f}" "${TO}/${f}" ONLY_IF_DIFFERENT)
endforeach()
file(REMOVE_RECURSE "${FROM}")
