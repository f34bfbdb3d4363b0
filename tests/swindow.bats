#!/usr/bin/env bats
# swindow: window columns, Spark's window assignment, the watermark protocol
# (\.w placement, late rows dropped and counted, +infinity at the end),
# the idle timeout, errors and exit codes.  Input is hand-written frames.

load test_helper/common
bats_require_minimum_version 1.5.0

setup() {
	TMP="$(mktemp -d)"
}

teardown() {
	if [ -n "${SW_PID:-}" ]; then
		kill "$SW_PID" 2>/dev/null || true
		wait "$SW_PID" 2>/dev/null || true
	fi
	exec 7>&- 2>/dev/null || true
	rm -rf "$TMP"
}

S=1000000		# one second in microseconds
M=60000000		# one minute

# hdr FIELDS...: a header frame; frames are printf formats, so \t is a TAB.
hdr() { local IFS=$'\t'; printf '\\.h\t%s\n' "$*"; }

# Two rows in batch 0, one in batch 1, then the final no-data batch.
basic_input() {
	hdr 'word:STRING' 'ts:TIMESTAMP'
	printf 'dog\t%s\n' $((7 * M)) 
	printf 'owl\t%s\n' $((8 * M))
	printf '\\.e\t0\tssrc.rows=2\n'
	printf 'cat\t%s\n' $((14 * M))
	printf '\\.e\t1\tssrc.rows=1\n'
	printf '\\.e\t2\tnodata=1\tfinal=1\n'
	printf '\\.x\tfinal\n'
}

@test "swindow -h prints the synopsis and exits 0; --version" {
	run swindow -h
	assert_success
	assert_line --index 0 --partial 'usage: swindow --time FIELD --size DURATION'
	assert_output --partial 'swindow --time FIELD --session GAP'
	run swindow --version
	assert_success
	assert_output --regexp '^swindow \(runnel\) [0-9]'
}

@test "usage errors exit 2 with a message naming the option" {
	run --separate-stderr swindow --size 10m
	[ "$status" -eq 2 ]; [[ "$stderr" == *"--time FIELD is required"* ]]
	run --separate-stderr swindow --time ts
	[ "$status" -eq 2 ]; [[ "$stderr" == *"--size DURATION or --session GAP"* ]]
	run --separate-stderr swindow --time ts --size 0s
	[ "$status" -eq 2 ]; [[ "$stderr" == *"--size"*"greater than zero"* ]]
	run --separate-stderr swindow --time ts --size -5m
	[ "$status" -eq 2 ]; [[ "$stderr" == "swindow: --size: "* ]]
	run --separate-stderr swindow --time ts --size 10
	[ "$status" -eq 2 ]; [[ "$stderr" == *"needs a unit"* ]]
	run --separate-stderr swindow --time ts --size 5m --slide 10m
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--slide: the slide duration must be less than or equal to the window duration"* ]]
	run --separate-stderr swindow --time ts --size 10m --slide 0s
	[ "$status" -eq 2 ]
	run --separate-stderr swindow --time ts --size 10m --start 10m
	[ "$status" -eq 2 ]; [[ "$stderr" == *"--start: the absolute value of the start time"* ]]
	run --separate-stderr swindow --time ts --size 10m --slide 5m --start -5m
	[ "$status" -eq 2 ]
	run --separate-stderr swindow --time ts --session 5m --size 10m
	[ "$status" -eq 2 ]; [[ "$stderr" == *"--session cannot be combined"* ]]
	run --separate-stderr swindow --time ts --session 5m --slide 1m
	[ "$status" -eq 2 ]
	run --separate-stderr swindow --time ts --session 0s
	[ "$status" -eq 2 ]
	run --separate-stderr swindow --time ts --size 10m --idle-timeout 1s
	[ "$status" -eq 2 ]; [[ "$stderr" == *"--idle-timeout needs --watermark"* ]]
	run --separate-stderr swindow --time ts --size 1d --slide 1us
	[ "$status" -eq 2 ]; [[ "$stderr" == *"windows per row"* ]]
	run --separate-stderr swindow --time ts --size 10m --bogus
	[ "$status" -eq 2 ]
	run --separate-stderr swindow --time ts --size 10m extra
	[ "$status" -eq 2 ]
	[ -z "$output" ]
}

