#!/usr/bin/env bats
# ssrc file:DIR and tail:PATH: formats, discovery, order, triggers,
# rotation, clean-up and bad input.

load test_helper/common

bats_require_minimum_version 1.5.0

setup() {
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/in"
	cd "$T"
}

teardown() {
	if [ -n "${SSRC_PID:-}" ]; then kill "$SSRC_PID" 2>/dev/null || true; fi
	if [ -n "${CAT_PID:-}" ]; then kill "$CAT_PID" 2>/dev/null || true; fi
	true
}


# data_batches FILE: the data batches only, "N rows=R".
data_batches() {
	batches "$1" | grep -v nodata || true
}

# data FILE: the data frames of FILE.
data() {
	grep -v '^\\\.' "$1" || true
}

# start ARGS...: ssrc ARGS in the background, out in $T/out, err in $T/err;
# waits for the header.
start() {
	ssrc "$@" >"$T/out" 2>"$T/err" 3>&- &
	SSRC_PID=$!
	wait_for grep -q '^\\\.h' "$T/out"
}

# stop: SIGTERM, collect the exit status in $status.
stop() {
	kill -TERM "$SSRC_PID"
	status=0
	wait "$SSRC_PID" || status=$?
	SSRC_PID=
}

has_rows() {	# has_rows N: $T/out has at least N data frames
	[ "$(data "$T/out" | wc -l)" -ge "$1" ]
}

@test "csv files with a header, read oldest first, one batch" {
	printf 'name,age\nann,31\nbob,42\n' >in/a.csv
	printf 'name,age\ncy,7\n' >in/b.csv
	in_order in/b.csv in/a.csv
	run --separate-stderr ssrc file:in --format csv --header \
	    --schema 'name STRING, age INT' --trigger available-now
	assert_success
	assert_line --index 0 --regexp '	@source=file:in	name:STRING	age:INT$'
	assert_line --index 1 $'cy\t7'
	assert_line --index 2 $'ann\t31'
	assert_line --index 3 $'bob\t42'
	assert_line --index 4 --regexp '^\\\.e	0	ssrc\.rows=3	'
	assert_line --index 5 --regexp '^\\\.e	1	nodata=1	final=1	'
	assert_line --index 6 '\.x	final'
}

@test "csv: quoted fields, embedded commas, quotes and newlines" {
	printf 'id,text\n1,"a, b"\n2,"say ""hi"""\n3,"two\nlines"\n4,""\n5,\n' >in/q.csv
	ssrc file:in --format csv --header --schema 'id INT, text STRING' \
	    --trigger once >out
	data out >got
	printf '%s\n' $'1\ta, b' $'2\tsay "hi"' $'3\ttwo\\nlines' $'4\t' \
	    $'5\t\\N' >want
	cmp got want
}

@test "json lines with TIMESTAMP fields from ISO-8601 and epoch seconds" {
	cat >in/e.json <<'EOF'
{"user": "a", "at": "2026-11-24T12:00:00Z", "n": 1}
{"user": "b", "at": 1764590400.5, "n": 2}
{"user": "c", "at": "2026-11-24 13:00:00.123+01:00"}
EOF
	ssrc file:in --format json --schema 'user STRING, at TIMESTAMP, n INT' \
	    --trigger once >out
	data out >got
	printf '%s\n' $'a\t1795521600000000\t1' $'b\t1764590400500000\t2' \
	    $'c\t1795521600123000\t\\N' >want
	cmp got want
}

@test "a file dropped in while ssrc runs is picked up" {
	start file:in
	echo first >in/one.txt
	wait_for has_rows 1
	echo second >in/two.txt
	wait_for has_rows 2
	stop
	[ "$status" -eq 0 ]
	run data out
	assert_output $'first\nsecond'
	run batches out
	assert_line --index 0 '0 rows=1'
	assert_line --index 1 '1 nodata rows=0'
	assert_line --index 2 '2 rows=1'
}

