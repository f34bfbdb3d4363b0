#!/usr/bin/env bats
# Event time end to end: swindow | scount [| ssink], with batch boundaries
# written by hand (one \.e per batch), checked against what Spark
# Structured Streaming outputs for the same batches.
#
# The data is the Structured Streaming Programming Guide's word-count
# example: 10-minute windows sliding every 5 minutes, a 10-minute
# watermark.  Times are 12:MM on 2026-11-24 UTC.
#
# Spark's rules used for the expected outputs:
# - window(t, 10m, 5m): t falls in the two windows [k*5m, k*5m + 10m) that
#   contain it (TimeWindowing); window_end is exclusive.
# - The watermark is max(event time) - 10m, computed at the END of batch N
#   (WatermarkTracker.updateWatermark) and in effect from batch N+1.
# - A row is late, dropped and counted, when window.end <= the watermark in
#   effect (WatermarkSupport: end <= watermark).
# - append: a window is emitted once, at the end of the first batch whose
#   watermark is >= its end, then evicted.  update: the groups changed in
#   the batch, then windows with end <= watermark are evicted.  complete:
#   the whole table every batch, nothing evicted.
# - runnel: at end of input the final no-data batch (final=1) runs with
#   watermark +inf (swindow writes \.w inf before its epoch frame), so
#   append emits every open window; scount complete mode re-emits the table
#   on a no-data batch only when the watermark changed since its last output.

load test_helper/common
bats_require_minimum_version 1.5.0

BASE=1795521600000000	# 2026-11-24T12:00:00Z in microseconds
M=60000000

setup() {
	TMP="$(mktemp -d)"
	export BASE M
	export -f ev epoch guide_frames guide_frames_nodata
	[ -x "$RUNNEL_BUILD/bin/swindow" ] || skip "swindow not built"
	[ -x "$RUNNEL_BUILD/bin/scount" ] || skip "scount not built yet"
}

teardown() {
	if [ -n "${PIDS:-}" ]; then
		kill $PIDS 2>/dev/null || true
		wait $PIDS 2>/dev/null || true
	fi
	exec 7>&- 2>/dev/null || true
	rm -rf "$TMP"
}

# ev MINUTE WORD: a record (timestamp, word) at 12:MINUTE.
ev() { printf '%s\t%s\n' $((BASE + $1 * M)) "$2"; }
epoch() { local IFS=$'\t'; printf '\\.e\t%s\n' "$*"; }

# The guide's events, in four data batches, then the end of input.
guide_frames() {
	printf '\\.h\t@query=guide\ttimestamp:TIMESTAMP\tword:STRING\n'
	ev 7 dog; ev 8 owl;				epoch 0
	ev 14 dog; ev 9 cat;				epoch 1
	ev 15 cat; ev 8 dog; ev 13 owl; ev 21 owl;	epoch 2
	ev 17 owl; ev 4 donkey;				epoch 3
	epoch 4 nodata=1 final=1
	printf '\\.x\tfinal\n'
}

# The same, with the no-data batch ssrc runs after each data batch when no
# input is waiting (Spark's no-data batches): the timeline of the guide's
# figure, where 12:00-12:10 is appended before the donkey arrives.
guide_frames_nodata() {
	printf '\\.h\t@query=guide\ttimestamp:TIMESTAMP\tword:STRING\n'
	ev 7 dog; ev 8 owl;				epoch 0
	epoch 1 nodata=1
	ev 14 dog; ev 9 cat;				epoch 2
	epoch 3 nodata=1
	ev 15 cat; ev 8 dog; ev 13 owl; ev 21 owl;	epoch 4
	epoch 5 nodata=1
	ev 17 owl; ev 4 donkey;				epoch 6
	epoch 7 nodata=1
	epoch 8 nodata=1 final=1
	printf '\\.x\tfinal\n'
}

# batches: scount's frames -> one line per output row, "N START-END KEY...
# AGG..." with N the batch it was emitted in, times as HH:MM, sorted by
# batch then row (scount's row order within a batch is its own business).
batches() {
	awk -F'\t' -v base="$BASE" '
	function hm(t,  m) {
		m = 12 * 60 + (t - base) / 60000000
		return sprintf("%02d:%02d", int(m / 60), m % 60)
	}
	/^\\\.e\t/ { for (i = 0; i < n; i++) print $2 " " rows[i]; n = 0; next }
	/^\\\./ { next }
	{ r = hm($1) "-" hm($2); for (i = 3; i <= NF; i++) r = r " " $i; rows[n++] = r }
	' | sort -k1,1n -k2
}