@test "header: window_start and window_end appended, metadata items" {
	run bash -c "printf '\\\\.h\t@query=q1\tword:STRING\tts:TIMESTAMP\n\\\\.e\t0\n\\\\.x\tfinal\n' |
	    swindow --time ts --size 10m --slide 5m --watermark 10m"
	assert_success
	assert_line --index 0 "$(printf '\\.h\t@query=q1\t@event_time=ts\t@window=sliding\t@watermark=600000000\tword:STRING\tts:TIMESTAMP\twindow_start:TIMESTAMP\twindow_end:TIMESTAMP')"
	run bash -c "printf '\\\\.h\tts:TIMESTAMP\n\\\\.e\t0\n\\\\.x\tfinal\n' | swindow --time ts --size 1h"
	assert_line --index 0 "$(printf '\\.h\t@event_time=ts\t@window=tumbling\tts:TIMESTAMP\twindow_start:TIMESTAMP\twindow_end:TIMESTAMP')"
	run bash -c "printf '\\\\.h\tts:TIMESTAMP\n\\\\.e\t0\n\\\\.x\tfinal\n' | swindow --time ts --session 30s"
	assert_line --index 0 "$(printf '\\.h\t@event_time=ts\t@window=session\t@session_gap=30000000\tts:TIMESTAMP\twindow_start:TIMESTAMP\twindow_end:TIMESTAMP')"
}

@test "tumbling: one row per event, [start, end) aligned to the epoch, negative times" {
	{ hdr 'ts:TIMESTAMP' 'v:INT'
	  printf '%s\t1\n' 0 $((10 * S - 1)) $((10 * S)) -1 $((-10 * S))
	  printf '\\.e\t0\n\\.x\tfinal\n'; } >"$TMP/in"
	run swindow --time ts --size 10s <"$TMP/in"
	assert_success
	expected="0	1	0	10000000
9999999	1	0	10000000
10000000	1	10000000	20000000
-1	1	-10000000	0
-10000000	1	-10000000	0"
	[ "$(sed -n '2,6p' <<<"$output")" = "$expected" ] || { echo "$output"; false; }
}

@test "--start offsets the grid, as Spark's startTime" {
	{ hdr 'ts:TIMESTAMP'
	  printf '%s\n' $((5 * M)) $((1 * M)) $((2 * M))
	  printf '\\.e\t0\n\\.x\tfinal\n'; } >"$TMP/in"
	run swindow --time ts --size 10m --start 2m <"$TMP/in"
	assert_success
	assert_line --index 1 "$(printf '%s\t%s\t%s' $((5 * M)) $((2 * M)) $((12 * M)))"
	assert_line --index 2 "$(printf '%s\t%s\t%s' $((1 * M)) $((-8 * M)) $((2 * M)))"
	assert_line --index 3 "$(printf '%s\t%s\t%s' $((2 * M)) $((2 * M)) $((12 * M)))"
}

@test "sliding: one row per window containing the event, latest window first (Spark's order)" {
	{ hdr 'word:STRING' 'ts:TIMESTAMP'
	  printf 'dog\t%s\n' $((7 * M)) $((5 * M))
	  printf '\\.e\t0\n\\.x\tfinal\n'; } >"$TMP/in"
	run swindow --time ts --size 10m --slide 5m <"$TMP/in"
	assert_success
	expected="dog	$((7 * M))	$((5 * M))	$((15 * M))
dog	$((7 * M))	0	$((10 * M))
dog	$((5 * M))	$((5 * M))	$((15 * M))
dog	$((5 * M))	0	$((10 * M))"
	[ "$(sed -n '2,5p' <<<"$output")" = "$expected" ] || { echo "$output"; false; }
	assert_line --index 5 "$(printf '\\.e\t0\tswindow.rows_in=2\tswindow.rows_out=4\tswindow.dropped=0\tswindow.min_event=%s\tswindow.max_event=%s' $((5 * M)) $((7 * M)))"
}

