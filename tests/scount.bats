#!/usr/bin/env bats
# scount: grouping, output modes, watermark eviction, sessions, aggregates.
# Input frames are written by hand ('|' stands for TAB), so these tests do
# not depend on ssrc or swindow.

load test_helper/common
bats_require_minimum_version 1.5.0

setup() {
	IN="$BATS_TEST_TMPDIR/in"
}

# frames: write stdin to $IN with '|' turned into TAB.
frames() {
	tr '|' '\t' >"$IN"
}

# expect: stdin with '|' turned into TAB, for assert_output.
expect() {
	tr '|' '\t'
}

# sc ARGS...: scount ARGS < $IN, epoch frames shortened to their batch.
sc() {
	set -o pipefail
	scount "$@" <"$IN" | sed -E 's/^(\\\.e\t[0-9]+).*/\1/'
}

# items N KEY: the value of epoch item KEY of batch N in $output.
item() {
	printf '%s\n' "$output" | awk -F'\t' -v n="$1" -v k="$2" '
	    $1 == "\\.e" && $2 == n { for (i = 3; i <= NF; i++)
		if (index($i, k "=") == 1) print substr($i, length(k) + 2) }'
}

words_two_batches() {
	frames <<'EOF'
\.h|word:STRING
a
b
a
\.e|0
b
c
\.e|1
\.x|final
EOF
}

windowed_input() {
	frames <<'EOF'
\.h|@watermark=10|@event_time=t|@window=tumbling|word:STRING|t:TIMESTAMP|window_start:TIMESTAMP|window_end:TIMESTAMP
x|5|0|10
y|15|10|20
x|7|0|10
\.e|0
\.w|10
x|8|0|10
y|25|20|30
\.e|1
\.w|15
\.e|2|nodata=1
\.w|inf
\.e|3|nodata=1|final=1
\.x|final
EOF
}

@test "--help prints the synopsis and exits 0; --version names scount" {
	run --separate-stderr scount --help
	assert_success
	assert_output --partial 'usage: scount [KEY ...] [--mode MODE]'
	run scount --version
	assert_success
	assert_output --regexp '^scount \(runnel\) '
}

@test "a bad option or mode is a usage error (exit 2)" {
	words_two_batches
	run scount --bogus <"$IN"
	assert_failure 2
	run scount --mode sometimes <"$IN"
	assert_failure 2
	assert_output --partial "--mode: 'sometimes'"
}

@test "complete mode: the whole table every batch, groups in first-seen order" {
	words_two_batches
	run sc
	assert_success
	assert_output "$(expect <<'EOF'
\.h|word:STRING|count:BIGINT
a|2
b|1
\.e|0
a|2
b|2
c|1
\.e|1
\.x|final
EOF
)"
}

@test "update mode: only the groups changed in the batch" {
	words_two_batches
	run sc --mode update
	assert_success
	assert_output "$(expect <<'EOF'
\.h|word:STRING|count:BIGINT
a|2
b|1
\.e|0
b|2
c|1
\.e|1
\.x|final
EOF
)"
}

@test "epoch items: upstream ones forwarded, scount's counters appended" {
	frames <<'EOF'
\.h|word:STRING
a
b
a
\.e|0|ssrc.rows=3|ssplit.rows_out=3
\.x|final
EOF
	run scount <"$IN"
	assert_success
	assert_line --index 3 --regexp '^\\\.e	0	ssrc\.rows=3	ssplit\.rows_out=3	scount\.rows_in=3	'
	[ "$(item 0 scount.rows_in)" = 3 ]
	[ "$(item 0 scount.rows_out)" = 2 ]
	[ "$(item 0 scount.state_rows)" = 2 ]
	[ "$(item 0 scount.updated)" = 2 ]
	[ "$(item 0 scount.dropped)" = 0 ]
	[ "$(item 0 scount.mem_bytes)" -gt 0 ]
}

@test "complete mode skips a no-data batch unless the watermark moved" {
	frames <<'EOF'
\.h|@watermark=0|@event_time=t|word:STRING|t:TIMESTAMP
a|1
\.e|0
\.e|1|nodata=1
\.w|5
\.e|2|nodata=1
\.e|3|nodata=1
\.x|final
EOF
	run sc
	assert_success
	assert_output "$(expect <<'EOF'
\.h|@watermark=0|@event_time=t|word:STRING|count:BIGINT
a|1
\.e|0
\.e|1
\.w|5
a|1
\.e|2
\.e|3
\.x|final
EOF
)"
}

