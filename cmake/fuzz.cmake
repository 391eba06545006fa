# rm_add_fuzz_target(<name> FUZZER <target .cc> SMOKE_MAIN <driver .cc> DEPS <libraries...>
#                    TEST <ctest name> TIMEOUT <seconds> [TEST_ARGS <args...>]
#                    [SEED_ARGS <args...>])
#
# One fuzz target, built two ways from the same LLVMFuzzerTestOneInput (<target .cc>):
# - always <name>_fuzz_smoke: the target driven by a deterministic main (<driver .cc>), run by
#   ctest as TEST (label robustness) with TEST_ARGS. `<name>_fuzz_smoke SEED_ARGS...
#   --write-corpus DIR` writes its seeds (the target's corpus, kept in the repository as code or
#   test data).
# - with RM_FUZZ=ON (a clang build, see the top-level CMakeLists.txt) also <name>_fuzzer, the
#   libFuzzer binary. It links the module libraries DEPS as they are, built in that build with
#   coverage and ASan/UBSan instrumentation: no source list to keep in step with the modules.
#   The target joins `rm_fuzzers` (every fuzzer and seed writer in one goal) and the manifest
#   <build>/fuzzers.tsv that scripts/sanitize.sh runs: one line per target, tab-separated:
#   name, fuzzer binary, seed writer binary, the writer's SEED_ARGS.
function(rm_add_fuzz_target name)
  cmake_parse_arguments(ARG "" "FUZZER;SMOKE_MAIN;TEST;TIMEOUT" "DEPS;TEST_ARGS;SEED_ARGS" ${ARGN})
  set(smoke ${name}_fuzz_smoke)
  add_executable(${smoke} ${ARG_FUZZER} ${ARG_SMOKE_MAIN})
  target_link_libraries(${smoke} PRIVATE ${ARG_DEPS})
  add_test(NAME ${ARG_TEST} COMMAND ${smoke} ${ARG_TEST_ARGS})
  set_tests_properties(${ARG_TEST} PROPERTIES LABELS robustness TIMEOUT ${ARG_TIMEOUT})
  if(RM_FUZZ)
    set(fuzzer ${name}_fuzzer)
    add_executable(${fuzzer} ${ARG_FUZZER})
    target_link_libraries(${fuzzer} PRIVATE ${ARG_DEPS})
    target_link_options(${fuzzer} PRIVATE -fsanitize=fuzzer)
    add_dependencies(rm_fuzzers ${fuzzer} ${smoke})
    list(JOIN ARG_SEED_ARGS "\t" seed_args)
    set_property(GLOBAL APPEND PROPERTY RM_FUZZ_MANIFEST
      "${name}\t$<TARGET_FILE:${fuzzer}>\t$<TARGET_FILE:${smoke}>\t${seed_args}")
  endif()
endfunction()

# Writes <build>/fuzzers.tsv from every rm_add_fuzz_target call; called once, after the modules.
function(rm_write_fuzz_manifest)
  get_property(lines GLOBAL PROPERTY RM_FUZZ_MANIFEST)
  list(JOIN lines "\n" content)
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/fuzzers.tsv CONTENT "${content}\n")
endfunction()