@test "sliding with a slide that does not divide the size: Spark's filtered candidates" {
	# size 10s slide 3s: t=0 is in 4 windows, t=1s in 3.
	{ hdr 'ts:TIMESTAMP'
	  printf '%s\n' 0 $S
	  printf '\\.e\t0\n\\.x\tfinal\n'; } >"$TMP/in"
	run swindow --time ts --size 10s --slide 3s <"$TMP/in"
	assert_success
	[ "$(grep -c "^0	" <<<"$output")" -eq 4 ]
	[ "$(grep -c "^$S	" <<<"$output")" -eq 3 ]
	refute_line "$(printf '%s\t%s\t%s' $S $((-9 * S)) $S)"
}

@test "a STRING event time is parsed (ISO-8601, epoch seconds) and written as TIMESTAMP" {
	{ hdr 'eventTime:STRING' 'n:INT'
	  printf '2026-11-24T12:07:00Z\t1\n2026-11-24 12:08:30.5\t2\n1795521600\t3\n'
	  printf '\\.e\t0\n\\.x\tfinal\n'; } >"$TMP/in"
	run swindow --time eventTime --size 10m <"$TMP/in"
	assert_success
	assert_line --index 0 "$(printf '\\.h\t@event_time=eventTime\t@window=tumbling\teventTime:TIMESTAMP\tn:INT\twindow_start:TIMESTAMP\twindow_end:TIMESTAMP')"
	assert_line --index 1 "$(printf '1795522020000000\t1\t1795521600000000\t1795522200000000')"
	assert_line --index 2 "$(printf '1795522110500000\t2\t1795521600000000\t1795522200000000')"
	assert_line --index 3 "$(printf '1795521600000000\t3\t1795521600000000\t1795522200000000')"
}

@test "a bad, null or missing event time: exit 1 naming field and line, nothing on stdout for it" {
	{ hdr 'eventTime:STRING' 'n:INT'
	  printf '2026-11-24T12:07:00Z\t1\n12:07 yesterday\t2\n\\.e\t0\n\\.x\tfinal\n'; } >"$TMP/in"
	run --separate-stderr swindow --time eventTime --size 10m <"$TMP/in"
	[ "$status" -eq 1 ]
	[ "$stderr" = "swindow: stdin:3: eventTime: '12:07 yesterday' is not a timestamp" ]
	{ hdr 'eventTime:TIMESTAMP'
	  printf '\\N\n\\.e\t0\n\\.x\tfinal\n'; } >"$TMP/in"
	run --separate-stderr swindow --time eventTime --size 10m <"$TMP/in"
	[ "$status" -eq 1 ]
	[ "$stderr" = "swindow: stdin:2: eventTime: null is not a timestamp" ]
	{ hdr 'eventTime:TIMESTAMP'
	  printf '12x\n\\.e\t0\n\\.x\tfinal\n'; } >"$TMP/in"
	run --separate-stderr swindow --time eventTime --size 10m <"$TMP/in"
	[ "$status" -eq 1 ]
	[ "$stderr" = "swindow: stdin:2: eventTime: '12x' is not a timestamp" ]
	run --separate-stderr swindow --time nope --size 10m <"$TMP/in"
	[ "$status" -eq 1 ]
	[ "$stderr" = "swindow: stdin:1: --time: no field 'nope' in the input" ]
	{ hdr 'n:BIGINT'; printf '\\.e\t0\n\\.x\tfinal\n'; } >"$TMP/in"
	run --separate-stderr swindow --time n --size 10m <"$TMP/in"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"field 'n' is BIGINT, not a TIMESTAMP or STRING"* ]]
}

