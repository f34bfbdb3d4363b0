#!/usr/bin/env bats
# The checkpointed stateful stages (scount, swindow): state written at the
# end of every batch, loaded from the last commit on restart, change
# detection, damaged files, paused ends.  The checkpoint directory is
# driven by tests/helpers/ckpt_tool as ssrc and ssink drive it, and the
# frames are written by hand ('|' stands for TAB), so these tests depend on
# neither.

load test_helper/common
bats_require_minimum_version 1.5.0

setup() {
	CK="$BATS_TEST_TMPDIR/ck"
	IN="$BATS_TEST_TMPDIR/in"
}

# newrun: start a run of the query as ssrc would (run lock, resume);
# sets RUN (the run id for @run) and C (the last commit).
newrun() {
	local out
	out=$(ckpt_tool run "$CK") || return 1
	RUN=${out% *}
	C=${out#* }
}

# frames: stdin into $IN, '|' turned into TAB, with @checkpoint and @run
# added to the header (its first line).
frames() {
	local first
	{
		IFS= read -r first
		printf '%s|@checkpoint=%s|@run=%s|%s\n' '\.h' "$CK" "$RUN" \
		    "${first#\\.h|}"
		cat
	} | tr '|' '\t' >"$IN"
}

# expect: stdin with '|' turned into TAB, for assert_output.
expect() {
	tr '|' '\t'
}

# q PIPELINE: run the pipeline (a string) on $IN; the header is dropped
# and epoch frames are cut to their batch id.
q() {
	set -o pipefail
	eval "$1" <"$IN" | sed -e 1d -e 's/^\(\\\.e\t[0-9]*\).*/\1/'
}

# item N KEY: the value of epoch item KEY of batch N in $output.
item() {
	printf '%s\n' "$output" | awk -F'\t' -v n="$1" -v k="$2" '
	    $1 == "\\.e" && $2 == n { for (i = 3; i <= NF; i++)
		if (index($i, k "=") == 1) print substr($i, length(k) + 2) }'
}

words_run1() {
	newrun
	frames <<'EOF'
\.h|word:STRING
a
b
a
\.e|0
b
\.e|1
c
\.e|2
\.x|pause
EOF
}

words_run2() {
	frames <<'EOF'
\.h|word:STRING
a
c
d
\.e|3
\.x|pause
EOF
}

@test "scount: run 2 starts at the batch after the commit and counts continue" {
	words_run1
	run q 'scount --mode update'
	assert_success
	assert_output "$(expect <<'EOF'
a|2
b|1
\.e|0
b|2
\.e|1
c|1
\.e|2
\.x|pause
EOF
)"
	run ckpt_tool states "$CK"
	assert_output "$(printf 'scount/%s\n' 0 1 2)"
	ckpt_tool commit "$CK" "$RUN" 2
	newrun
	[ "$C" = 2 ]
	words_run2
	run q 'scount --mode update'
	assert_success
	assert_output "$(expect <<'EOF'
a|3
c|2
d|1
\.e|3
\.x|pause
EOF
)"
	# Complete mode sees the whole cumulative table, in first-seen order.
	ckpt_tool commit "$CK" "$RUN" 3
	newrun
	frames <<'EOF'
\.h|word:STRING
e
\.e|4
\.x|pause
EOF
	run q 'scount'
	assert_success
	assert_output "$(expect <<'EOF'
a|3
b|2
c|2
d|1
e|1
\.e|4
\.x|pause
EOF
)"
}

@test "scount: the header names the stage; two scounts in a query are scount and scount.2" {
	words_run1
	run scount <"$IN"
	assert_success
	assert_line --index 0 --regexp '	@stages=scount	word:STRING	count:BIGINT$'
	run bash -c 'scount --mode update <"$1" | scount word --sum count' _ "$IN"
	assert_success
	assert_line --index 0 --regexp '	@stages=scount,scount\.2	word:STRING	count:BIGINT	sum_count:BIGINT$'
	run ckpt_tool states "$CK"
	assert_line 'scount/2'
	assert_line 'scount.2/2'
	# Without a checkpoint the header is left alone.
	printf '\\.h\tword:STRING\na\n\\.e\t0\n\\.x\tfinal\n' >"$IN"
	run scount <"$IN"
	assert_success
	refute_output --partial '@stages'
}

