#!/usr/bin/env bats
# A short crash test: a few kill -9s per scenario (make crash-test runs 200).

load test_helper/common

@test "checkpointed pipelines survive kill -9 of any stage: output equals an uninterrupted run's" {
	run "$RUNNEL_ROOT/tests/crash-test.sh" --kills 4 --seed "$RANDOM" "$RUNNEL_BUILD/bin"
	echo "$output" | grep -v Killed
	assert_success
	assert_line --partial "ok: stateless"
	assert_line --partial "ok: stateful"
	assert_line --partial "ok: windowed"
	assert_line --partial "ok: kafka"
}
