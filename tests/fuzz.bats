#!/usr/bin/env bats
# The fuzz targets' seeds and the reproducers of every finding fixed so
# far, each run once through its target (tests/fuzz/): a regression test
# in every build directory, with build-san's sanitizers.  The replay
# programs are tests/helpers/fuzz_replay_*.c, built by `make`; a finding
# aborts or trips a sanitizer, which fails the test.  Fuzzing itself is
# `make fuzz` (tests/fuzz/fuzz.mk).

load test_helper/common

# replay TARGET: every file of the target's corpus and regress dirs.
replay() {
	local dirs=("$RUNNEL_ROOT/tests/fuzz/corpus/$1")

	[ -d "$RUNNEL_ROOT/tests/fuzz/regress/$1" ] &&
	    dirs+=("$RUNNEL_ROOT/tests/fuzz/regress/$1")
	run "$RUNNEL_BUILD/tests/fuzz_replay_${1#fuzz_}" "${dirs[@]}"
	assert_success
	assert_output --regexp '^replayed [1-9][0-9]* inputs$'
}

@test "fuzz_frame: frame decoding, rendering, aggregating" {
	replay fuzz_frame
}

@test "fuzz_csv: csv and text input through stream_in" {
	replay fuzz_csv
}

@test "fuzz_json: json input through stream_in" {
	replay fuzz_json
}

@test "fuzz_parse: ddl, durations, timestamps, numbers, escapers" {
	replay fuzz_parse
}

@test "fuzz_checkpoint: framed files, checkpoint recovery, stage state" {
	replay fuzz_checkpoint
}

@test "a replay program refuses a missing path (a typo cannot pass)" {
	run "$RUNNEL_BUILD/tests/fuzz_replay_parse" "$BATS_TEST_TMPDIR/nope"
	assert_failure 2
}
