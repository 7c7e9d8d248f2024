# Project-wide helpers: every StreamForge target goes through these so warnings and layout stay uniform.

# Strict warnings apply to our own code only; third-party headers come in as SYSTEM includes.
function(sf_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers)
  target_compile_features(${target} PUBLIC cxx_std_20)
endfunction()

# sf_add_library(NAME sources... [LIBS deps...]) - a component library; headers are included as "component/x.h".
function(sf_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_LIBS})
  sf_target_defaults(${name})
endfunction()

# sf_add_test(NAME SOURCES a.cpp... LIBS deps... [TIMEOUT s] [ENVIRONMENT VAR=value...]) - a GoogleTest binary registered with CTest.
function(sf_add_test name)
  if(NOT SF_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;ENVIRONMENT" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  sf_target_defaults(${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
    PROPERTIES TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "${ARG_ENVIRONMENT}")
endfunction()

# sf_add_bench(NAME SOURCES a.cpp... LIBS deps...) - a Google Benchmark binary (run by hand, Release).
function(sf_add_bench name)
  if(NOT SF_BUILD_BENCH)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} benchmark::benchmark)
  sf_target_defaults(${name})
endfunction()
