# cppsvc_generate(TARGET <target> PROTOS <files...> [IMPORT_DIRS <dirs...>]
#                 [OUT_DIR <dir>] [OPTIONS <key=value...>] [SCHEMA_LOCK_DIRS <dirs...>])
#
# Runs protoc at build time with protoc-gen-cpp-svc and protoc's own C++ and
# gRPC generators over PROTOS (one invocation, so the plugin checks the files
# against each other), adds the generated sources and OUT_DIR to <target> and
# links it to CppSvc::runtime. Regenerates when a proto, the plugin (and so
# any template, which is built into it) or protoc changes.
#
# IMPORT_DIRS: roots the protos' import paths are relative to (default: the
#   current source directory); the cppsvc options and protobuf's well-known
#   types are always importable.
# OUT_DIR: where generated files go (default: ${CMAKE_CURRENT_BINARY_DIR}/cppsvc).
# OPTIONS: passed as --cpp-svc_opt, e.g. werror=true.
# SCHEMA_LOCK_DIRS: where the schema locks (<dir>/<name>.schema.lock.json) of
#   protos with a database are read (default: IMPORT_DIRS, i.e. next to the
#   protos). The build fails, with the plugin's located error, while a proto
#   with a database has no lock there or its contract no longer matches the
#   lock (a new migration is due): the target <target>_schema_locks (which
#   the error names) writes the new lock there, to be reviewed and committed
#   with the contract change. OPTIONS schema_lock=update turns the check off
#   (then cppsvc_add_schema_lock_test() is the only guard). The SQL
#   migrations (<dir>/migrations/NNNN_<slug>.sql) and the lock are also
#   written to OUT_DIR.
#
# <name>.cppsvc.main.cc and <name>.cppsvc_test.cc are generated too but not
# compiled into TARGET: see cppsvc_add_service() and cppsvc_add_contract_tests().
#
# Each <dir>/<name>.proto yields <name>.pb.{h,cc}, <name>.grpc.pb.{h,cc} and
# the files of every artifact of the plugin under OUT_DIR/<dir>: their names
# come from the plugin's artifact table (artifacts.def), e.g.
# <name>.cppsvc.h, <name>.cppsvc.{validate,server,client,repo}.{h,cc} and
# <name>.cppsvc.md. <name>.cppsvc.repo.{h,cc} (repositories of the file's
# tables) and <name>.cppsvc.migrations.{h,cc} (<Name>Migrations(), the
# file's migrations) are written for every file, empty when it has no tables
# or no database. The migrations' SQL is not copied into the C++: after
# protoc, CppSvcEmbedMigrations.cmake turns each OUT_DIR/<dir>/migrations/
# <NNNN_slug>.sql into a <NNNN_slug>.sql.inc beside it, which the .cc includes.
include_guard(GLOBAL)
# Kept globally so the function works from any directory or function scope,
# not only where the package was found.
set_property(GLOBAL PROPERTY CPPSVC_PROTO_DIR "${CPPSVC_PROTO_DIR}")
set_property(GLOBAL PROPERTY CPPSVC_EMBED_MIGRATIONS "${CMAKE_CURRENT_LIST_DIR}/CppSvcEmbedMigrations.cmake")
set_property(GLOBAL PROPERTY CPPSVC_SYNC_OUTPUTS "${CMAKE_CURRENT_LIST_DIR}/CppSvcSyncOutputs.cmake")
set_property(GLOBAL PROPERTY CPPSVC_SCHEMA_LOCKS_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/CppSvcSchemaLocks.cmake")

# The plugin's artifact table, read as text: the names of the files it writes
# must be known at configure time, before the plugin is built. Installed
# next to this file; the source tree points CPPSVC_ARTIFACTS_TABLE at it.
if(NOT CPPSVC_ARTIFACTS_TABLE)
  set(CPPSVC_ARTIFACTS_TABLE "${CMAKE_CURRENT_LIST_DIR}/artifacts.def")
endif()
# Sets, in the caller: <prefix>_OUTPUTS (every suffix), <prefix>_SOURCES (the
# .cc suffixes compiled into the contract library), <prefix>_MAIN and
# <prefix>_TEST (the suffixes of main() and of the contract tests).
function(_cppsvc_read_artifacts table prefix)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${table}")
  file(STRINGS "${table}" rows REGEX "^CPPSVC_ARTIFACT\\(")
  set(outputs "")
  set(sources "")
  set(main "")
  set(test "")
  foreach(row IN LISTS rows)
    if(NOT row MATCHES "^CPPSVC_ARTIFACT\\([a-z_]+, *[A-Za-z]+, *([a-z]+)[,)]")
      message(FATAL_ERROR "cppsvc: unreadable row of ${table}: ${row}")
    endif()
    set(sources_for "${CMAKE_MATCH_1}")
    string(REGEX MATCHALL "\"[^\"]+\"" quoted "${row}")
    string(REPLACE "\"" "" suffixes "${quoted}")
    list(APPEND outputs ${suffixes})
    list(FILTER suffixes INCLUDE REGEX "\\.cc$")
    if(sources_for STREQUAL "library")
      list(APPEND sources ${suffixes})
    elseif(sources_for STREQUAL "service")
      set(main ${suffixes})
    elseif(sources_for STREQUAL "tests")
      set(test ${suffixes})
    endif()
  endforeach()
  set(${prefix}_OUTPUTS ${outputs} PARENT_SCOPE)
  set(${prefix}_SOURCES ${sources} PARENT_SCOPE)
  set(${prefix}_MAIN ${main} PARENT_SCOPE)
  set(${prefix}_TEST ${test} PARENT_SCOPE)
endfunction()
_cppsvc_read_artifacts("${CPPSVC_ARTIFACTS_TABLE}" _cppsvc)
foreach(list OUTPUTS SOURCES MAIN TEST)
  set_property(GLOBAL PROPERTY CPPSVC_${list} ${_cppsvc_${list}})
endforeach()

# Appends to <var> the option naming the command that stores the schema
# locks of <target>, for the plugin's errors about missing or stale locks.
function(_cppsvc_schema_lock_options target var)
  set(build_dir "${CMAKE_BINARY_DIR}")
  if(build_dir MATCHES ",")  # protoc options are comma-separated
    set(build_dir "<build-dir>")
  endif()
  set(${var} ${${var}}
      "schema_lock_store_command=cmake --build ${build_dir} --target ${target}_schema_locks"
      PARENT_SCOPE)
endfunction()

# <target>_schema_locks: protoc with schema_lock=update into <out>.locks, and
# each lock it writes copied next to the protos (CppSvcSchemaLocks.cmake).
# Independent of <target>_generate, which fails while a lock is missing or
# stale. A new lock touches a stamp the configure step depends on, so the
# next build reconfigures and tracks it as an input of the generation.
function(_cppsvc_add_store_target target lock_dirs out_dir)
  set(stamp "${out_dir}.locks.stamp")
  if(NOT EXISTS "${stamp}")
    file(TOUCH "${stamp}")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${stamp}")
  list(JOIN lock_dirs "|" joined_dirs)
  get_property(script GLOBAL PROPERTY CPPSVC_SCHEMA_LOCKS_SCRIPT)
  add_custom_target(${target}_schema_locks
    COMMAND "${CMAKE_COMMAND}" -DMODE=store "-DOUT=${out_dir}.locks" "-DLOCK_DIRS=${joined_dirs}"
            "-DSTAMP=${stamp}" -P "${script}" $<TARGET_FILE:protobuf::protoc> ${ARGN}
    COMMENT "cpp-svc: storing the schema locks of ${target} in ${joined_dirs}"
    VERBATIM)
endfunction()

function(cppsvc_generate)
  cmake_parse_arguments(ARG "" "TARGET;OUT_DIR" "PROTOS;IMPORT_DIRS;OPTIONS;SCHEMA_LOCK_DIRS" ${ARGN})
  if(NOT ARG_TARGET)
    message(FATAL_ERROR "cppsvc_generate: TARGET is required")
  endif()
  if(NOT TARGET ${ARG_TARGET})
    message(FATAL_ERROR "cppsvc_generate: '${ARG_TARGET}' is not a target (create it first)")
  endif()
  if(NOT ARG_PROTOS)
    message(FATAL_ERROR "cppsvc_generate: PROTOS is required")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "cppsvc_generate: unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_IMPORT_DIRS)
    set(ARG_IMPORT_DIRS "${CMAKE_CURRENT_SOURCE_DIR}")
  endif()
  if(NOT ARG_OUT_DIR)
    set(ARG_OUT_DIR "${CMAKE_CURRENT_BINARY_DIR}/cppsvc")
  endif()

  set(import_args "")
  set(abs_dirs "")
  foreach(dir IN LISTS ARG_IMPORT_DIRS)
    get_filename_component(abs "${dir}" ABSOLUTE)
    list(APPEND abs_dirs "${abs}")
    list(APPEND import_args "-I${abs}")
  endforeach()
  get_property(proto_dir GLOBAL PROPERTY CPPSVC_PROTO_DIR)
  list(APPEND import_args "-I${proto_dir}")
  # protobuf's well-known types (google/protobuf/*.proto).
  get_target_property(protobuf_includes protobuf::libprotobuf INTERFACE_INCLUDE_DIRECTORIES)
  foreach(dir IN LISTS protobuf_includes)
    list(APPEND import_args "-I${dir}")
  endforeach()

  get_property(artifact_outputs GLOBAL PROPERTY CPPSVC_OUTPUTS)
  get_property(artifact_sources GLOBAL PROPERTY CPPSVC_SOURCES)
  get_property(main_suffix GLOBAL PROPERTY CPPSVC_MAIN)
  get_property(test_suffix GLOBAL PROPERTY CPPSVC_TEST)
  set(outputs "")
  set(sources "")
  set(rel_protos "")
  set(abs_protos "")
  set(migration_dirs "")
  foreach(proto IN LISTS ARG_PROTOS)
    get_filename_component(abs "${proto}" ABSOLUTE)
    set(rel "")
    foreach(dir IN LISTS abs_dirs)
      file(RELATIVE_PATH candidate "${dir}" "${abs}")
      if(NOT candidate MATCHES "^\\.\\./")
        set(rel "${candidate}")
        break()
      endif()
    endforeach()
    if(rel STREQUAL "")
      message(FATAL_ERROR "cppsvc_generate: ${proto} is not under any of IMPORT_DIRS (${ARG_IMPORT_DIRS})")
    endif()
    string(REGEX REPLACE "\\.proto$" "" base "${rel}")
    get_filename_component(rel_dir "${rel}" DIRECTORY)
    if(rel_dir STREQUAL "")
      list(APPEND migration_dirs "${ARG_OUT_DIR}/migrations" "${ARG_OUT_DIR}")
    else()
      list(APPEND migration_dirs "${ARG_OUT_DIR}/${rel_dir}/migrations" "${ARG_OUT_DIR}/${rel_dir}")
    endif()
    list(APPEND rel_protos "${rel}")
    list(APPEND abs_protos "${abs}")
    foreach(suffix .pb.cc .grpc.pb.cc ${artifact_sources})
      list(APPEND sources "${ARG_OUT_DIR}/${base}${suffix}")
    endforeach()
    foreach(suffix .pb.h .grpc.pb.h .pb.cc .grpc.pb.cc ${artifact_outputs})
      list(APPEND outputs "${ARG_OUT_DIR}/${base}${suffix}")
    endforeach()
  endforeach()

  # Schema locks: read from SCHEMA_LOCK_DIRS; those present now are inputs.
  if(NOT ARG_SCHEMA_LOCK_DIRS)
    set(ARG_SCHEMA_LOCK_DIRS ${abs_dirs})
  endif()
  set(lock_dirs "")
  set(lock_options "")
  foreach(dir IN LISTS ARG_SCHEMA_LOCK_DIRS)
    get_filename_component(abs "${dir}" ABSOLUTE)
    list(APPEND lock_dirs "${abs}")
    list(APPEND lock_options "schema_lock_dir=${abs}")
  endforeach()
  set(lock_files "")
  foreach(rel IN LISTS rel_protos)
    string(REGEX REPLACE "\\.proto$" ".schema.lock.json" lock "${rel}")
    foreach(dir IN LISTS lock_dirs)
      if(EXISTS "${dir}/${lock}")
        list(APPEND lock_files "${dir}/${lock}")
      endif()
    endforeach()
  endforeach()
  _cppsvc_schema_lock_options(${ARG_TARGET} lock_options)

  # The .sql files of the migrations become C++ initializers (<name>.sql.inc)
  # that <name>.cppsvc.migrations.cc includes; see CppSvcEmbedMigrations.cmake.
  list(REMOVE_DUPLICATES migration_dirs)
  get_property(embed_script GLOBAL PROPERTY CPPSVC_EMBED_MIGRATIONS)

  # A missing or stale lock fails the build (schema_lock=check), naming the
  # target that stores it, unless OPTIONS choose another schema_lock mode.
  set(check_options ${ARG_OPTIONS} ${lock_options})
  if(NOT ARG_OPTIONS MATCHES "(^|;)schema_lock=")
    list(APPEND check_options schema_lock=check)
  endif()
  list(JOIN check_options "," joined)
  set(opt_args "--cpp-svc_opt=${joined}")

  # protoc writes into a staging directory; only files whose content changed
  # are copied over (CppSvcSyncOutputs.cmake), so the others keep their time
  # and what includes them is not recompiled. Ninja's restat sees that.
  get_property(sync_script GLOBAL PROPERTY CPPSVC_SYNC_OUTPUTS)
  set(staging "${ARG_OUT_DIR}.staging")
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND "${CMAKE_COMMAND}" -E rm -rf "${staging}"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${staging}" "${ARG_OUT_DIR}"
    COMMAND protobuf::protoc ${import_args}
            "--plugin=protoc-gen-cpp-svc=$<TARGET_FILE:CppSvc::protoc-gen-cpp-svc>"
            "--plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>"
            "--cpp_out=${staging}" "--grpc_out=${staging}" "--cpp-svc_out=${staging}"
            ${opt_args} ${rel_protos}
    COMMAND "${CMAKE_COMMAND}" "-DFROM=${staging}" "-DTO=${ARG_OUT_DIR}" -P "${sync_script}"
    COMMAND "${CMAKE_COMMAND}" -P "${embed_script}" ${migration_dirs}
    DEPENDS ${abs_protos} ${lock_files} CppSvc::protoc-gen-cpp-svc gRPC::grpc_cpp_plugin protobuf::protoc
            "${proto_dir}/cppsvc/v1/options.proto" "${embed_script}" "${sync_script}"
    COMMENT "cpp-svc: generating ${ARG_TARGET} from ${rel_protos}"
    VERBATIM)

  add_custom_target(${ARG_TARGET}_generate DEPENDS ${outputs})
  _cppsvc_add_store_target(${ARG_TARGET} "${lock_dirs}" "${ARG_OUT_DIR}"
    ${import_args} "--plugin=protoc-gen-cpp-svc=$<TARGET_FILE:CppSvc::protoc-gen-cpp-svc>"
    "--cpp-svc_opt=${joined},schema_lock=update,emit=migrations" ${rel_protos})
  # What cppsvc_add_schema_lock_test() runs.
  set_property(TARGET ${ARG_TARGET} PROPERTY CPPSVC_SCHEMA_LOCK_CHECK ${import_args}
    "--plugin=protoc-gen-cpp-svc=$<TARGET_FILE:CppSvc::protoc-gen-cpp-svc>" "--cpp-svc_opt=${joined},schema_lock=check,emit=migrations" ${rel_protos})

  target_sources(${ARG_TARGET} PRIVATE ${sources})
  target_include_directories(${ARG_TARGET} PUBLIC "$<BUILD_INTERFACE:${ARG_OUT_DIR}>")
  target_link_libraries(${ARG_TARGET} PUBLIC CppSvc::runtime gRPC::grpc++)
  set_property(TARGET ${ARG_TARGET} APPEND PROPERTY CPPSVC_GENERATED_FILES ${outputs})
  foreach(rel IN LISTS rel_protos)
    string(REGEX REPLACE "\\.proto$" "" base "${rel}")
    set_property(TARGET ${ARG_TARGET} PROPERTY "CPPSVC_MAIN_${rel}" "${ARG_OUT_DIR}/${base}${main_suffix}")
    set_property(TARGET ${ARG_TARGET} PROPERTY "CPPSVC_TEST_${rel}" "${ARG_OUT_DIR}/${base}${test_suffix}")
  endforeach()