@test "scount: an uncommitted batch is replayed from the last commit, with the same rows" {
	words_run1
	q 'scount --mode update' >/dev/null
	ckpt_tool commit "$CK" "$RUN" 2
	newrun
	ckpt_tool offsets "$CK" "$RUN" 3	# ssrc plans batch 3 ...
	words_run2
	run q 'scount --mode update'	# ... it runs, its state is written ...
	assert_success
	first="$output"
	run ckpt_tool states "$CK"
	assert_line 'scount/3'
	newrun				# ... but the sink never commits it
	[ "$C" = 2 ]
	run ckpt_tool states "$CK"
	refute_line 'scount/3'
	words_run2
	run q 'scount --mode update'
	assert_success
	assert_output "$first"
	assert_output --partial "$(expect <<<'a|3')"
}

@test "scount: a stream that does not start at the batch after the commit is refused" {
	words_run1
	q scount >/dev/null
	ckpt_tool commit "$CK" "$RUN" 2
	newrun
	frames <<'EOF'
\.h|word:STRING
a
\.e|5
\.x|pause
EOF
	run --separate-stderr scount <"$IN"
	assert_failure 1
	assert_equal "$stderr" "scount: stdin:3: batch 5, but checkpoint '$CK' is committed up to batch 2, so the stream must resume at batch 3 (is the input from another query?)"
	frames <<'EOF'
\.h|word:STRING
\.e|3
\.e|5
\.x|pause
EOF
	run --separate-stderr scount <"$IN"
	assert_failure 1
	assert_equal "$stderr" "scount: stdin:3: batch 5 after batch 3: batch ids of a checkpointed query go up by one"
}

@test "scount: changed keys, aggregates or windows make the state unusable (exit 1, named)" {
	words_run1
	q scount >/dev/null
	ckpt_tool commit "$CK" "$RUN" 2
	newrun
	state="$CK/state/scount/2"

	frames <<'EOF'
\.h|word:STRING|lang:STRING
a|en
\.e|3
\.x|pause
EOF
	run --separate-stderr scount <"$IN"
	assert_failure 1
	assert_equal "$stderr" "scount: checkpoint: '$state': the query changed in a way its state cannot follow: keys was 'word:STRING', now 'word:STRING,lang:STRING' (use a new checkpoint directory)"
	assert_output ''

	frames <<'EOF'
\.h|word:STRING|n:INT
a|1
\.e|3
\.x|pause
EOF
	run --separate-stderr scount word --sum n <"$IN"
	assert_failure 1
	assert_equal "$stderr" "scount: checkpoint: '$state': the query changed in a way its state cannot follow: aggs was 'count', now 'count,sum_n:INT' (use a new checkpoint directory)"

	frames <<'EOF'
\.h|@window=tumbling|@event_time=t|word:STRING|t:TIMESTAMP|window_start:TIMESTAMP|window_end:TIMESTAMP
a|5|0|10
\.e|3
\.x|pause
EOF
	run --separate-stderr scount <"$IN"
	assert_failure 1
	assert_equal "$stderr" "scount: checkpoint: '$state': the query changed in a way its state cannot follow: window was 'none', now 'tumbling' (use a new checkpoint directory)"

	# A key's type is part of the key.
	frames <<'EOF'
\.h|word:INT
1
\.e|3
\.x|pause
EOF
	run --separate-stderr scount <"$IN"
	assert_failure 1
	[[ $stderr == *"keys was 'word:STRING', now 'word:INT'"* ]]

	# Harmless: the same query, another mode (no window: nothing evicted).
	words_run2
	run q 'scount --mode update'
	assert_success
}

@test "scount: a damaged or missing state file is an error naming it, never an empty start" {
	words_run1
	q scount >/dev/null
	ckpt_tool commit "$CK" "$RUN" 2
	state="$CK/state/scount/2"
	cp "$state" "$BATS_TEST_TMPDIR/good"
	sed -i "s/^a\t2\$/a\t7/" "$state"
	! cmp -s "$state" "$BATS_TEST_TMPDIR/good"
	# ssrc would fail too (no newrun): the stage must fail on its own.
	words_run2
	run --separate-stderr scount <"$IN"
	assert_failure 1
	assert_equal "$stderr" "scount: checkpoint: '$state': checksum mismatch (file corrupted or truncated)"
	assert_output ''

	head -c 40 "$BATS_TEST_TMPDIR/good" >"$state"
	run --separate-stderr scount <"$IN"
	assert_failure 1
	[[ $stderr == *"'$state'"* ]]

	rm "$state"
	run --separate-stderr scount <"$IN"
	assert_failure 1
	[[ $stderr == *"'$state' is missing"* ]]
}

