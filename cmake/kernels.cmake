# kernels.cmake - the SIMD kernels: per-file instruction-set flags for
# kernels/tokenize_<isa>.c, the RS_HAVE_<ISA> definitions that tell
# dispatch.c which tables exist, and the tokenizer benchmark.
#
# Each ISA file is compiled (by the kernels/*.c glob) on every target; it
# holds code only when given its flags here, so a flag the compiler lacks,
# or another architecture, leaves it empty and its table unlisted.
# Included from the top-level CMakeLists.txt after RS_KERNEL_SRC is set.
include(CheckCCompilerFlag)

set(RS_KERNEL_DIR ${CMAKE_SOURCE_DIR}/kernels)
set(RS_KERNEL_HAVE "")

# Sets <var> when the compiler accepts every flag of the list.
function(rs_check_flags var)
  set(ok TRUE)
  foreach(f IN LISTS ARGN)
    string(MAKE_C_IDENTIFIER "RS_CC_FLAG${f}" cvar)
    check_c_compiler_flag("${f}" ${cvar})
    if(NOT ${cvar})
      set(ok FALSE)
    endif()
  endforeach()
  set(${var} ${ok} PARENT_SCOPE)
endfunction()

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|x64)$")
  set(RS_FLAGS_SSE42 -msse4.2 -mpopcnt)
  set(RS_FLAGS_AVX2 -mavx2 -mbmi -mbmi2 -mpopcnt -mlzcnt)
  set(RS_FLAGS_AVX512 -mavx512f -mavx512bw -mbmi -mbmi2 -mpopcnt -mlzcnt)
  foreach(isa SSE42 AVX2 AVX512)
    rs_check_flags(RS_CC_${isa} ${RS_FLAGS_${isa}})
    string(TOLOWER ${isa} lower)
    if(RS_CC_${isa})
      set_source_files_properties(${RS_KERNEL_DIR}/tokenize_${lower}.c PROPERTIES COMPILE_OPTIONS "${RS_FLAGS_${isa}}")
      list(APPEND RS_KERNEL_HAVE RS_HAVE_${isa})
    else()
      message(STATUS "rostrum: ${CMAKE_C_COMPILER_ID} lacks ${RS_FLAGS_${isa}}: no ${lower} kernel")
    endif()
  endforeach()
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  list(APPEND RS_KERNEL_HAVE RS_HAVE_NEON) # NEON is part of the AArch64 base
endif()
message(STATUS "rostrum: SIMD kernels: ${RS_KERNEL_HAVE}")
set_source_files_properties(${RS_KERNEL_DIR}/dispatch.c PROPERTIES COMPILE_DEFINITIONS "${RS_KERNEL_HAVE}")

# bench/bench_tokenize.c: throughput of each table (never run as a test).
add_executable(bench_tokenize ${CMAKE_SOURCE_DIR}/bench/bench_tokenize.c)
target_link_libraries(bench_tokenize PRIVATE rostrum)

# The flags of this build, for `rostrum bench` to report with its figures
# (RS_BUILD_FLAGS in host/bench.c): build type, its flags and the compile
# options, then each SIMD file's own flags. No ';' or '#' in the text.
string(TOUPPER "${CMAKE_BUILD_TYPE}" rs_build_type)
get_directory_property(rs_build_opts COMPILE_OPTIONS)
string(JOIN " " rs_build_opts ${rs_build_opts})
set(rs_build_flags "${CMAKE_BUILD_TYPE}: ${CMAKE_C_FLAGS} ${CMAKE_C_FLAGS_${rs_build_type}} ${rs_build_opts}")
foreach(isa SSE42 AVX2 AVX512)
  if(RS_CC_${isa})
    string(TOLOWER ${isa} lower)
    string(JOIN " " rs_isa_flags ${RS_FLAGS_${isa}})
    string(APPEND rs_build_flags ", tokenize_${lower}.c: ${rs_isa_flags}")
  endif()
endforeach()
string(REGEX REPLACE "  +" " " rs_build_flags "${rs_build_flags}")
string(REPLACE ";" "," rs_build_flags "${rs_build_flags}")
string(REPLACE "#" "" rs_build_flags "${rs_build_flags}")
set_property(SOURCE ${CMAKE_SOURCE_DIR}/host/bench.c APPEND PROPERTY COMPILE_DEFINITIONS
             "RS_BUILD_FLAGS=\"${rs_build_flags}\"")