@test "watermark: \\.w after each epoch that moves it, late windows dropped and counted" {
	{ hdr 'word:STRING' 'ts:TIMESTAMP'
	  printf 'dog\t%s\n' $((7 * M)) $((8 * M))
	  printf '\\.e\t0\n'
	  # Watermark now 8m - 5m = 3m: a window [0, 10m) is still open.
	  printf 'cat\t%s\n' $((1 * M)) $((20 * M))
	  printf '\\.e\t1\n'
	  # Watermark 15m: [0,10m) is late, [10m,20m) ends after 15m.
	  printf 'owl\t%s\n' $((9 * M)) $((12 * M)) $((2 * M))
	  printf '\\.e\t2\tnodata=0\n'
	  printf '\\.e\t3\tnodata=1\n'
	  printf '\\.x\tfinal\n'; } >"$TMP/in"
	run swindow --time ts --size 10m --watermark 5m <"$TMP/in"
	assert_success
	expected="\\.h	@event_time=ts	@window=tumbling	@watermark=300000000	word:STRING	ts:TIMESTAMP	window_start:TIMESTAMP	window_end:TIMESTAMP
dog	$((7 * M))	0	$((10 * M))
dog	$((8 * M))	0	$((10 * M))
\\.e	0	swindow.rows_in=2	swindow.rows_out=2	swindow.dropped=0	swindow.min_event=$((7 * M))	swindow.max_event=$((8 * M))
\\.w	$((3 * M))
cat	$((1 * M))	0	$((10 * M))
cat	$((20 * M))	$((20 * M))	$((30 * M))
\\.e	1	swindow.rows_in=2	swindow.rows_out=2	swindow.dropped=0	swindow.watermark=$((3 * M))	swindow.min_event=$((1 * M))	swindow.max_event=$((20 * M))
\\.w	$((15 * M))
owl	$((12 * M))	$((10 * M))	$((20 * M))
\\.e	2	nodata=0	swindow.rows_in=3	swindow.rows_out=1	swindow.dropped=2	swindow.watermark=$((15 * M))	swindow.min_event=$((2 * M))	swindow.max_event=$((12 * M))
\\.e	3	nodata=1	swindow.rows_in=0	swindow.rows_out=0	swindow.dropped=0	swindow.watermark=$((15 * M))
\\.x	final"
	[ "$output" = "$expected" ] || { diff <(echo "$expected") <(echo "$output"); false; }
}

@test "a window ending exactly at the watermark is late (end <= watermark)" {
	{ hdr 'ts:TIMESTAMP'
	  printf '%s\n' $((15 * M))
	  printf '\\.e\t0\n'
	  printf '%s\n' $((9 * M)) $((10 * M))
	  printf '\\.e\t1\n\\.x\tfinal\n'; } >"$TMP/in"
	run swindow --time ts --size 10m --watermark 5m <"$TMP/in"
	assert_success
	assert_line "$(printf '\\.w\t%s' $((10 * M)))"
	refute_line --partial "$(printf '%s\t0\t' $((9 * M)))"
	assert_line "$(printf '%s\t%s\t%s' $((10 * M)) $((10 * M)) $((20 * M)))"
	assert_line --partial "$(printf 'swindow.rows_in=2\tswindow.rows_out=1\tswindow.dropped=1')"
}

@test "sliding windows are dropped one by one: only the closed ones" {
	{ hdr 'ts:TIMESTAMP'
	  printf '%s\n' $((21 * M))
	  printf '\\.e\t0\n'
	  printf '%s\n' $((4 * M))	# 12:04-like: [0,10m) and [-5m,5m) both end <= 11m
	  printf '%s\n' $((8 * M))	# [5m,15m) open, [0,10m) closed
	  printf '\\.e\t1\n\\.x\tfinal\n'; } >"$TMP/in"
	run swindow --time ts --size 10m --slide 5m --watermark 10m <"$TMP/in"
	assert_success
	assert_line "$(printf '\\.w\t%s' $((11 * M)))"
	assert_line "$(printf '%s\t%s\t%s' $((8 * M)) $((5 * M)) $((15 * M)))"
	assert_line --partial "$(printf 'swindow.rows_in=2\tswindow.rows_out=1\tswindow.dropped=3')"
}

@test "the watermark never goes back and is announced only when it moves" {
	{ hdr 'ts:TIMESTAMP'
	  printf '%s\n' $((30 * M)); printf '\\.e\t0\n'
	  printf '%s\n' $((20 * M)); printf '\\.e\t1\n'
	  printf '%s\n' $((30 * M)); printf '\\.e\t2\n'
	  printf '%s\n' $((31 * M)); printf '\\.e\t3\n'
	  printf '\\.x\tfinal\n'; } >"$TMP/in"
	run swindow --time ts --size 1m --watermark 0s <"$TMP/in"
	assert_success
	[ "$(grep -c '^\\\.w' <<<"$output")" -eq 2 ]
	[ "$(grep '^\\\.w' <<<"$output" | tr '\n' ' ')" = "$(printf '\\.w\t%s \\.w\t%s ' $((30 * M)) $((31 * M)))" ]
	# The 20m row was in batch 1 under watermark 30m: its window [20m,21m) is late.
	assert_line --partial "$(printf 'swindow.rows_in=1\tswindow.rows_out=0\tswindow.dropped=1\tswindow.watermark=%s' $((30 * M)))"
}