@test "scount: a damaged state C with batch C-1 committed falls back to C-1 and replays C" {
	words_run1
	q 'scount --mode update' >/dev/null
	ckpt_tool commit "$CK" "$RUN" 1
	ckpt_tool commit "$CK" "$RUN" 2
	echo garbage >>"$CK/state/scount/2"
	newrun
	[ "$C" = 1 ]
	frames <<'EOF'
\.h|word:STRING
c
\.e|2
\.x|pause
EOF
	run q 'scount --mode update'
	assert_success
	assert_output "$(expect <<'EOF'
c|1
\.e|2
\.x|pause
EOF
)"
	run ckpt_tool show "$CK" scount 2
	assert_line "$(expect <<<'b|2')"
}

@test "scount: the output mode may change between update and append, not to complete after eviction" {
	newrun
	frames <<'EOF'
\.h|@watermark=0|@event_time=t|@window=tumbling|word:STRING|t:TIMESTAMP|window_start:TIMESTAMP|window_end:TIMESTAMP
x|5|0|10
y|15|10|20
\.e|0
\.w|15
\.e|1|nodata=1
\.x|pause
EOF
	run q 'scount --mode update'
	assert_success
	ckpt_tool commit "$CK" "$RUN" 1
	newrun
	# Append mode takes over the open window [10, 20) and writes it once,
	# when closed, with the count of both runs.
	frames <<'EOF'
\.h|@watermark=0|@event_time=t|@window=tumbling|word:STRING|t:TIMESTAMP|window_start:TIMESTAMP|window_end:TIMESTAMP
y|16|10|20
\.e|2
\.w|25
\.e|3|nodata=1
\.x|pause
EOF
	run q 'scount --mode append'
	assert_success
	assert_output "$(expect <<'EOF'
\.e|2
\.w|25
10|20|y|2
\.e|3
\.x|pause
EOF
)"
	ckpt_tool commit "$CK" "$RUN" 3
	newrun
	frames <<'EOF'
\.h|@watermark=0|@event_time=t|@window=tumbling|word:STRING|t:TIMESTAMP|window_start:TIMESTAMP|window_end:TIMESTAMP
z|30|30|40
\.e|4
\.x|pause
EOF
	run --separate-stderr scount --mode complete <"$IN"
	assert_failure 1
	assert_equal "$stderr" "scount: checkpoint: '$CK/state/scount/3': the query changed in a way its state cannot follow: mode was 'append', now 'complete', and the watermark has evicted groups that complete mode would have to write (use a new checkpoint directory)"
}

@test "scount: complete mode's state may go on in update mode; evicted windows are then closed" {
	newrun
	frames <<'EOF'
\.h|@watermark=0|@event_time=t|@window=tumbling|word:STRING|t:TIMESTAMP|window_start:TIMESTAMP|window_end:TIMESTAMP
x|5|0|10
y|15|10|20
\.e|0
\.w|15
\.e|1|nodata=1
\.x|pause
EOF
	run q 'scount --mode complete'
	assert_success
	assert_output --partial "$(expect <<<'0|10|x|1')"
	ckpt_tool commit "$CK" "$RUN" 1
	newrun
	frames <<'EOF'
\.h|@watermark=0|@event_time=t|@window=tumbling|word:STRING|t:TIMESTAMP|window_start:TIMESTAMP|window_end:TIMESTAMP
y|16|10|20
x|6|0|10
\.e|2
\.x|pause
EOF
	run q 'scount --mode update'
	assert_success
	# [0, 10) ended at or before the loaded watermark: x is late.
	assert_output "$(expect <<'EOF'
10|20|y|2
\.e|2
\.x|pause
EOF
)"
	run ckpt_tool show "$CK" scount 2
	refute_line --partial "$(expect <<<'0|10|x')"
}

@test "swindow | scount: append-mode windows open at a pause are written by a later run" {
	newrun
	frames <<'EOF'
\.h|word:STRING|t:TIMESTAMP
a|1000000
b|12000000
b|13000000
\.e|0
\.e|1|nodata=1
\.x|pause
EOF
	P='swindow --time t --size 10s --watermark 5s | scount --mode append'
	run q "$P"
	assert_success
	# The watermark 8s closes nothing: the pause keeps both windows.
	assert_output "$(expect <<'EOF'
\.e|0
\.w|8000000
\.e|1
\.x|pause
EOF
)"
	run ckpt_tool show "$CK" scount 1
	assert_line "$(expect <<<'0|10000000|a|1')"
	assert_line "$(expect <<<'10000000|20000000|b|2')"
	ckpt_tool commit "$CK" "$RUN" 1
	newrun
	frames <<'EOF'
\.h|word:STRING|t:TIMESTAMP
b|19000000
c|31000000
\.e|2
\.e|3|nodata=1
\.x|pause
EOF
	run q "$P"
	assert_success
	assert_output "$(expect <<'EOF'