@test "default keys leave out event-time columns; explicit keys pick fields" {
	frames <<'EOF'
\.h|user:STRING|t:TIMESTAMP|page:STRING
u1|100|home
u1|200|home
u2|300|home
\.e|0
\.x|final
EOF
	run sc
	assert_output "$(expect <<'EOF'
\.h|user:STRING|page:STRING|count:BIGINT
u1|home|2
u2|home|1
\.e|0
\.x|final
EOF
)"
	run sc page
	assert_output "$(expect <<'EOF'
\.h|page:STRING|count:BIGINT
home|3
\.e|0
\.x|final
EOF
)"
	# Keys come out in input order, whatever order they are named in.
	run sc page user
	assert_line --index 0 "$(printf '\\.h\tuser:STRING\tpage:STRING\tcount:BIGINT')"
	assert_line --index 1 "$(printf 'u1\thome\t2')"
}

@test "no key field at all counts every row in one group" {
	frames <<'EOF'
\.h|t:TIMESTAMP
1
2
\.e|0
\.x|final
EOF
	run sc
	assert_output "$(expect <<'EOF'
\.h|count:BIGINT
2
\.e|0
\.x|final
EOF
)"
}

@test "a KEY that is not in the input is a usage error listing the fields" {
	words_two_batches
	run --separate-stderr scount nope <"$IN"
	assert_failure 2
	[ "$stderr" = "scount: key: no field 'nope' in the input (fields: word)" ]
}

@test "window columns are keys, first, even when KEYs are given" {
	windowed_input
	run sc word
	assert_line --index 0 "$(printf '\\.h\t@watermark=10\t@event_time=t\t@window=tumbling\twindow_start:TIMESTAMP\twindow_end:TIMESTAMP\tword:STRING\tcount:BIGINT')"
	assert_line --index 1 "$(printf '0\t10\tx\t2')"
	assert_line --index 2 "$(printf '10\t20\ty\t1')"
}

@test "append mode without a watermark is refused (exit 2)" {
	words_two_batches
	run --separate-stderr scount --mode append <"$IN"
	assert_failure 2
	[ "$stderr" = "scount: append output mode needs a watermark (use swindow --watermark)" ]
	[ -z "$output" ]
}

@test "append mode without a window or event-time key is refused (exit 2)" {
	frames <<'EOF'
\.h|@watermark=0|@event_time=t|word:STRING|t:TIMESTAMP
\.e|0
\.x|final
EOF
	run --separate-stderr scount --mode append <"$IN"
	assert_failure 2
	assert_equal "$stderr" "scount: append output mode needs a window (use swindow --size) or the event-time field among the keys"
}

@test "append mode: each window once, when the watermark passes its end" {
	windowed_input
	run sc --mode append
	assert_success
	assert_output "$(expect <<'EOF'
\.h|@watermark=10|@event_time=t|@window=tumbling|window_start:TIMESTAMP|window_end:TIMESTAMP|word:STRING|count:BIGINT
\.e|0
\.w|10
0|10|x|2
\.e|1
\.w|15
\.e|2
\.w|inf
10|20|y|1
20|30|y|1
\.e|3
\.x|final
EOF
)"
}

@test "append mode: late rows are dropped and counted, state is evicted" {
	windowed_input
	run scount --mode append <"$IN"
	assert_success
	# x at 8 in window [0,10) arrives after watermark 10: late.
	[ "$(item 1 scount.dropped)" = 1 ]
	[ "$(item 1 scount.state_rows)" = 2 ]
	[ "$(item 3 scount.state_rows)" = 0 ]
	[ "$(item 3 scount.rows_out)" = 2 ]
}