# check_batches EXPECTED: compare $output (scount frames) per batch.
check_batches() {
	local got
	got="$(printf '%s\n' "$output" | batches)"
	[ "$got" = "$1" ] || { diff <(printf '%s\n' "$1") <(printf '%s\n' "$got"); false; }
}

@test "guide, append mode: 12:00-12:10 emitted once the watermark reaches 12:11; the donkey is dropped; the rest at the end" {
	# Batch 0 [wm none]: dog 12:07, owl 12:08 -> 12:00-12:10 and 12:05-12:15.
	#   End: max 12:08, wm for batch 1 = 11:58.  Nothing closed.
	# Batch 1 [wm 11:58]: dog 12:14 -> 12:05-12:15, 12:10-12:20; cat 12:09
	#   -> 12:00-12:10, 12:05-12:15.  None late.  End: wm 12:04.
	# Batch 2 [wm 12:04]: cat 12:15, dog 12:08 (out of order, windows end
	#   12:10 and 12:15 > 12:04: kept), owl 12:13, owl 12:21.  End: wm 12:11.
	#   Append at the end of batch 2 uses 12:04: nothing closes.
	# Batch 3 [wm 12:11]: owl 12:17 kept; donkey 12:04 -> 12:00-12:10 and
	#   11:55-12:05 both end <= 12:11: dropped (2).  At the end, append
	#   emits 12:00-12:10 (end 12:10 <= 12:11): dog 2, owl 1, cat 1.
	#   max 12:17 - 10m = 12:07 < 12:11: the watermark stays.
	# Batch 4 [final, wm +inf]: every open window.
	run bash -c 'guide_frames | swindow --time timestamp --size 10m --slide 5m --watermark 10m |
	    scount --mode append'
	assert_success
	check_batches "3 12:00-12:10 cat 1
3 12:00-12:10 dog 2
3 12:00-12:10 owl 1
4 12:05-12:15 cat 1
4 12:05-12:15 dog 3
4 12:05-12:15 owl 2
4 12:10-12:20 cat 1
4 12:10-12:20 dog 1
4 12:10-12:20 owl 2
4 12:15-12:25 cat 1
4 12:15-12:25 owl 2
4 12:20-12:30 owl 1"
	# The late rows are counted in batch 3's epoch, forwarded by scount.
	assert_line --regexp $'^\\\\\\.e\t3\t.*swindow\\.dropped=2'
	assert_line --regexp $'^\\\\\\.e\t3\t.*swindow\\.watermark='$((BASE + 11 * M))
	# \.w inf comes between batch 3's epoch and the final batch's rows, so
	# scount runs that batch with it.
	printf '%s\n' "$output" | awk '/^\\\.e\t3\t/ { e3 = NR } /^\\\.w\tinf$/ { w = NR }
	    !/^\\\./ && e3 && !first4 { first4 = NR }
	    END { exit !(e3 && w == e3 + 1 && first4 > w) }' || { echo "$output"; false; }
}

@test "guide, append mode with ssrc's no-data batches: the window closes in the no-data batch, before the donkey" {
	# As above; the no-data batch 5 runs with wm 12:11 (from batch 4's
	# 12:21 owl) and appends 12:00-12:10; the donkey comes in batch 6 and
	# is dropped; batch 7 (no data, wm unchanged) emits nothing.
	run bash -c 'guide_frames_nodata | swindow --time timestamp --size 10m --slide 5m --watermark 10m |
	    scount --mode append'
	assert_success
	check_batches "5 12:00-12:10 cat 1
5 12:00-12:10 dog 2
5 12:00-12:10 owl 1
8 12:05-12:15 cat 1
8 12:05-12:15 dog 3
8 12:05-12:15 owl 2
8 12:10-12:20 cat 1
8 12:10-12:20 dog 1
8 12:10-12:20 owl 2
8 12:15-12:25 cat 1
8 12:15-12:25 owl 2
8 12:20-12:30 owl 1"
	assert_line --regexp $'^\\\\\\.e\t6\t.*swindow\\.dropped=2'
}