\.w|8000000
\.e|2
\.w|26000000
0|10000000|a|1
10000000|20000000|b|3
\.e|3
\.x|pause
EOF
)"
	# And a final end flushes the rest.
	ckpt_tool commit "$CK" "$RUN" 3
	newrun
	frames <<'EOF'
\.h|word:STRING|t:TIMESTAMP
\.e|4|nodata=1|final=1
\.x|final
EOF
	run q "$P"
	assert_success
	assert_output "$(expect <<'EOF'
\.w|26000000
\.w|inf
30000000|40000000|c|1
\.e|4
\.x|final
EOF
)"
}

@test "swindow: the watermark survives a restart and drops run 2's late rows" {
	newrun
	frames <<'EOF'
\.h|word:STRING|t:TIMESTAMP
a|5000000
b|30000000
\.e|0
\.x|pause
EOF
	run q 'swindow --time t --size 10s --watermark 10s'
	assert_success
	run ckpt_tool show "$CK" swindow 0
	assert_output "$(printf '%s\n' \
	    'config=swindow time=t window=tumbling size=10s slide=10s start=0s' \
	    format=1 watermark=20000000 delay=10s)"
	ckpt_tool commit "$CK" "$RUN" 0
	newrun
	frames <<'EOF'
\.h|word:STRING|t:TIMESTAMP
late|15000000
ok|21000000
\.e|1
\.x|pause
EOF
	run swindow --time t --size 10s --watermark 10s <"$IN"
	assert_success
	assert_line --index 1 "$(expect <<<'\.w|20000000')"
	[ "$(item 1 swindow.dropped)" = 1 ]
	[ "$(item 1 swindow.watermark)" = 20000000 ]
	assert_line "$(expect <<<'ok|21000000|20000000|30000000')"
	refute_output --partial late
}

@test "swindow: the delay may change (the watermark never goes back); the window may not" {
	newrun
	frames <<'EOF'
\.h|word:STRING|t:TIMESTAMP
a|30000000
\.e|0
\.x|pause
EOF
	q 'swindow --time t --size 10s --watermark 10s' >/dev/null
	ckpt_tool commit "$CK" "$RUN" 0
	newrun
	frames <<'EOF'
\.h|word:STRING|t:TIMESTAMP
late|15000000
b|40000000
\.e|1
\.x|pause
EOF
	run swindow --time t --size 10s --watermark 30s <"$IN"
	assert_success
	assert_line --index 1 "$(expect <<<'\.w|20000000')"
	[ "$(item 1 swindow.dropped)" = 1 ]
	# 40s - 30s is behind 20s: no new watermark.
	[ "$(grep -c '^\\\.w' <<<"$output")" = 1 ]
	run --separate-stderr swindow --time t --size 20s --watermark 10s <"$IN"
	assert_failure 1
	assert_equal "$stderr" "swindow: checkpoint: '$CK/state/swindow/0': the query changed in a way its state cannot follow: size was '10s', now '20s'; slide was '10s', now '20s' (use a new checkpoint directory)"
	run --separate-stderr swindow --time t --session 10s <"$IN"
	assert_failure 1
	[[ $stderr == *"window was 'tumbling', now 'session'"* ]]
	# The same durations written another way are the same query.
	run swindow --time t --size 10000ms --watermark 10s <"$IN"
	assert_success
}

@test "swindow: a run without --watermark keeps the saved watermark for a later one" {
	newrun
	frames <<'EOF'
\.h|word:STRING|t:TIMESTAMP
a|30000000
\.e|0
\.x|pause
EOF
	q 'swindow --time t --size 10s --watermark 10s' >/dev/null
	ckpt_tool commit "$CK" "$RUN" 0
	newrun
	frames <<'EOF'
\.h|word:STRING|t:TIMESTAMP
b|90000000
\.e|1
\.x|pause
EOF
	run q 'swindow --time t --size 10s'
	assert_success
	refute_output --partial '\.w'
	run ckpt_tool show "$CK" swindow 1
	assert_line watermark=20000000
	ckpt_tool commit "$CK" "$RUN" 1
	newrun
	frames <<'EOF'
\.h|word:STRING|t:TIMESTAMP
late|12000000
\.e|2
\.x|pause
EOF
	run swindow --time t --size 10s --watermark 10s <"$IN"
	assert_success
	assert_line --index 1 "$(expect <<<'\.w|20000000')"
	[ "$(item 2 swindow.dropped)" = 1 ]
}

# ---- a query stopped after any batch gives what an uninterrupted run gives ----

