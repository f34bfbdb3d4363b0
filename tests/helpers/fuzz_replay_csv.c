/*
 * fuzz_replay_csv.c: the fuzz target tests/fuzz/fuzz_csv.c as a plain
 * program that runs each file (or each file of each directory) given
 * once: the seeds and the reproducers of fixed findings become regression
 * tests in every build (tests/fuzz.bats), with build-san's sanitizers.
 * The sources are included so that the Makefile's one-file helper rule
 * builds it; see tests/fuzz/replay_main.c.
 */
#include "../fuzz/fuzz_csv.c"
#include "../fuzz/replay_main.c"
