#!/usr/bin/env bats
# kafka_mock: the mock Kafka cluster the Kafka tests and the demo run on.
load test_helper/common
bats_require_minimum_version 1.5.0

# start_mock OUTFILE ARGS...: start a mock in the background, its pid in
# $MOCK_PID, and wait for its address (first line of OUTFILE).
start_mock() {
	local out=$1
	shift
	rm -f "$out"
	kafka_mock "$@" >"$out" 3>&- &
	MOCK_PID=$!
	wait_for test -s "$out"
}

setup_file() {
	load test_helper/common
	start_mock "$BATS_FILE_TMPDIR/mock.out" words:4 other:1 \
		--topic-error secret=TOPIC_AUTHORIZATION_FAILED
	echo "$MOCK_PID" >"$BATS_FILE_TMPDIR/mock.pid"
}

teardown_file() {
	kill "$(cat "$BATS_FILE_TMPDIR/mock.pid")" 2>/dev/null || true
}

addr() {
	head -n 1 "$BATS_FILE_TMPDIR/mock.out"
}

@test "kafka_mock prints a bootstrap address on 127.0.0.1 first" {
	run addr
	assert_output --regexp '^127\.0\.0\.1:[0-9]+$'
}

@test "kafka_mock listens on 127.0.0.1 only" {
	port=$(addr | cut -d: -f2)
	run ss -Hltn "sport = :$port"
	assert_success
	assert_output --partial "127.0.0.1:$port"
	refute_output --partial "0.0.0.0:$port"
	refute_output --partial "*:$port"
}

@test "kcat -L lists the topics with their partition counts" {
	run --separate-stderr kcat -b "$(addr)" -L -J
	assert_success
	run jq -r '.topics[] | select(.topic == "words" or .topic == "other")
		| "\(.topic) \(.partitions | length)"' <<<"$output"
	assert_success
	assert_line 'words 4'
	assert_line 'other 1'
	assert_equal "${#lines[@]}" 2
}

@test "kcat produces and consumes through kafka_mock" {
	printf 'one\ntwo\tTAB\nthree\n' | kcat -b "$(addr)" -P -t other
	run kcat -b "$(addr)" -C -t other -o beginning -e -q
	assert_success
	assert_output "$(printf 'one\ntwo\tTAB\nthree')"
}

@test "kcat keyed messages spread over the 4 partitions and come back" {
	for i in $(seq 1 40); do echo "k$i:v$i"; done |
		kcat -b "$(addr)" -P -t words -K:
	run kcat -b "$(addr)" -C -t words -o beginning -e -q -f '%p %k %s\n'
	assert_success
	assert_equal "${#lines[@]}" 40
	run sh -c "printf '%s\n' \"\$1\" | cut -d' ' -f1 | sort -u | wc -l" _ "$output"
	assert_output 4
}

@test "kafka_mock --topic-error makes a topic fail as asked" {
	run --separate-stderr kcat -b "$(addr)" -L -t secret -J
	assert_success
	run jq -r '.topics[0].error' <<<"$output"
	assert_output 'Broker: Topic authorization failed'
}

@test "kafka_mock stops on SIGTERM and on SIGINT, exit 0" {
	for sig in TERM INT; do
		start_mock "$BATS_TEST_TMPDIR/m.out" t:2
		kill -s "$sig" "$MOCK_PID"
		status=0
		wait "$MOCK_PID" || status=$?
		assert_equal "$sig $status" "$sig 0"
	done
}

@test "kafka_mock --stdin stops when stdin closes" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	kafka_mock --stdin t:1 <"$BATS_TEST_TMPDIR/in" \
		>"$BATS_TEST_TMPDIR/m.out" 3>&- &
	pid=$!
	exec 4>"$BATS_TEST_TMPDIR/in"
	wait_for test -s "$BATS_TEST_TMPDIR/m.out"
	exec 4>&-
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 0
}

@test "kafka_mock with several brokers lists them all" {
	start_mock "$BATS_TEST_TMPDIR/m.out" --brokers 3 r:3
	run head -n 1 "$BATS_TEST_TMPDIR/m.out"
	assert_output --regexp '^127\.0\.0\.1:[0-9]+(,127\.0\.0\.1:[0-9]+){2}$'
	run --separate-stderr kcat -b "$(head -n 1 "$BATS_TEST_TMPDIR/m.out")" -L -J
	kill "$MOCK_PID"
	wait "$MOCK_PID"
	run jq '.brokers | length' <<<"$output"
	assert_output 3
}

@test "kafka_mock refuses bad arguments with exit 2" {
	run kafka_mock t:0
	assert_failure 2
	assert_output --partial "partition count"
	run kafka_mock --brokers 0
	assert_failure 2
	run kafka_mock --topic-error x=NOT_AN_ERROR
	assert_failure 2
	run kafka_mock --bogus
	assert_failure 2
	run kafka_mock --help
	assert_success
	assert_output --partial 'usage: kafka_mock'
}
