# Build helpers that keep every target's dependencies declared in one place.
#
#   ailab_cc_library(NAME pg SRCS src/pool.cc DEPS absl::status PRIVATE_DEPS PkgConfig::PQXX)
#     builds the static library ailab_pg with the alias ailab::pg; the folder's
#     include/ is its public include path.
#   ailab_cc_binary(NAME ailab-catalog SRCS main.cc DEPS ailab::rpc)
#   ailab_cc_test(NAME pg_test SRCS pool_test.cc DEPS ailab::pg LABELS postgres)
#     builds one Catch2 executable and registers it with CTest under NAME.
#     LABELS: unit (default), postgres, redis, dicom, torch, e2e, slow.

set(AILAB_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)

function(ailab_cc_library)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(ailab_${A_NAME} STATIC ${A_SRCS})
  add_library(ailab::${A_NAME} ALIAS ailab_${A_NAME})
  target_include_directories(ailab_${A_NAME} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                             PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_options(ailab_${A_NAME} PRIVATE ${AILAB_WARNINGS})
  target_link_libraries(ailab_${A_NAME} PUBLIC ${A_DEPS} PRIVATE ${A_PRIVATE_DEPS})
endfunction()

function(ailab_cc_binary)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  target_compile_options(${A_NAME} PRIVATE ${AILAB_WARNINGS})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS})
  set_target_properties(${A_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
endfunction()

function(ailab_cc_test)
  cmake_parse_arguments(A "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 600)
  endif()
  add_executable(${A_NAME} ${A_SRCS})
  target_compile_options(${A_NAME} PRIVATE ${AILAB_WARNINGS})
  target_link_libraries(${A_NAME} PRIVATE ailab_catch_main ${A_DEPS})
  set_target_properties(${A_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${A_NAME} COMMAND ${A_NAME} --reporter compact)
  set_tests_properties(${A_NAME} PROPERTIES LABELS "${A_LABELS}" TIMEOUT ${A_TIMEOUT}
    ENVIRONMENT "AILAB_SOURCE_DIR=${PROJECT_SOURCE_DIR};AILAB_BINARY_DIR=${CMAKE_BINARY_DIR}")
endfunction()

# ailab_bench(NAME bench_metrics SRCS metrics_bench.cc DEPS ailab::metrics)
#   builds one benchmark executable into <build>/bench, outside the default build;
#   `ninja bench` builds them all and deploy/bench.sh runs them against their anchors.
function(ailab_bench)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${A_NAME} EXCLUDE_FROM_ALL ${A_SRCS})
  target_compile_options(${A_NAME} PRIVATE ${AILAB_WARNINGS})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS})
  set_target_properties(${A_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
  add_dependencies(bench ${A_NAME})
endfunction()

# ailab_proto_library(NAME catalog_proto PROTOS ailab/catalog/v1/catalog.proto
#                     DEPS ailab::common_proto)
# generates C++ and gRPC code for protos given relative to proto/.
function(ailab_proto_library)
  cmake_parse_arguments(A "" "NAME" "PROTOS;DEPS" ${ARGN})
  set(out ${CMAKE_BINARY_DIR}/proto_gen)
  file(MAKE_DIRECTORY ${out})
  set(abs_protos)
  foreach(p ${A_PROTOS})
    list(APPEND abs_protos ${PROJECT_SOURCE_DIR}/proto/${p})
  endforeach()
  add_library(ailab_${A_NAME} STATIC ${abs_protos})
  add_library(ailab::${A_NAME} ALIAS ailab_${A_NAME})
  target_include_directories(ailab_${A_NAME} PUBLIC ${out})
  target_link_libraries(ailab_${A_NAME} PUBLIC protobuf::libprotobuf gRPC::grpc++ ${A_DEPS})
  # protobuf_generate() (CMake 3.25) names outputs relative to the current source folder;
  # from proto/ so that ailab/<area>/v1/x.proto becomes proto_gen/ailab/<area>/v1/x.pb.h.
  set(CMAKE_CURRENT_SOURCE_DIR ${PROJECT_SOURCE_DIR}/proto)
  protobuf_generate(TARGET ailab_${A_NAME} LANGUAGE cpp
    IMPORT_DIRS ${PROJECT_SOURCE_DIR}/proto PROTOC_OUT_DIR ${out})
  protobuf_generate(TARGET ailab_${A_NAME} LANGUAGE grpc
    GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
    PLUGIN "protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>"
    IMPORT_DIRS ${PROJECT_SOURCE_DIR}/proto PROTOC_OUT_DIR ${out})
endfunction()