@test "update mode: changed rows, then windows closed by the watermark are evicted" {
	windowed_input
	run sc --mode update
	assert_success
	assert_output "$(expect <<'EOF'
\.h|@watermark=10|@event_time=t|@window=tumbling|window_start:TIMESTAMP|window_end:TIMESTAMP|word:STRING|count:BIGINT
0|10|x|2
10|20|y|1
\.e|0
\.w|10
20|30|y|1
\.e|1
\.w|15
\.e|2
\.w|inf
\.e|3
\.x|final
EOF
)"
	run scount --mode update <"$IN"
	[ "$(item 0 scount.state_rows)" = 2 ]
	[ "$(item 1 scount.state_rows)" = 2 ]
	[ "$(item 1 scount.dropped)" = 1 ]
	[ "$(item 3 scount.state_rows)" = 0 ]
}

@test "complete mode never evicts nor drops" {
	windowed_input
	run scount <"$IN"
	assert_success
	[ "$(item 3 scount.state_rows)" = 3 ]
	[ "$(item 1 scount.dropped)" = 0 ]
	assert_line "$(printf '0\t10\tx\t3')"
}

@test "watermark frames are forwarded unchanged and never go back" {
	frames <<'EOF'
\.h|@watermark=0|@event_time=t|@window=tumbling|t:TIMESTAMP|window_start:TIMESTAMP|window_end:TIMESTAMP
1|0|10
\.e|0
\.w|20
\.e|1|nodata=1
\.w|5
\.e|2|nodata=1
\.x|final
EOF
	run sc --mode append
	assert_success
	assert_output "$(expect <<'EOF'
\.h|@watermark=0|@event_time=t|@window=tumbling|window_start:TIMESTAMP|window_end:TIMESTAMP|count:BIGINT
\.e|0
\.w|20
0|10|1
\.e|1
\.w|5
\.e|2
\.x|final
EOF
)"
}

@test "append mode on the event-time field as a key (no window)" {
	frames <<'EOF'
\.h|@watermark=0|@event_time=t|t:TIMESTAMP|n:INT
10|1
10|2
30|3
\.e|0
\.w|10
\.e|1|nodata=1
\.w|inf
\.e|2|nodata=1|final=1
\.x|final
EOF
	run sc t --mode append --sum n
	assert_success
	assert_output "$(expect <<'EOF'
\.h|@watermark=0|@event_time=t|t:TIMESTAMP|count:BIGINT|sum_n:BIGINT
\.e|0
\.w|10
10|2|3
\.e|1
\.w|inf
30|1|3
\.e|2
\.x|final
EOF
)"
}

session_input() {
	frames <<'EOF'
\.h|@watermark=5|@event_time=t|@window=session|@session_gap=10|user:STRING|t:TIMESTAMP|v:INT|window_start:TIMESTAMP|window_end:TIMESTAMP
a|0|1|0|10
a|20|2|20|30
b|5|3|5|15
\.e|0
\.w|0
a|10|4|10|20
\.e|1
\.w|25
a|50|\N|50|60
\.e|2
\.w|inf
\.e|3|nodata=1|final=1
\.x|final
EOF
}

@test "sessions: an event bridging two sessions merges them (update mode)" {
	session_input
	run sc user --mode update --sum v
	assert_success
	assert_output "$(expect <<'EOF'
\.h|@watermark=5|@event_time=t|@window=session|@session_gap=10|window_start:TIMESTAMP|window_end:TIMESTAMP|user:STRING|count:BIGINT|sum_v:BIGINT
0|10|a|1|1
20|30|a|1|2
5|15|b|1|3
\.e|0
\.w|0
0|30|a|3|7
\.e|1
\.w|25
50|60|a|1|\N
\.e|2
\.w|inf
\.e|3
\.x|final
EOF
)"
	run scount user --mode update --sum v <"$IN"
	[ "$(item 0 scount.state_rows)" = 3 ]
	[ "$(item 1 scount.state_rows)" = 2 ]
	[ "$(item 1 scount.updated)" = 1 ]
	# Watermark 25 closes b's [5,15); a's [0,30) stays open.
	[ "$(item 2 scount.state_rows)" = 2 ]
	[ "$(item 3 scount.state_rows)" = 0 ]
}