events() {
	cat <<'EOF'
\.h|user:STRING|t:TIMESTAMP|n:INT|x:DOUBLE|page:STRING
u1|1000000|1|0.5|home
u2|2000000|2|1.25|a\tb
u1|3000000|\N|-0.0|zeta
\.e|0
u1|12000000|4|1e300|alpha
u3|9000000|5|\N|\N
\.e|1
\.e|2|nodata=1
u2|25000000|6|0.1|mid
u1|4000000|7|2.5|late?
u1|14000000|8|3|x
\.e|3
\.e|4|nodata=1
u3|40000000|9|NaN|q
u2|27000000|-3|-1e-310|\\
\.e|5
\.e|6|nodata=1|final=1
\.x|final
EOF
}

# part LO HI END: the events' header and batches LO..HI, then \.x END.
part() {
	events | awk -F'|' -v lo="$1" -v hi="$2" -v end="$3" '
	    NR == 1 { print; b = 0; next }
	    $1 == "\\.x" { next }
	    { if (b >= lo && b <= hi) print }
	    $1 == "\\.e" { b++ }
	    END { print "\\.x|" end }'
}

# norm: drop headers, pauses, epoch items that depend on memory, and
# watermark frames that repeat the last one (a resumed swindow announces
# it again).
norm() {
	awk -F'\t' '
	    $1 == "\\.h" || $0 == "\\.x\tpause" { next }
	    $1 == "\\.w" { if ($2 == last) next; last = $2 }
	    { gsub(/\tscount\.mem_bytes=[0-9]*/, ""); print }'
}

# upto N: stdin up to the epoch frame of batch N and the watermark frames
# right after it.
upto() {
	awk -F'\t' -v n="$1" '
	    done && $1 != "\\.w" { exit }
	    { print }
	    $1 == "\\.e" && $2 == n { done = 1 }'
}

# same_as_uninterrupted PIPELINE: for every batch K, a run that pauses
# after K (committed) and a second run give the uninterrupted output; and
# so does a run that also ran batch K+1 uncommitted, which the second run
# replays.
same_as_uninterrupted() {
	local p="$1" k last=6 want got
	set -o pipefail
	want=$(events | tr '|' '\t' | eval "$p" | norm) || return 1
	for ((k = 0; k < last; k++)); do
		rm -rf "$CK"
		newrun
		part 0 "$k" pause | frames
		got=$(eval "$p" <"$IN") || return 1
		ckpt_tool commit "$CK" "$RUN" "$k"
		newrun
		part $((k + 1)) $last final | frames
		got+=$'\n'$(eval "$p" <"$IN") || return 1
		got=$(printf '%s\n' "$got" | norm)
		if [ "$got" != "$want" ]; then
			echo "split after batch $k differs:"
			diff <(echo "$want") <(echo "$got")
			return 1
		fi
		[ $((k + 1)) -lt $last ] || continue
		rm -rf "$CK"
		newrun
		part 0 $((k + 1)) pause | frames
		got=$(eval "$p" <"$IN") || return 1
		got=$(printf '%s\n' "$got" | upto "$k")
		ckpt_tool commit "$CK" "$RUN" "$k"
		newrun
		[ "$C" = "$k" ]
		part $((k + 1)) $last final | frames
		got+=$'\n'$(eval "$p" <"$IN") || return 1
		got=$(printf '%s\n' "$got" | norm)
		if [ "$got" != "$want" ]; then
			echo "replay of batch $((k + 1)) differs:"
			diff <(echo "$want") <(echo "$got")
			return 1
		fi
	done
}

@test "restart after any batch: counts and aggregates without windows (update)" {
	run same_as_uninterrupted \
	    'scount user --mode update --sum n --min page --max x --avg x'
	assert_success
}

@test "restart after any batch: sliding windows, append, string and double aggregates" {
	run same_as_uninterrupted 'swindow --time t --size 10s --slide 5s --watermark 5s |
	    scount user --mode append --sum n --min page --avg x --max x'
	assert_success
}

@test "restart after any batch: tumbling windows, complete mode with no-data batches" {
	run same_as_uninterrupted 'swindow --time t --size 10s --watermark 5s |
	    scount user --min x --max page'
	assert_success
}

@test "restart after any batch: session windows in update and append modes" {
	run same_as_uninterrupted 'swindow --time t --session 5s --watermark 3s |
	    scount user --mode update --sum n --max page --avg x'
	assert_success
	run same_as_uninterrupted 'swindow --time t --session 5s --watermark 3s |
	    scount user --mode append --min page --sum x'
	assert_success
}

@test "restart after any batch: sliding windows, update mode" {
	run same_as_uninterrupted 'swindow --time t --size 10s --slide 5s --watermark 5s |
	    scount --mode update --sum n'
	assert_success
}
