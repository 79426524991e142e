# SPDX-License-Identifier: GPL-2.0
# cmake/s3.cmake - the S3 client (issue #6), the cache store, their unit tests and s3tool.
#
# Included by the top-level CMakeLists.txt after bpfuse_core is defined.  Defines:
#   bpfuse_s3     static library: s3_sign, s3_cred, s3_xml, s3_http, s3_client, cache
#                 (links libcurl, libcrypto, libxml2, zlib, pthreads; uses log_msg() from
#                 src/log.c, which bpfuse_core holds: link bpfuse_s3 before bpfuse_core)
#   s3tool        CLI over the client (build/s3tool), driven by tests/s3/run.sh
#   unit_s3_sign, unit_s3_cred, unit_s3_xml, unit_s3_http, unit_s3_attrs, unit_cache   ctest cases
#                 (cmocka, no root, no network beyond a scripted server on 127.0.0.1)
#   s3            ctest case running tests/s3/run.sh against a loopback Ceph RGW (77 = skip)
# Debian packages: scripts/packages-s3.txt.

# enable_testing() is called by the top level only after this file; register ours now.
enable_testing()

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(BPFUSE_S3_DEPS REQUIRED IMPORTED_TARGET libcurl libcrypto libxml-2.0 zlib)

set(BPFUSE_S3_SOURCES)
foreach(m s3_sign s3_cred s3_xml s3_http s3_client cache cache_scrub)
  if(EXISTS ${CMAKE_SOURCE_DIR}/src/${m}.c)
    list(APPEND BPFUSE_S3_SOURCES src/${m}.c)
  endif()
endforeach()

add_library(bpfuse_s3 STATIC ${BPFUSE_S3_SOURCES})
target_include_directories(bpfuse_s3 PUBLIC ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(bpfuse_s3 PUBLIC PkgConfig::BPFUSE_S3_DEPS Threads::Threads)

# The tests and s3tool take log.c alone rather than all of bpfuse_core, so they build
# while the daemon's own files are in flux.
add_library(bpfuse_s3_log OBJECT src/log.c)
target_include_directories(bpfuse_s3_log PRIVATE ${CMAKE_SOURCE_DIR}/src ${FUSE3_INCLUDE_DIRS})
set(BPFUSE_S3_TEST_LIBS bpfuse_s3 ${FUSE3_STATIC} Threads::Threads ${CMAKE_DL_LIBS})

find_library(BPFUSE_S3_CMOCKA cmocka)
if(BPFUSE_S3_CMOCKA)
  foreach(t s3_sign s3_cred s3_xml s3_http s3_attrs cache)
    if(EXISTS ${CMAKE_SOURCE_DIR}/tests/unit/test_${t}.c)
      add_executable(test_${t} ${CMAKE_SOURCE_DIR}/tests/unit/test_${t}.c
        $<TARGET_OBJECTS:bpfuse_s3_log>)
      target_link_libraries(test_${t} PRIVATE ${BPFUSE_S3_TEST_LIBS} ${BPFUSE_S3_CMOCKA})
      set_target_properties(test_${t} PROPERTIES RUNTIME_OUTPUT_DIRECTORY
        ${CMAKE_BINARY_DIR}/tests/unit)
      if(t STREQUAL "cache")
        add_test(NAME unit_cache COMMAND test_${t})
      else()
        add_test(NAME unit_${t} COMMAND test_${t})
      endif()
    endif()
  endforeach()
endif()

if(EXISTS ${CMAKE_SOURCE_DIR}/tests/s3/s3tool.c)
  add_executable(s3tool ${CMAKE_SOURCE_DIR}/tests/s3/s3tool.c $<TARGET_OBJECTS:bpfuse_s3_log>)
  target_link_libraries(s3tool PRIVATE ${BPFUSE_S3_TEST_LIBS})
  set_target_properties(s3tool PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
  add_test(NAME s3 COMMAND ${CMAKE_SOURCE_DIR}/tests/s3/run.sh ${CMAKE_BINARY_DIR}/s3tool)
  set_tests_properties(s3 PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
endif()