@test "sessions in append mode: each merged session once, after its end" {
	session_input
	run sc --mode append --max v
	assert_success
	assert_output "$(expect <<'EOF'
\.h|@watermark=5|@event_time=t|@window=session|@session_gap=10|window_start:TIMESTAMP|window_end:TIMESTAMP|user:STRING|count:BIGINT|max_v:INT
\.e|0
\.w|0
\.e|1
\.w|25
5|15|b|1|3
\.e|2
\.w|inf
0|30|a|3|4
50|60|a|1|\N
\.e|3
\.x|final
EOF
)"
}

@test "sessions: an earlier event extends a session's start; gaps keep sessions apart" {
	frames <<'EOF'
\.h|@window=session|k:STRING|window_start:TIMESTAMP|window_end:TIMESTAMP
k|100|110
k|95|105
k|111|121
k|80|90
\.e|0
\.x|final
EOF
	run sc
	assert_success
	assert_output "$(expect <<'EOF'
\.h|@window=session|window_start:TIMESTAMP|window_end:TIMESTAMP|k:STRING|count:BIGINT
80|90|k|1
95|110|k|2
111|121|k|1
\.e|0
\.x|final
EOF
)"
}

@test "sum, min, max, avg ignore nulls; an all-null aggregate is null" {
	frames <<'EOF'
\.h|g:STRING|i:INT|d:DOUBLE|s:STRING|t:TIMESTAMP|b:BOOLEAN
x|3|1.5|pear|1000|true
x|\N|\N|\N|\N|\N
x|-7|2.25|apple|500|false
y|\N|\N|\N|\N|\N
\.e|0
\.x|final
EOF
	run sc g --sum i --sum d --min i --max i --avg i --avg d --min s --max s --min t --max t --min b --max b
	assert_success
	assert_output "$(expect <<'EOF'
\.h|g:STRING|count:BIGINT|sum_i:BIGINT|sum_d:DOUBLE|min_i:INT|max_i:INT|avg_i:DOUBLE|avg_d:DOUBLE|min_s:STRING|max_s:STRING|min_t:TIMESTAMP|max_t:TIMESTAMP|min_b:BOOLEAN|max_b:BOOLEAN
x|3|-4|3.75|-7|3|-2|1.875|apple|pear|500|1000|false|true
y|1|\N|\N|\N|\N|\N|\N|\N|\N|\N|\N|\N|\N
\.e|0
\.x|final
EOF
)"
}

@test "aggregates carry over batches; default keys leave aggregated fields out" {
	frames <<'EOF'
\.h|name:STRING|amount:BIGINT
a|10
a|5
\.e|0
a|1
b|2
\.e|1
\.x|final
EOF
	run sc --sum amount --min amount
	assert_success
	assert_output "$(expect <<'EOF'
\.h|name:STRING|count:BIGINT|sum_amount:BIGINT|min_amount:BIGINT
a|2|15|5
\.e|0
a|3|16|1
b|1|2|2
\.e|1
\.x|final
EOF
)"
}

@test "min and max of strings compare unescaped bytes" {
	# "a\tz" holds a TAB (0x09), which sorts before "a " (0x20), though
	# its escaped form "a\\tz" would sort after.
	frames <<'EOF'
\.h|g:STRING|s:STRING
k|a z
k|a\tz
k|a\\z
\.e|0
\.x|final
EOF
	run sc g --min s --max s
	assert_success
	assert_line --index 1 "$(printf 'k\t3\ta\\tz\ta\\\\z')"
}

@test "string min/max stay right when the string store is collected" {
	# 3000 groups whose max grows 40 times: the replaced strings become
	# garbage that collection reclaims, while results must not change.
	{
		printf '\\.h\tg:STRING\ts:STRING\n'
		awk 'BEGIN { for (r = 1; r <= 40; r++) {
		    for (g = 0; g < 3000; g++)
			printf "g%d\t%s%03d\n", g, substr("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1, r), r
		    printf "\\.e\t%d\n", r - 1 } }'
		printf '\\.x\tfinal\n'
	} >"$IN"
	run scount g --max s --min s --mode update <"$IN"
	assert_success
	last=$(printf '%s\n' "$output" | grep -c "^g[0-9]*	40	x\{40\}040	x001$")
	[ "$last" = 3000 ]
}