@test "a file renamed into place is taken whole; dot and underscore files are ignored" {
	start file:in
	seq 1 50000 >in/.part
	echo skip >in/_meta
	mv in/.part in/whole.txt
	wait_for has_rows 50000
	echo hidden >in/.hidden
	echo last >in/last.txt
	wait_for has_rows 50001
	stop
	data out >got
	{ seq 1 50000; echo last; } | cmp - got
	[ "$(data_batches out | head -1)" = "0 rows=50000" ]
}

@test "--max-files-per-trigger 1: one batch per file, in modification-time order" {
	for f in c a d b; do echo "$f" >"in/$f"; done
	in_order in/c in/a in/d in/b
	run ssrc file:in --max-files-per-trigger 1 --trigger available-now
	assert_success
	run data_batches <(ssrc file:in --max-files-per-trigger 1 --trigger available-now)
	assert_output $'0 rows=1\n1 rows=1\n2 rows=1\n3 rows=1'
	ssrc file:in --max-files-per-trigger 1 --trigger available-now >out
	run data out
	assert_output $'c\na\nd\nb'
	run batches out
	assert_line --index 4 '4 nodata final rows=0'
	ssrc file:in --max-files-per-trigger 1 --latest-first --trigger available-now >out
	run data out
	assert_output $'b\nd\na\nc'
	ssrc file:in --max-files-per-trigger 3 --trigger available-now >out
	run data_batches out
	assert_output $'0 rows=3\n1 rows=1'
}

@test "--trigger once takes every file in one batch, whatever --max-files-per-trigger" {
	for f in a b c; do echo "$f" >"in/$f"; done
	run ssrc file:in --max-files-per-trigger 1 --trigger once
	assert_success
	ssrc file:in --max-files-per-trigger 1 --trigger once >out
	run batches out
	assert_output $'0 rows=3\n1 nodata final rows=0'
}

@test "--pattern takes only matching names" {
	echo a >in/a.csv
	echo b >in/b.txt
	run ssrc file:in --pattern '*.csv' --trigger once
	assert_success
	assert_line --index 1 'a'
	refute_line 'b'
}

@test "--trigger DURATION with --max-files-per-trigger: one file per tick" {
	for f in a b c; do echo "$f" >"in/$f"; done
	in_order in/a in/b in/c
	start file:in --trigger 200ms --max-files-per-trigger 1
	wait_for has_rows 3
	stop
	run data_batches out
	assert_output $'0 rows=1\n1 rows=1\n2 rows=1'
	run data out
	assert_output $'a\nb\nc'
}

@test "available-now over 1,000 files finishes and exits 0 with every row" {
	for i in $(seq 1 1000); do echo "row $i"; done >all
	split -l 1 -a 4 all in/f.
	run --separate-stderr ssrc file:in --trigger available-now --max-files-per-trigger 100
	assert_success
	[ "$(grep -vc '^\\\.' <<<"$output")" -eq 1000 ]
	ssrc file:in --trigger available-now --max-files-per-trigger 100 >out
	[ "$(data_batches out | wc -l)" -eq 10 ]
	data out | sort >got
	sort all | cmp - got
}

@test "--clean-source delete and archive:DIR act on files once their batch is out" {
	echo a >in/a
	echo b >in/b
	ssrc file:in --clean-source archive:arch --trigger available-now >out
	[ -z "$(ls in)" ]
	[ "$(cat arch/a arch/b)" = $'a\nb' ]
	echo c >in/c
	ssrc file:in --clean-source delete --trigger available-now >out
	[ -z "$(ls in)" ]
	run data out
	assert_output c
}

@test "--clean-source: bad values and an archive inside the directory are usage errors" {
	run --separate-stderr ssrc file:in --clean-source move
	assert_failure 2
	run --separate-stderr ssrc file:in --clean-source archive:in/old
	assert_failure 2
	[[ "$stderr" == *"in/old"* ]]
}

