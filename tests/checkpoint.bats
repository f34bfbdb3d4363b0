#!/usr/bin/env bats
# ssrc --checkpoint: the offsets log, the file journal, resuming, replaying
# a planned batch exactly, the run lock, the paused end, and the cron
# scenario through scount and ssink.

load test_helper/common

bats_require_minimum_version 1.5.0

setup() {
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/in"
	cd "$T"
}

teardown() {
	if [ -n "${BG_PID:-}" ]; then kill "$BG_PID" 2>/dev/null || true; fi
	if [ -n "${WAIT_PID:-}" ]; then kill "$WAIT_PID" 2>/dev/null || true; fi
	true
}


data() {
	grep -v '^\\\.' "$1" || true
}

# body FILE: a checkpoint file without its first and last lines.
body() {
	sed '1d;$d' "$1"
}

# cron: one run of the cron pipeline over in/, the counts on stdout.
cron() {
	ssrc file:in --checkpoint ck --trigger available-now | ssplit | scount \
	    | ssink - --format csv
}

@test "header: @checkpoint (absolute), @run, @retain, the query id is stable" {
	ssrc file:in --checkpoint ck --trigger available-now >a
	ssrc file:in --checkpoint ck --trigger available-now --retain 7 >b
	run head -1 a
	assert_output --regexp "	@checkpoint=$T/ck	@retain=100	value:STRING\$"
	run head -1 b
	assert_output --partial "	@retain=7	"
	[ "$(head -1 a | cut -f3)" = "$(head -1 b | cut -f3)" ]
	[ "$(head -1 a | cut -f4)" != "$(head -1 b | cut -f4)" ]
	grep -q "id=$(head -1 a | cut -f3 | cut -d= -f2)" ck/metadata
}

@test "offsets/N logs each batch: start, end, rows, flags, the files taken" {
	echo a >in/a
	echo b >in/b
	in_order in/a in/b
	ssrc file:in --checkpoint ck --trigger available-now \
	    --max-files-per-trigger 1 >out
	run batches out
	assert_output $'0 rows=1\n1 rows=1\n2 nodata rows=0'
	[ "$(tail -1 out)" = '\.x	pause' ]
	run body ck/offsets/0
	assert_output "batch=0
nodata=0
final=0
rows=1
start=next=0 offset=0 line=0
end=next=1 offset=0 line=0
journal
take 0 0 a"
	run body ck/offsets/2
	assert_output "batch=2
nodata=1
final=0
rows=0
start=next=2 offset=0 line=0
end=next=2 offset=0 line=0
journal"
}

@test "cron: three runs over a growing directory give cumulative counts; a run with nothing new adds nothing" {
	echo 'a b' >in/1
	run cron
	assert_success
	assert_output $'word,count\na,1\nb,1'
	echo 'a c' >in/2
	run cron
	assert_success
	assert_output $'word,count\na,2\nb,1\nc,1'
	echo 'c c' >in/3
	run cron
	assert_success
	assert_output $'word,count\na,2\nb,1\nc,3'
	run cron
	assert_success
	assert_output ''
	echo 'b' >in/4
	run cron
	assert_output $'word,count\na,2\nb,2\nc,3'
}

@test "batch ids go on from the last commit; taken files are never read again" {
	echo one >in/1
	ssrc file:in --checkpoint ck --trigger available-now | ssink - --format csv >/dev/null
	[ -e ck/commits/1 ]
	echo two >in/2
	ssrc file:in --checkpoint ck --trigger available-now >out
	run batches out
	assert_output $'2 rows=1\n3 nodata rows=0'
	run data out
	assert_output two
}

@test "a planned batch that was not committed is replayed exactly, then new plans are made" {
	echo a >in/a
	echo b >in/b
	in_order in/a in/b
	# no sink: nothing is committed, offsets/0..2 are plans
	ssrc file:in --checkpoint ck --trigger available-now \
	    --max-files-per-trigger 1 >first
	# an older file arrives: a new plan would take it first
	echo c >in/c
	touch -d '2025-01-01' in/c
	ssrc file:in --checkpoint ck --trigger available-now \
	    --max-files-per-trigger 1 >second
	run batches second
	assert_output $'0 rows=1\n1 rows=1\n2 rows=1\n3 nodata rows=0'
	run data second
	assert_output $'a\nc\nb'
	# a replay is the same batch, byte for byte
	[ "$(sed -n 2p first)" = "$(sed -n 2p second)" ]
}

@test "a replay ends mid-file where the batch ended, and the next batch goes on from there" {
	seq 1 10 >in/a
	ssrc file:in --checkpoint ck --trigger available-now --max-batch-rows 4 >first
	run batches first
	assert_output $'0 rows=4\n1 rows=4\n2 rows=2\n3 nodata rows=0'
	# a sink committed batch 0 only
	ckpt_tool commit ck "$(head -1 first | tr '\t' '\n' | sed -n 's/^@run=//p')" 0
	# the replay keeps its 4 rows whatever the cap is now
	ssrc file:in --checkpoint ck --trigger available-now --max-batch-rows 1 >second
	run batches second
	assert_output $'1 rows=4\n2 rows=1\n3 rows=1\n4 nodata rows=0'
	run data second
	assert_output "$(seq 5 10)"
}

@test "tail: a re-run goes on after the last committed line" {
	seq 1 3 >log
	ssrc tail:log --checkpoint ck --trigger available-now | ssink - --format csv >out1
	seq 4 5 >>log
	ssrc tail:log --checkpoint ck --trigger available-now | ssink - --format csv >out2
	run cat out1
	assert_output $'value\n1\n2\n3'
	run cat out2
	assert_output $'value\n4\n5'
}