@test "guide, update mode: the rows changed in each batch" {
	# Batch 0: the four new groups.
	# Batch 1: dog 12:14 creates 12:10-12:20 dog and bumps 12:05-12:15 dog
	#   to 2; cat 12:09 creates 12:00-12:10 cat and 12:05-12:15 cat.
	# Batch 2: cat 12:15 -> 12:15-12:25 cat 1, 12:10-12:20 cat 1; dog
	#   12:08 -> 12:05-12:15 dog 3, 12:00-12:10 dog 2; owl 12:13 ->
	#   12:10-12:20 owl 1, 12:05-12:15 owl 2; owl 12:21 -> 12:20-12:30
	#   owl 1, 12:15-12:25 owl 1.
	# Batch 3: owl 12:17 -> 12:15-12:25 owl 2, 12:10-12:20 owl 2; the
	#   donkey is dropped; 12:00-12:10 is evicted (end <= 12:11), silently.
	# Batch 4 (final): nothing changed, nothing to show.
	run bash -c 'guide_frames | swindow --time timestamp --size 10m --slide 5m --watermark 10m |
	    scount --mode update'
	assert_success
	check_batches "0 12:00-12:10 dog 1
0 12:00-12:10 owl 1
0 12:05-12:15 dog 1
0 12:05-12:15 owl 1
1 12:00-12:10 cat 1
1 12:05-12:15 cat 1
1 12:05-12:15 dog 2
1 12:10-12:20 dog 1
2 12:00-12:10 dog 2
2 12:05-12:15 dog 3
2 12:05-12:15 owl 2
2 12:10-12:20 cat 1
2 12:10-12:20 owl 1
2 12:15-12:25 cat 1
2 12:15-12:25 owl 1
2 12:20-12:30 owl 1
3 12:10-12:20 owl 2
3 12:15-12:25 owl 2"
}

@test "guide, complete mode: the whole table every batch, never evicted" {
	# The donkey is dropped by swindow whatever the mode downstream (Spark's
	# complete mode would count it: see swindow(1), CAVEATS).  Batch 4 is a
	# no-data batch whose watermark changed (12:11 -> +inf): the table is
	# shown again, unchanged.
	run bash -c 'guide_frames | swindow --time timestamp --size 10m --slide 5m --watermark 10m |
	    scount --mode complete'
	assert_success
	t3="12:00-12:10 cat 1
12:00-12:10 dog 2
12:00-12:10 owl 1
12:05-12:15 cat 1
12:05-12:15 dog 3
12:05-12:15 owl 2
12:10-12:20 cat 1
12:10-12:20 dog 1
12:10-12:20 owl 2
12:15-12:25 cat 1
12:15-12:25 owl 2
12:20-12:30 owl 1"
	check_batches "0 12:00-12:10 dog 1
0 12:00-12:10 owl 1
0 12:05-12:15 dog 1
0 12:05-12:15 owl 1
1 12:00-12:10 cat 1
1 12:00-12:10 dog 1
1 12:00-12:10 owl 1
1 12:05-12:15 cat 1
1 12:05-12:15 dog 2
1 12:05-12:15 owl 1
1 12:10-12:20 dog 1
2 12:00-12:10 cat 1
2 12:00-12:10 dog 2
2 12:00-12:10 owl 1
2 12:05-12:15 cat 1
2 12:05-12:15 dog 3
2 12:05-12:15 owl 2
2 12:10-12:20 cat 1
2 12:10-12:20 dog 1
2 12:10-12:20 owl 1
2 12:15-12:25 cat 1
2 12:15-12:25 owl 1
2 12:20-12:30 owl 1
$(sed 's/^/3 /' <<<"$t3")
$(sed 's/^/4 /' <<<"$t3")"
}