@test "the watermark is Spark's: whole milliseconds" {
	{ hdr 'ts:TIMESTAMP'
	  printf '%s\n' 1999999; printf '\\.e\t0\n\\.x\tfinal\n'; } >"$TMP/in"
	run swindow --time ts --size 1s --watermark 1500us <"$TMP/in"
	assert_success
	# floor(1999999us to ms) = 1999ms, minus 1ms (1500us truncated) = 1998ms.
	assert_line "$(printf '\\.w\t1998000')"
}

@test "final=1: \\.w inf before that epoch, rows of earlier batches unaffected" {
	run swindow --time ts --size 10m --watermark 10m < <(basic_input)
	assert_success
	tail="$(tail -n 3 <<<"$output")"
	expected="\\.w	inf
\\.e	2	nodata=1	final=1	swindow.rows_in=0	swindow.rows_out=0	swindow.dropped=0	swindow.watermark=$((4 * M))
\\.x	final"
	[ "$tail" = "$expected" ] || { echo "$output"; false; }
	[ "$(grep -c '^\\\.w' <<<"$output")" -eq 3 ]	# 0: -2m, 1: 4m, then inf
}

@test "without --watermark: no \\.w frames, nothing dropped, even at the end" {
	run swindow --time ts --size 10m < <(basic_input)
	assert_success
	refute_line --partial '\.w'
	[ "$(grep -vc '^\\\.' <<<"$output")" -eq 3 ]
	refute_line --partial 'swindow.watermark'
}

@test "\\.x pause is forwarded; input ending without \\.x is an error and nothing is forwarded after" {
	{ hdr 'ts:TIMESTAMP'; printf '1\n\\.e\t0\n\\.x\tpause\n'; } >"$TMP/in"
	run swindow --time ts --size 10m --watermark 1m <"$TMP/in"
	assert_success
	assert_line --index 4 "$(printf '\\.x\tpause')"
	{ hdr 'ts:TIMESTAMP'; printf '1\n\\.e\t0\n'; } >"$TMP/in"
	run --separate-stderr swindow --time ts --size 10m <"$TMP/in"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"without an end-of-stream frame"* ]]
	refute_line --partial '\.x'
}

@test "session windows: [t, t + gap) per row; merging is scount's" {
	{ hdr 'user:STRING' 'ts:TIMESTAMP'
	  printf 'a\t%s\n' 0 $((3 * M))
	  printf '\\.e\t0\n\\.x\tfinal\n'; } >"$TMP/in"
	run swindow --time ts --session 5m --watermark 1m <"$TMP/in"
	assert_success
	assert_line --index 1 "$(printf 'a\t0\t0\t%s' $((5 * M)))"
	assert_line --index 2 "$(printf 'a\t%s\t%s\t%s' $((3 * M)) $((3 * M)) $((8 * M)))"
	assert_line "$(printf '\\.w\t%s' $((2 * M)))"
}

@test "session rows are late when t + gap <= watermark" {
	{ hdr 'user:STRING' 'ts:TIMESTAMP'
	  printf 'a\t%s\n' $((20 * M)); printf '\\.e\t0\n'
	  printf 'b\t%s\n' $((14 * M)) $((15 * M)) ; printf '\\.e\t1\n\\.x\tfinal\n'; } >"$TMP/in"
	run swindow --time ts --session 5m --watermark 1m <"$TMP/in"
	assert_success
	# Watermark 19m: [14m,19m) is late, [15m,20m) is not.
	assert_line "$(printf 'b\t%s\t%s\t%s' $((15 * M)) $((15 * M)) $((20 * M)))"
	assert_line --partial "$(printf 'swindow.dropped=1\tswindow.watermark=%s' $((19 * M)))"
}