@test "a missing directory is an error naming it" {
	run --separate-stderr ssrc file:nowhere --trigger once
	assert_failure 1
	assert_equal "$stderr" "ssrc: cannot open directory 'nowhere': No such file or directory"
	[ -z "$output" ]
}

@test "a csv error names the file and the line" {
	printf 'name,age\nann,31\nbob,x\n' >in/bad.csv
	run --separate-stderr ssrc file:in --format csv --header \
	    --schema 'name STRING, age INT' --trigger once
	assert_failure 1
	assert_equal "$stderr" "ssrc: in/bad.csv:3: age: 'x' is not an INT"
	printf 'a,b,c\n' >in/bad.csv
	run --separate-stderr ssrc file:in --format csv \
	    --schema 'name STRING, age INT' --trigger once
	assert_failure 1
	assert_equal "$stderr" "ssrc: in/bad.csv:1: record has 3 fields, the schema has 2"
}

@test "an unreadable file is an error naming it" {
	if [ "$(id -u)" -eq 0 ]; then
		# root reads anything: a file whose reads fail instead
		ln -s /proc/self/mem in/unreadable
	else
		echo x >in/unreadable
		chmod 000 in/unreadable
	fi
	run --separate-stderr ssrc file:in --trigger once
	assert_failure 1
	[[ "$stderr" == "ssrc: "*"in/unreadable"* ]]
}

@test "a file deleted after it was taken and before it is read is an error naming it" {
	seq 1 3000000 >in/a
	echo b >in/b
	in_order in/a in/b
	mkfifo pipe
	exec 5<>pipe	# holds the pipe open: ssrc blocks once it is full
	ssrc file:in --trigger once >pipe 2>err 3>&- &
	SSRC_PID=$!
	wait_for grep -q pipe_write "/proc/$SSRC_PID/wchan"
	rm in/b
	cat pipe >/dev/null 3>&- &
	CAT_PID=$!
	exec 5>&-
	status=0
	wait "$SSRC_PID" || status=$?
	SSRC_PID=
	[ "$status" -eq 1 ]
	assert_equal "$(cat err)" "ssrc: cannot open 'in/b': No such file or directory"
}

@test "csv and json need --schema, as in Spark" {
	run --separate-stderr ssrc file:in --format csv
	assert_failure 2
	[[ "$stderr" == *"--format csv needs --schema"* ]]
}

# ---- tail: ----

@test "tail: follows a file across rename-and-create: no line lost, none doubled" {
	seq 1 100 >log
	start tail:log
	wait_for has_rows 100
	mv log log.1
	seq 101 110 >>log.1	# the writer still has the old file open
	seq 111 120 >log	# then reopens
	wait_for has_rows 120
	seq 121 130 >>log
	wait_for has_rows 130
	stop
	[ "$status" -eq 0 ]
	data out | cmp - <(seq 1 130)
}

@test "tail: copytruncate: no line lost, none doubled" {
	seq 1 100 >log
	start tail:log
	wait_for has_rows 100
	cp log log.1
	: >log
	seq 101 105 >>log
	wait_for has_rows 105
	seq 106 110 >>log
	wait_for has_rows 110
	stop
	data out | cmp - <(seq 1 110)
}

@test "tail: a partial last line waits for its newline" {
	printf 'one\ntw' >log
	start tail:log
	wait_for has_rows 1
	printf 'o\nthree\n' >>log
	wait_for has_rows 3
	stop
	run data out
	assert_output $'one\ntwo\nthree'
}

@test "tail: available-now reads the complete lines there and exits 0" {
	printf 'a\nb\npartial' >log
	run ssrc tail:log --trigger available-now
	assert_success
	assert_line --index 1 a
	assert_line --index 2 b
	refute_line partial
	assert_line --index 4 --regexp 'nodata=1	final=1'
}

@test "tail: csv is refused" {
	run --separate-stderr ssrc tail:log --format csv --schema 'a INT'
	assert_failure 2
	[[ "$stderr" == *"reads --format text or json, not csv"* ]]
}