@test "guide to csv: swindow | scount --mode append | ssink - --format csv" {
	[ -x "$RUNNEL_BUILD/bin/ssink" ] || skip "ssink not built yet"
	run --separate-stderr bash -c 'set -o pipefail; guide_frames |
	    swindow --time timestamp --size 10m --slide 5m --watermark 10m |
	    scount --mode append | ssink - --format csv'
	assert_success
	assert_line --index 0 'window_start,window_end,word,count'
	# Batches are not visible in csv; the rows come in emission order
	# (12:00-12:10 first, in batch 3), in any order within a batch.
	[ "$(sed -n '2,4p' <<<"$output" | sort)" = "2026-11-24T12:00:00.000Z,2026-11-24T12:10:00.000Z,cat,1
2026-11-24T12:00:00.000Z,2026-11-24T12:10:00.000Z,dog,2
2026-11-24T12:00:00.000Z,2026-11-24T12:10:00.000Z,owl,1" ] || { echo "$output"; false; }
	[ "$(sed -n '5,$p' <<<"$output" | sort)" = "2026-11-24T12:05:00.000Z,2026-11-24T12:15:00.000Z,cat,1
2026-11-24T12:05:00.000Z,2026-11-24T12:15:00.000Z,dog,3
2026-11-24T12:05:00.000Z,2026-11-24T12:15:00.000Z,owl,2
2026-11-24T12:10:00.000Z,2026-11-24T12:20:00.000Z,cat,1
2026-11-24T12:10:00.000Z,2026-11-24T12:20:00.000Z,dog,1
2026-11-24T12:10:00.000Z,2026-11-24T12:20:00.000Z,owl,2
2026-11-24T12:15:00.000Z,2026-11-24T12:25:00.000Z,cat,1
2026-11-24T12:15:00.000Z,2026-11-24T12:25:00.000Z,owl,2
2026-11-24T12:20:00.000Z,2026-11-24T12:30:00.000Z,owl,1" ] || { echo "$output"; false; }
}

@test "guide to csv, update and complete modes" {
	[ -x "$RUNNEL_BUILD/bin/ssink" ] || skip "ssink not built yet"
	run --separate-stderr bash -c 'set -o pipefail; guide_frames |
	    swindow --time timestamp --size 10m --slide 5m --watermark 10m |
	    scount --mode update | ssink - --format csv'
	assert_success
	# 4 + 4 + 8 + 2 changed rows, the header once.
	[ "$(wc -l <<<"$output")" -eq 19 ]
	assert_line --index 0 'window_start,window_end,word,count'
	[ "$(tail -n 2 <<<"$output" | sort | tr '\n' ' ')" = "2026-11-24T12:10:00.000Z,2026-11-24T12:20:00.000Z,owl,2 2026-11-24T12:15:00.000Z,2026-11-24T12:25:00.000Z,owl,2 " ] ||
	    { echo "$output"; false; }
	run --separate-stderr bash -c 'set -o pipefail; guide_frames |
	    swindow --time timestamp --size 10m --slide 5m --watermark 10m |
	    scount --mode complete | ssink - --format csv'
	assert_success
	# 4 + 7 + 12 + 12 (+ 12 for the final batch) rows, the header once.
	[ "$(grep -c '^window_start' <<<"$output")" -eq 1 ]
	[ "$(wc -l <<<"$output")" -eq 48 ] || { echo "$output"; false; }
}

@test "session windows: a merge across batches, a bridging event, touching sessions, a late row" {
	# --session 5m --watermark 10m, key user.
	# Batch 0 [wm none]: a 12:00 -> [12:00,12:05); a 12:10 -> [12:10,12:15);
	#   b 12:02 -> [12:02,12:07).  End: max 12:10, wm 12:00.
	# Batch 1 [wm 12:00]: a 12:04 -> [12:04,12:09) overlaps [12:00,12:05):
	#   [12:00,12:09) 2.  a 12:07 -> [12:07,12:12) bridges [12:00,12:09)
	#   and [12:10,12:15): one session [12:00,12:15) 4.  c 12:20 ->
	#   [12:20,12:25).  End: max 12:20, wm 12:10.
	# Batch 2 [wm 12:10]: c 12:21 -> [12:21,12:26) merges: [12:20,12:26) 2.
	#   b 12:01 -> [12:01,12:06) ends <= 12:10: dropped (1).  a 12:15 ->
	#   [12:15,12:20) starts at a's end 12:15: touching merges, as Spark's
	#   MergingSessionsIterator (start <= end): [12:00,12:20) 5.  At the
	#   end append emits b [12:02,12:07) 1 (end <= 12:10).  wm 12:11.
	# Batch 3 [final, +inf]: a [12:00,12:20) 5 and c [12:20,12:26) 2.
	sessions() {
		printf '\\.h\tuser:STRING\tts:TIMESTAMP\n'
		printf 'a\t%s\n' $((BASE)) $((BASE + 10 * M))
		printf 'b\t%s\n' $((BASE + 2 * M))
		printf '\\.e\t0\n'
		printf 'a\t%s\n' $((BASE + 4 * M)) $((BASE + 7 * M))
		printf 'c\t%s\n' $((BASE + 20 * M))
		printf '\\.e\t1\n'
		printf 'c\t%s\n' $((BASE + 21 * M))
		printf 'b\t%s\n' $((BASE + 1 * M))
		printf 'a\t%s\n' $((BASE + 15 * M))
		printf '\\.e\t2\n'
		printf '\\.e\t3\tnodata=1\tfinal=1\n\\.x\tfinal\n'
	}
	export -f sessions
	run bash -c 'sessions | swindow --time ts --session 5m --watermark 10m | scount --mode append'
	assert_success
	check_batches "2 12:02-12:07 b 1
3 12:00-12:20 a 5
3 12:20-12:26 c 2"
	assert_line --regexp $'^\\\\\\.e\t2\t.*swindow\\.dropped=1'
	assert_line --index 0 --partial $'@window=session\t@session_gap=300000000'
}

@test "late-row counts: per row and window, in every epoch, zero when none" {
	run bash -c 'guide_frames | swindow --time timestamp --size 10m --slide 5m --watermark 10m |
	    scount --mode update'
	assert_success
	drops=$(printf '%s\n' "$output" | awk -F'\t' '/^\\\.e\t/ {
	    d = "-"; for (i = 3; i <= NF; i++) if ($i ~ /^swindow\.dropped=/) d = substr($i, 17)
	    printf "%s:%s ", $2, d }')
	[ "$drops" = "0:0 1:0 2:0 3:2 4:0 " ] || { echo "$drops"; false; }
}

@test "end of stream: the final batch flushes every open window in append mode, and only then" {
	# One event; its window cannot close by event time (the watermark
	# stays below its end), so only the end of input emits it.
	frames() {
		printf '\\.h\ttimestamp:TIMESTAMP\tword:STRING\n'
		printf '%s\tx\n' $((BASE + 7 * M)); printf '\\.e\t0\n'
		printf '\\.e\t1\tnodata=1\n'
		printf '\\.e\t2\tnodata=1\tfinal=1\n\\.x\tfinal\n'
	}
	export -f frames
	run bash -c 'frames | swindow --time timestamp --size 10m --watermark 1m | scount --mode append'
	assert_success
	check_batches "2 12:00-12:10 x 1"
	# With \.x pause instead (available-now with a checkpoint), no final
	# batch, no flush: the window stays open.
	frames_pause() {
		printf '\\.h\ttimestamp:TIMESTAMP\tword:STRING\n'
		printf '%s\tx\n' $((BASE + 7 * M)); printf '\\.e\t0\n'
		printf '\\.e\t1\tnodata=1\n\\.x\tpause\n'
	}
	export -f frames_pause
	run bash -c 'frames_pause | swindow --time timestamp --size 10m --watermark 1m | scount --mode append'
	assert_success
	check_batches ""
	refute_line --partial $'\\.w\tinf'
}

@test "idle timeout: on a quiet stream the watermark advances by processing time and a heartbeat batch emits the window" {
	mkfifo "$TMP/in"
	# An event an hour old: by event time its 1-minute window would stay
	# open (watermark = event - 1m); by processing time it is long closed.
	now=$(date +%s)
	t=$(((now - 3600) * 1000000))
	swindow --time timestamp --size 1m --watermark 1m --idle-timeout 200ms <"$TMP/in" |
	    tee "$TMP/sw" | scount --mode append >"$TMP/out" &
	PIDS="$!"
	exec 7>"$TMP/in"
	printf '\\.h\ttimestamp:TIMESTAMP\tword:STRING\n%s\tx\n\\.e\t0\n\\.e\t1\tnodata=1\n' "$t" >&7
	wait_for grep -q $'^\\\\\\.e\t1\t' "$TMP/out"
	# Nothing emitted yet: the watermark is t - 1m.
	[ "$(grep -vc '^\\\.' "$TMP/out")" -eq 0 ]
	# The idle watermark (now - 1m) shows up on its own, between batches.
	wait_for awk -F'\t' -v t="$t" '/^\\\.w\t/ && $2 > t { f = 1 } END { exit !f }' "$TMP/sw"
	# The next heartbeat batch runs with it: the window is emitted there.
	printf '\\.e\t2\tnodata=1\n' >&7
	wait_for grep -q $'^\\\\\\.e\t2\t' "$TMP/out"
	rows=$(cat "$TMP/out" | awk -F'\t' '/^\\\./ { if ($0 ~ /^\\\.e\t2\t/) print n; next } { n++ }')
	[ "$rows" = "1" ] || { cat "$TMP/out"; false; }
	printf '\\.e\t3\tnodata=1\tfinal=1\n\\.x\tfinal\n' >&7
	exec 7>&-
	wait $PIDS
	PIDS=
	[ "$(grep -vc '^\\\.' "$TMP/out")" -eq 1 ]
	ws=$(grep -v '^\\\.' "$TMP/out" | cut -f1)
	[ "$ws" -eq $((t / M * M)) ]
}