endfunction()

# cppsvc_add_service(TARGET <executable> CONTRACTS <library> PROTO <proto> [SOURCES <files...>])
#
# An executable running the service(s) of PROTO: the main() generated for it
# by cppsvc_generate(TARGET <library> ...), plus SOURCES, which hold the
# handler class and its CPPSVC_REGISTER_HANDLERS line. PROTO is spelled as
# its import path (e.g. commerce/orders/v1/orders.proto).
function(cppsvc_add_service)
  cmake_parse_arguments(ARG "" "TARGET;CONTRACTS;PROTO" "SOURCES" ${ARGN})
  foreach(required TARGET CONTRACTS PROTO)
    if(NOT ARG_${required})
      message(FATAL_ERROR "cppsvc_add_service: ${required} is required")
    endif()
  endforeach()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "cppsvc_add_service: unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  get_target_property(main_file ${ARG_CONTRACTS} "CPPSVC_MAIN_${ARG_PROTO}")
  if(NOT main_file)
    message(FATAL_ERROR "cppsvc_add_service: ${ARG_PROTO} was not generated by cppsvc_generate(TARGET ${ARG_CONTRACTS})")
  endif()
  add_executable(${ARG_TARGET} "${main_file}" ${ARG_SOURCES})
  target_link_libraries(${ARG_TARGET} PRIVATE ${ARG_CONTRACTS})
