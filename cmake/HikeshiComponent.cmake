# hikeshi_component(NAME <name> DIR <dir> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# Declares one architectural component: a static library hikeshi_<name> whose public headers live
# in <dir>/include/hikeshi/... and whose implementation details stay private to the folder.
function(hikeshi_component)
  cmake_parse_arguments(C "" "NAME" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(hikeshi_${C_NAME} STATIC ${C_SOURCES})
  add_library(hikeshi::${C_NAME} ALIAS hikeshi_${C_NAME})
  target_include_directories(hikeshi_${C_NAME}
    PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(hikeshi_${C_NAME} PUBLIC ${C_PUBLIC_DEPS} PRIVATE ${C_PRIVATE_DEPS})
endfunction()

# hikeshi_unit_tests(NAME <name> SOURCES ... [DEPS ...])
# One gtest binary per component, discovered so that ctest lists each test.
function(hikeshi_unit_tests)
  if(NOT HIKESHI_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${T_NAME} PRIVATE
    HIKESHI_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    HIKESHI_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${T_NAME} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
endfunction()