@test "rate: a re-run goes on counting where the last run ended" {
	# stop the first run with SIGTERM once it has made a batch (not at a
	# fixed time: under a sanitizer startup alone may take that long)
	ssrc rate:50 --checkpoint ck --trigger 100ms >frames1 3>&- &
	pid=$!
	wait_for grep -q '^\\\.e' frames1
	kill -TERM "$pid"
	wait "$pid"
	ssink - --format csv <frames1 >out1
	last=$(tail -1 out1 | cut -d, -f2)
	# a bounded run takes the rows due when it opens: wait until the next
	# one (20 ms after the last, at 50 a second) is due, or it may have none
	next_due=$(( $(grep -v '^\\' frames1 | tail -1 | cut -f1) + 20000 ))
	wait_for now_after "$next_due"
	ssrc rate:50 --checkpoint ck --trigger once | ssink - --format csv >out2
	[ "$(sed -n 2p out2 | cut -d, -f2)" -eq $((last + 1)) ]
}

@test "one run per checkpoint: a second run exits 1 at once naming the holder's pid" {
	ssrc file:in --checkpoint ck >bg 2>&1 3>&- &
	BG_PID=$!
	wait_for grep -q '^\\\.h' bg
	run --separate-stderr ssrc file:in --checkpoint ck --trigger once
	assert_failure 1
	assert_equal "$stderr" "ssrc: checkpoint 'ck' is in use by pid $BG_PID (use --wait to queue)"
	[ -z "$output" ]
}

@test "--wait queues behind the running query, then runs" {
	echo x >in/x
	ssrc file:in --checkpoint ck >bg 2>&1 3>&- &
	BG_PID=$!
	wait_for grep -q '^x$' bg
	echo y >in/y
	ssrc file:in --checkpoint ck --wait --trigger available-now >queued 2>&1 3>&- &
	WAIT_PID=$!
	# it waits: no header while the first run holds the lock
	wait_for grep -q '^y$' bg
	[ ! -s queued ]
	kill -TERM "$BG_PID"
	wait "$BG_PID"
	BG_PID=
	status=0
	wait "$WAIT_PID" || status=$?
	WAIT_PID=
	[ "$status" -eq 0 ]
	# nothing committed (no sink): the queued run replays what the first
	# one planned
	run data queued
	assert_output $'x\ny'
}

@test "with a checkpoint, available-now and a stop by signal pause; once is final" {
	echo a >in/a
	run ssrc file:in --checkpoint ck1 --trigger available-now
	[ "$(tail -1 <<<"$output")" = '\.x	pause' ]
	run ssrc file:in --checkpoint ck2 --trigger once
	[ "$(tail -1 <<<"$output")" = '\.x	final' ]
}

@test "a checkpoint of another source is refused" {
	ssrc file:in --checkpoint ck --trigger once >/dev/null
	mkdir other
	run --separate-stderr ssrc file:other --checkpoint ck --trigger once
	assert_failure 1
	assert_equal "$stderr" "ssrc: checkpoint 'ck' belongs to source 'file:in', not 'file:other' (use a new checkpoint directory)"
}

@test "stdin with a checkpoint: a warning that it is not replayable, offsets still logged" {
	run --separate-stderr ssrc - --checkpoint ck <<<"hello"
	assert_success
	[[ "$stderr" == *"warning: stdin is not replayable"* ]]
	# stdin really ended: a final end (CLI.md "End of input")
	[ "$(tail -1 <<<"$output")" = '\.x	final' ]
	[ -e ck/offsets/0 ]
}

@test "--clean-source with a checkpoint: files go once their batch is committed" {
	echo a >in/a
	echo b >in/b
	ssrc file:in --checkpoint ck --trigger available-now --clean-source archive:done \
	    --max-files-per-trigger 1 | ssink - --format csv >out
	[ -z "$(ls in)" ]
	[ "$(ls done)" = $'a\nb' ]
}

@test "--retain: the journal outlives pruned offsets; old files stay taken" {
	for i in 1 2 3 4 5 6; do echo "$i" >"in/$i"; done
	in_order in/1 in/2 in/3 in/4 in/5 in/6
	ssrc file:in --checkpoint ck --retain 2 --trigger available-now \
	    --max-files-per-trigger 1 | ssink - --format csv >/dev/null
	[ "$(ls ck/offsets | wc -l)" -le 4 ]
	[ ! -e ck/offsets/0 ]
	echo 7 >in/7
	ssrc file:in --checkpoint ck --retain 2 --trigger available-now \
	    --max-files-per-trigger 1 | ssink - --format csv >out
	run cat out
	assert_output $'value\n7'
}

@test "a damaged offsets file is an error naming it" {
	echo a >in/a
	ssrc file:in --checkpoint ck --trigger available-now >/dev/null
	echo garbage >>ck/offsets/0
	run --separate-stderr ssrc file:in --checkpoint ck --trigger available-now
	assert_failure 1
	[[ "$stderr" == *"ck/offsets/0"*"checksum"* ]]
}

@test "a file that spans more batches than --retain: the next run takes only the new file" {
	seq -f 'w%g' 1 30 >in/1
	ssrc file:in --checkpoint ck --retain 4 --max-batch-rows 1 --trigger available-now | ssink - >/dev/null
	echo x >in/2
	run --separate-stderr bash -c 'ssrc file:in --checkpoint ck --retain 4 --max-batch-rows 1 --trigger available-now | ssink - --format csv --no-header'
	assert_success
	assert_output x
}