endfunction()

# cppsvc_add_contract_tests(TARGET <executable> CONTRACTS <library> PROTO <proto>
#                           [PROPERTIES <ctest property> <value> ...])
#
# A GoogleTest executable of the contract tests generated for PROTO: every
# RPC against each role, no token and each kind of bad token; ownership;
# both sides of every validation rule; and, for an RPC with an
# idempotency_key and an owner_field, replays by another caller (these need
# PostgreSQL: CPPSVC_TEST_DATABASE_URL or CPPSVC_TEST_DATABASE_URL_FILE in
# the tests' environment, e.g. PROPERTIES ENVIRONMENT
# CPPSVC_TEST_DATABASE_URL=postgresql://127.0.0.1/postgres; without it they
# skip). Registers them with ctest, with PROPERTIES set on each.
function(cppsvc_add_contract_tests)
  cmake_parse_arguments(ARG "" "TARGET;CONTRACTS;PROTO" "PROPERTIES" ${ARGN})
  foreach(required TARGET CONTRACTS PROTO)
    if(NOT ARG_${required})
      message(FATAL_ERROR "cppsvc_add_contract_tests: ${required} is required")
    endif()
  endforeach()
  get_target_property(test_file ${ARG_CONTRACTS} "CPPSVC_TEST_${ARG_PROTO}")
  if(NOT test_file)
    message(FATAL_ERROR "cppsvc_add_contract_tests: ${ARG_PROTO} was not generated by cppsvc_generate(TARGET ${ARG_CONTRACTS})")
  endif()
  if(NOT TARGET GTest::gtest_main)
    find_package(GTest CONFIG REQUIRED)
  endif()
  include(GoogleTest)
  add_executable(${ARG_TARGET} "${test_file}")
  target_link_libraries(${ARG_TARGET} PRIVATE ${ARG_CONTRACTS} CppSvc::testing GTest::gtest_main)
  set(properties)
  if(ARG_PROPERTIES)
    set(properties PROPERTIES ${ARG_PROPERTIES})
  endif()
  gtest_discover_tests(${ARG_TARGET} TEST_PREFIX "${ARG_TARGET}." DISCOVERY_TIMEOUT 60 ${properties})