@test "watermark frames from upstream: forwarded without --watermark, refused with it" {
	{ hdr 'ts:TIMESTAMP'; printf '\\.e\t0\n\\.w\t5\n\\.x\tfinal\n'; } >"$TMP/in"
	run swindow --time ts --size 1m <"$TMP/in"
	assert_success
	assert_line --index 2 "$(printf '\\.w\t5')"
	run --separate-stderr swindow --time ts --size 1m --watermark 1m <"$TMP/in"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "swindow: stdin:3: a watermark frame from upstream"* ]]
	{ printf '\\.h\t@watermark=5\tts:TIMESTAMP\n\\.e\t0\n\\.x\tfinal\n'; } >"$TMP/in"
	run --separate-stderr swindow --time ts --size 1m --watermark 1m <"$TMP/in"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"already has a watermark"* ]]
}

@test "two swindows in a row: the second one refuses (window fields exist)" {
	run --separate-stderr bash -c 'basic_input() { printf "\\\\.h\tts:TIMESTAMP\n\\\\.e\t0\n\\\\.x\tfinal\n"; }
	    basic_input | swindow --time ts --size 1m | swindow --time ts --size 2m'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"already has window fields"* ]]
}

@test "a failed write is an error (/dev/full); a closed pipe ends quietly" {
	run --separate-stderr bash -c "swindow --time ts --size 10m >/dev/full" < <(basic_input)
	[ "$status" -eq 1 ]
	[[ "$stderr" == "swindow: write error on stdout: "* ]]
	awk -v M=$M 'BEGIN { printf "\\.h\tts:TIMESTAMP\n";
	    for (i = 0; i < 200000; i++) printf "%.0f\n", i * M; printf "\\.e\t0\n\\.x\tfinal\n" }' >"$TMP/big"
	run bash -c "swindow --time ts --size 10m --slide 1m <'$TMP/big' | head -n 1 >/dev/null; echo \${PIPESTATUS[0]}"
	assert_output 0
}

@test "--idle-timeout: with no data the watermark advances by processing time, announced between batches" {
	mkfifo "$TMP/fifo"
	swindow --time ts --size 10m --watermark 1h --idle-timeout 200ms \
	    <"$TMP/fifo" >"$TMP/out" 2>"$TMP/err" &
	SW_PID=$!
	exec 7>"$TMP/fifo"
	before=$(date +%s)
	# An old event: event time says watermark = 1970 + ..., processing
	# time says now - 1h.
	{ hdr 'ts:TIMESTAMP'; printf '%s\n\\.e\t0\n' $((5 * M)); } >&7
	wait_for grep -q "^\\\\.w	$((5 * M - 60 * M))\$" "$TMP/out"
	wait_for grep -q '^\\\.w	1' "$TMP/out"
	after=$(date +%s)
	wm=$(grep '^\\\.w	1' "$TMP/out" | head -n 1 | cut -f2)
	[ "$wm" -ge $(((before - 3600 - 1) * S)) ] && [ "$wm" -le $(((after - 3600 + 1) * S)) ] ||
	    { echo "wm=$wm before=$before after=$after"; cat "$TMP/out"; false; }
	[ $((wm % 1000)) -eq 0 ]
	# It applies from the next batch: a row stamped before it is late.
	printf '%s\n\\.e\t1\tnodata=0\n\\.x\tfinal\n' $(((before - 7200) * S)) >&7
	exec 7>&-
	wait "$SW_PID"
	SW_PID=
	grep -q "$(printf 'swindow.rows_in=1\tswindow.rows_out=0\tswindow.dropped=1\tswindow.watermark=')" "$TMP/out" ||
	    { cat "$TMP/out"; false; }
}