@test "sum or avg of a non-number is a usage error" {
	frames <<'EOF'
\.h|g:STRING|s:STRING
\.e|0
\.x|final
EOF
	run --separate-stderr scount --sum s <"$IN"
	assert_failure 2
	assert_equal "$stderr" "scount: --sum: cannot sum 's': it is a STRING, not a number"
	run --separate-stderr scount --avg nope <"$IN"
	assert_failure 2
	assert_equal "$stderr" "scount: --avg: no field 'nope' in the input (fields: g, s)"
}

@test "a value that is not a number is a data error naming the line" {
	frames <<'EOF'
\.h|g:STRING|n:INT
a|1
a|x1
\.e|0
\.x|final
EOF
	run --separate-stderr scount --sum n <"$IN"
	assert_failure 1
	assert_equal "$stderr" "scount: stdin:3: n: 'x1' is not an INT"
}

@test "a malformed frame is an error naming stdin and the line" {
	frames <<'EOF'
\.h|a:STRING|b:STRING
x|y
x
\.e|0
\.x|final
EOF
	run --separate-stderr scount <"$IN"
	assert_failure 1
	assert_equal "$stderr" "scount: stdin:3: record has 1 fields, header says 2"
	frames <<'EOF'
\.h|a:STRING
x
\.z|what
\.x|final
EOF
	run --separate-stderr scount <"$IN"
	assert_failure 1
	assert_regex "$stderr" "^scount: stdin:3: "
}

@test "input ending without an end-of-stream frame is an error, and \\.x is not forwarded" {
	frames <<'EOF'
\.h|word:STRING
a
\.e|0
EOF
	run --separate-stderr scount <"$IN"
	assert_failure 1
	assert_regex "$stderr" "^scount: stdin: input ended without an end-of-stream frame"
	refute_line --partial '\.x'
	# The batch that did end was still emitted.
	assert_line "$(printf 'a\t1')"
}

@test "\\.x pause is forwarded" {
	frames <<'EOF'
\.h|word:STRING
a
\.e|0
\.x|pause
EOF
	run sc
	assert_success
	assert_line --index 3 "$(printf '\\.x\tpause')"
}

@test "a write error on stdout is an error" {
	words_two_batches
	run --separate-stderr sh -c 'scount < "$1" > /dev/full' sh "$IN"
	assert_failure 1
	assert_regex "$stderr" "^scount: write error"
}

@test "many distinct keys across batches, update mode, with eviction and compaction" {
	# 20 windows of 2000 keys each, closed one by one by the watermark:
	# evicted groups are deleted and the table compacted, while the
	# counts stay exact.
	{
		printf '\\.h\t@watermark=0\t@event_time=t\t@window=tumbling\tk:STRING\twindow_start:TIMESTAMP\twindow_end:TIMESTAMP\n'
		awk 'BEGIN { for (w = 0; w < 20; w++) {
		    for (r = 0; r < 2; r++) for (k = 0; k < 2000; k++)
			printf "k%d\t%d\t%d\n", k, w * 10, w * 10 + 10
		    printf "\\.e\t%d\n\\.w\t%d\n", w, w * 10 + 10 } }'
		printf '\\.x\tfinal\n'
	} >"$IN"
	run scount --mode append <"$IN"
	assert_success
	[ "$(printf '%s\n' "$output" | grep -c '	2$')" = 38000 ]
	[ "$(item 19 scount.state_rows)" = 2000 ]
	[ "$(item 10 scount.state_rows)" = 2000 ]
}

@test "SIGTERM: scount goes on to the end frame, flushes and exits 0" {
	fifo="$BATS_TEST_TMPDIR/fifo"
	out="$BATS_TEST_TMPDIR/out"
	mkfifo "$fifo"
	scount --mode update <"$fifo" >"$out" 3>&- &
	pid=$!
	exec 4>"$fifo"
	printf '\\.h\tword:STRING\na\n\\.e\t0\n' >&4
	wait_for grep -q '^\\\.e' "$out"
	kill -TERM "$pid"
	printf 'b\n\\.e\t1\n\\.x\tfinal\n' >&4
	exec 4>&-
	wait "$pid"
	grep -qx "$(printf 'b\t1')" "$out"
	grep -qx "$(printf '\\\\.x\tfinal')" "$out"
}