endfunction()

# cppsvc_add_schema_lock_test(NAME <test> CONTRACTS <library>)
#
# A ctest that fails while a schema lock of the protos of
# cppsvc_generate(TARGET <library> ...) is missing or stale next to them,
# with the plugin's located errors and the command that stores the lock. It
# checks the source tree as it is when the test runs, so it also catches a
# lock changed or lost since the last build, and a project that builds with
# OPTIONS schema_lock=update.
function(cppsvc_add_schema_lock_test)
  cmake_parse_arguments(ARG "" "NAME;CONTRACTS" "" ${ARGN})
  foreach(required NAME CONTRACTS)
    if(NOT ARG_${required})
      message(FATAL_ERROR "cppsvc_add_schema_lock_test: ${required} is required")
    endif()
  endforeach()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "cppsvc_add_schema_lock_test: unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  get_target_property(check_args ${ARG_CONTRACTS} CPPSVC_SCHEMA_LOCK_CHECK)
  if(NOT check_args)
    message(FATAL_ERROR "cppsvc_add_schema_lock_test: ${ARG_CONTRACTS} was not set up by cppsvc_generate()")
  endif()
  get_property(script GLOBAL PROPERTY CPPSVC_SCHEMA_LOCKS_SCRIPT)
  add_test(NAME ${ARG_NAME}
    COMMAND "${CMAKE_COMMAND}" -DMODE=check "-DOUT=${CMAKE_CURRENT_BINARY_DIR}/${ARG_NAME}.out"
            -P "${script}" $<TARGET_FILE:protobuf::protoc> ${check_args})
endfunction()