@test "--idle-timeout: no-data epochs (heartbeats) do not count as input; mid-batch the new watermark waits for the epoch" {
	mkfifo "$TMP/fifo"
	swindow --time ts --size 10m --watermark 0s --idle-timeout 300ms \
	    <"$TMP/fifo" >"$TMP/out" 2>"$TMP/err" &
	SW_PID=$!
	exec 7>"$TMP/fifo"
	{ hdr 'ts:TIMESTAMP'; printf '\\.e\t0\tnodata=1\n'; } >&7
	# Heartbeats every 100ms, shorter than the timeout: still idle.
	for i in 1 2 3 4 5 6; do
		printf '\\.e\t%s\tnodata=1\n' "$i" >&7
		sleep 0.1
	done
	# The timeout (300ms) has passed while heartbeats came every 100ms:
	# they did not keep the stream from being idle.
	grep -q '^\\\.w	1' "$TMP/out" || { cat "$TMP/out"; false; }
	# A row without its epoch: the batch is open, so an idle watermark
	# must wait for the epoch frame.
	printf '%s\n' $((5 * M)) >&7
	sleep 0.4
	n=$(grep -c '^\\\.w' "$TMP/out")
	sleep 0.8
	[ "$(grep -c '^\\\.w' "$TMP/out")" -eq "$n" ] || { cat "$TMP/out"; false; }
	printf '\\.e\t7\n' >&7
	wait_for grep -q "^\\\\.e	7	" "$TMP/out"
	wait_for test "$(grep -c '^\\\.w' "$TMP/out")" -gt "$n"
	# The \.w comes right after epoch 7, never between a row and its epoch.
	awk '/^\\\.e\t7\t/ { e = NR } /^\\\.w/ && e && NR == e + 1 { ok = 1 } END { exit !ok }' "$TMP/out" ||
	    { cat "$TMP/out"; false; }
	printf '\\.e\t8\tnodata=1\tfinal=1\n\\.x\tfinal\n' >&7
	exec 7>&-
	wait "$SW_PID"
	SW_PID=
	tail -n 3 "$TMP/out" | head -n 1 | grep -q '^\\\.w	inf$'
}

@test "SIGTERM: the stage keeps going to the end frame so the batch in flight completes" {
	mkfifo "$TMP/fifo"
	swindow --time ts --size 10m <"$TMP/fifo" >"$TMP/out" &
	SW_PID=$!
	exec 7>"$TMP/fifo"
	{ hdr 'ts:TIMESTAMP'; printf '1\n'; } >&7
	wait_for grep -q '^\\\.h' "$TMP/out"
	kill -TERM "$SW_PID"
	printf '2\n\\.e\t0\n\\.x\tfinal\n' >&7
	exec 7>&-
	wait "$SW_PID"
	SW_PID=
	[ "$(tail -n 1 "$TMP/out")" = "$(printf '\\.x\tfinal')" ]
	[ "$(grep -c '^[12]	' "$TMP/out")" -eq 2 ]
}

@test "usage text and the man page SYNOPSIS agree" {
	command -v mandoc >/dev/null || skip "mandoc missing"
	syn=$(mandoc -Tascii "$RUNNEL_ROOT/man/swindow.1" | col -b |
	    awk '/^SYNOPSIS/ { s = 1; next } /^[A-Z]/ { s = 0 } s' | tr -s '[:space:]' ' ' | sed 's/^ //; s/ $//')
	use=$(swindow -h | sed 's/^usage: //' | tr -s '[:space:]' ' ' | sed 's/^ //; s/ $//')
	[ "$syn" = "$use" ] || { echo "man:   $syn"; echo "usage: $use"; false; }
}

@test "the man page's hand-written example gives what the page shows" {
	run bash -c "printf '\\\\.h\tw:STRING\tts:TIMESTAMP\na\t420000000\n\\\\.e\t0\n\\\\.x\tfinal\n' |
	    swindow --time ts --size 10m --slide 5m --watermark 10m"
	assert_success
	assert_line --index 0 --partial "$(printf '\\.h\t@event_time=ts\t@window=sliding\t@watermark=600000000\t')"
	assert_line --index 1 "$(printf 'a\t420000000\t300000000\t900000000')"
	assert_line --index 2 "$(printf 'a\t420000000\t0\t600000000')"
	assert_line --index 3 --partial "$(printf '\\.e\t0\tswindow.rows_in=1\tswindow.rows_out=2\tswindow.dropped=0')"
	assert_line --index 4 "$(printf '\\.w\t-180000000')"
	assert_line --index 5 "$(printf '\\.x\tfinal')"
}
