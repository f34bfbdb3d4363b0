#!/usr/bin/env bats
# ssrc: sources, formats, frames, batching, signals, errors.

load test_helper/common

bats_require_minimum_version 1.5.0

UUID='[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
EPOCH_TAIL='ssrc\.start=[0-9]+	ssrc\.end=[0-9]+'

setup() {
	T=$BATS_TEST_TMPDIR
}

teardown() {
	if [ -n "${SSRC_PID:-}" ]; then kill "$SSRC_PID" 2>/dev/null || true; fi
	if [ -n "${SERVER_PID:-}" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
	if [ -n "${FIFO_FD_OPEN:-}" ]; then exec 4>&-; fi
	true
}


# data_records FILE: the data frames of FILE.
data_records() {
	grep -v '^\\\.' "$1" || true
}

# serve_once FILE: a one-shot TCP peer on 127.0.0.1:$PORT that sends FILE
# to the first client and closes.
serve_once() {
	PORT=$(free_port)
	python3 - "$PORT" "$1" "$T/ready" 3>&- <<'EOF' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
open(sys.argv[3], "w").close()
c, _ = s.accept()
c.sendall(open(sys.argv[2], "rb").read())
c.close()
s.close()
EOF
	SERVER_PID=$!
	wait_for test -e "$T/ready"
}

# start_fifo ARGS...: ssrc ARGS reading the fifo $T/in (written through
# fd 4) into $T/out; waits for the header.
start_fifo() {
	mkfifo "$T/in"
	ssrc "$@" <"$T/in" >"$T/out" 2>"$T/err" 3>&- &
	SSRC_PID=$!
	exec 4>"$T/in"
	FIFO_FD_OPEN=1
	wait_for grep -q '^\\\.h' "$T/out"
}

has_epochs() {	# has_epochs N: $T/out has at least N epoch frames
	[ "$(grep -c '^\\\.e' "$T/out")" -ge "$1" ]
}

read_bytes() {	# bytes ssrc has read so far
	awk '$1 == "rchar:" { print $2 }' "/proc/$SSRC_PID/io"
}

has_read() {	# has_read N: ssrc has read at least N bytes
	[ "$(read_bytes)" -ge "$1" ]
}

finish_fifo() {	# close the fifo and collect ssrc's exit status in $status
	exec 4>&-
	FIFO_FD_OPEN=
	status=0
	wait "$SSRC_PID" || status=$?
	SSRC_PID=
}

@test "help and version go to stdout, exit 0" {
	run ssrc --help
	assert_success
	assert_output "usage: ssrc SOURCE [options]"
	run ssrc -h
	assert_success
	run ssrc --version
	assert_success
	assert_output --regexp '^ssrc \(runnel\) [0-9]'
}

@test "text from stdin: header, records, one epoch, final no-data epoch, end" {
	printf 'hello world\nsecond\n\nlast without newline' >"$T/in"
	run --keep-empty-lines ssrc - <"$T/in"
	assert_success
	assert_line --index 0 --regexp "^\\\\\.h	@v=1	@query=$UUID	@run=$UUID	@source=-	value:STRING\$"
	assert_line --index 1 'hello world'
	assert_line --index 2 'second'
	assert_line --index 3 ''
	assert_line --index 4 'last without newline'
	assert_line --index 5 --regexp "^\\\\\.e	0	ssrc\.rows=4	$EPOCH_TAIL\$"
	assert_line --index 6 --regexp "^\\\\\.e	1	nodata=1	final=1	ssrc\.rows=0	$EPOCH_TAIL\$"
	assert_line --index 7 '\.x	final'
	[ -z "${lines[8]:-}" ] && [ -z "${lines[9]:-}" ]
}

@test "query and run ids are fresh uuids; @source is the SOURCE as given" {
	ssrc stdin </dev/null >"$T/a"
	ssrc stdin </dev/null >"$T/b"
	run head -1 "$T/a"
	assert_output --partial '@source=stdin'
	[ "$(head -1 "$T/a" | cut -f3)" != "$(head -1 "$T/b" | cut -f3)" ]
	[ "$(head -1 "$T/a" | cut -f3 | cut -d= -f2)" != "$(head -1 "$T/a" | cut -f4 | cut -d= -f2)" ]
}

@test "empty input: header, final no-data batch, end" {
	run ssrc - </dev/null
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	assert_line --index 1 --regexp "^\\\\\.e	0	nodata=1	final=1	ssrc\.rows=0	$EPOCH_TAIL\$"
	assert_line --index 2 '\.x	final'
}

@test "text lines are escaped: tab, backslash, CR, NUL, binary; CRLF loses its CR" {
	printf 'a\tb\nback\\slash\nin\rside\nnul\0byte\nhigh\377\376\ncrlf\r\n\\.e 5 looks like a frame\n' >"$T/in"
	ssrc - <"$T/in" >"$T/out"
	data_records "$T/out" >"$T/got"
	printf '%s\n' 'a\tb' 'back\\slash' 'in\rside' 'nul\0byte' \
	    "$(printf 'high\377\376')" 'crlf' '\\.e 5 looks like a frame' >"$T/want"
	cmp "$T/got" "$T/want"
}

@test "long input: every line arrives, in order, across read chunks" {
	seq 1 300000 | sed 's/5$/\t5/' >"$T/in"
	ssrc - --trigger once <"$T/in" >"$T/out"
	data_records "$T/out" | sed 's/\\t/\t/' | cmp - "$T/in"
	run batches "$T/out"
	assert_output "0 rows=300000
1 nodata final rows=0"
}

@test "--max-batch-rows ends batches at the cap" {
	seq 1 10 >"$T/in"
	ssrc - --max-batch-rows 3 <"$T/in" >"$T/out"
	run batches "$T/out"
	assert_output "0 rows=3
1 rows=3
2 rows=3
3 rows=1
4 nodata final rows=0"
	[ "$(data_records "$T/out" | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 10 " ]
}

@test "csv: quoted fields, embedded commas, quotes and newlines, --header" {
	printf 'id,name,score\n1,"Smith, Jo",2.5\n2,"say ""hi""",1e3\r\n3,"two\nlines",\n4,,-7\n' >"$T/in"
	run ssrc - --format csv --header --schema 'id INT, name STRING, score DOUBLE' <"$T/in"
	assert_success
	assert_line --index 0 --regexp '	id:INT	name:STRING	score:DOUBLE$'
	assert_line --index 1 '1	Smith, Jo	2.5'
	assert_line --index 2 '2	say "hi"	1000'
	assert_line --index 3 '3	two\nlines	\N'
	assert_line --index 4 '4	\N	-7'
	assert_line --index 5 --regexp '^\\\.e	0	ssrc\.rows=4	'
}

@test "csv without --header reads the first row as data" {
	printf 'a,1\nb,2\n' | ssrc - --format csv --schema 'k STRING, v BIGINT' >"$T/out"
	run data_records "$T/out"
	assert_output "a	1
b	2"
}

@test "json lines: fields by name, types, null, missing, TIMESTAMP from ISO and epoch" {
	jq -nc '{name: "ann", age: 31, ok: true, at: "2026-11-24T12:00:00Z", x: 0.5},
	        {name: null, age: 7, at: 1700000000.25, extra: [1, 2]},
	        {name: "tab\there", at: "2026-11-24 13:00:00.5+01:00", ok: "false"}' >"$T/in"
	run ssrc stdin --format json --schema 'name STRING, age INT, ok BOOLEAN, at TIMESTAMP, x DOUBLE' <"$T/in"
	assert_success
	assert_line --index 0 --regexp '	name:STRING	age:INT	ok:BOOLEAN	at:TIMESTAMP	x:DOUBLE$'
	assert_line --index 1 'ann	31	true	1795521600000000	0.5'
	assert_line --index 2 '\N	7	\N	1700000000250000	\N'
	assert_line --index 3 'tab\there	\N	false	1795521600500000	\N'
}

@test "csv type error: exit 1 naming source, line and field; stdout has no bad record" {
	printf 'id,name\n1,a\nx2,b\n' >"$T/in"
	run --separate-stderr ssrc - --format csv --header --schema 'id INT, name STRING' <"$T/in"
	assert_failure 1
	[ "$stderr" = "ssrc: stdin:3: id: 'x2' is not an INT" ]
	refute_output --partial 'x2'
}

@test "csv with a wrong number of fields names the line" {
	printf '1,a\n2\n' >"$T/in"
	run --separate-stderr ssrc - --format csv --schema 'id INT, name STRING' <"$T/in"
	assert_failure 1
	[ "$stderr" = "ssrc: stdin:2: record has 1 fields, the schema has 2" ]
}

@test "json type errors name line and field" {
	printf '{"n":1}\n\n{"n":"many"}\n' >"$T/in"
	run --separate-stderr ssrc - --format json --schema 'n INT' <"$T/in"
	assert_failure 1
	[ "$stderr" = "ssrc: stdin:3: n: 'many' is not an INT" ]
	printf '{"t":"yesterday"}\n' >"$T/in"
	run --separate-stderr ssrc - --format json --schema 't TIMESTAMP' <"$T/in"
	assert_failure 1
	[ "$stderr" = "ssrc: stdin:1: t: 'yesterday' is not a TIMESTAMP" ]
	printf '{"t":1}\n{oops\n' >"$T/in"
	run --separate-stderr ssrc - --format json --schema 't TIMESTAMP' <"$T/in"
	assert_failure 1
	[[ "$stderr" == "ssrc: stdin:2: invalid JSON at column "* ]]
}

@test "usage errors exit 2: missing --schema, bad format, unknown option, misplaced options" {
	run --separate-stderr ssrc - --format csv
	assert_failure 2
	[[ "$stderr" == *"--format csv needs --schema"* ]]
	run --separate-stderr ssrc - --format json
	assert_failure 2
	run --separate-stderr ssrc - --format xml
	assert_failure 2
	[[ "$stderr" == *"'xml' is not text, csv or json"* ]]
	run --separate-stderr ssrc - --frobnicate
	assert_failure 2
	[[ "$stderr" == "ssrc: unknown option '--frobnicate'"*"usage: ssrc SOURCE [options]" ]]
	run --separate-stderr ssrc - --schema 'a INT'
	assert_failure 2
	run --separate-stderr ssrc - --header
	assert_failure 2
	run --separate-stderr ssrc - --format csv --schema 'a NOTATYPE'
	assert_failure 2
	run --separate-stderr ssrc - --include-timestamp --format json --schema 'timestamp STRING'
	assert_failure 2
	run --separate-stderr ssrc
	assert_failure 2
	run --separate-stderr ssrc - extra
	assert_failure 2
	run --separate-stderr ssrc - --trigger 5
	assert_failure 2
	run --separate-stderr ssrc - --trigger sometimes
	assert_failure 2
	run --separate-stderr ssrc - --heartbeat 0s
	assert_failure 2
	run --separate-stderr ssrc - --max-batch-rows 0
	assert_failure 2
	run --separate-stderr ssrc - --max-record-size lots
	assert_failure 2
	run --separate-stderr ssrc socket:99999
	assert_failure 2
	[[ "$stderr" == *"'99999' is not a port number"* ]]
}

@test "unknown sources list the known ones" {
	run --separate-stderr ssrc ftp:x
	assert_failure 2
	[[ "$stderr" == "ssrc: unknown source 'ftp:x' (known: socket:[HOST:]PORT, stdin or -, file:DIR, tail:PATH, kafka:TOPIC[,TOPIC...], rate:N)"* ]]
}

@test "options of another source are usage errors naming the source" {
	run --separate-stderr ssrc - --max-files-per-trigger 2
	assert_failure 2
	assert_equal "$(head -1 <<<"$stderr")" "ssrc: --max-files-per-trigger is not an option of source 'stdin:'"
	run --separate-stderr ssrc rate:10 --format csv --schema 'a INT'
	assert_failure 2
	[[ "$stderr" == "ssrc: --format csv|json is not an option of source 'rate:'"* ]]
	run --separate-stderr ssrc tail:x --ramp-up 5s
	assert_failure 2
	[[ "$stderr" == "ssrc: --ramp-up is not an option of source 'tail:'"* ]]
	run --separate-stderr ssrc - --wait
	assert_failure 2
	[[ "$stderr" == "ssrc: --wait is for --checkpoint"* ]]
}

@test "socket: receives a peer's lines and ends when the peer closes" {
	printf 'one\ntwo\r\nthree' >"$T/lines"
	serve_once "$T/lines"
	run --separate-stderr ssrc "socket:127.0.0.1:$PORT"
	assert_success
	assert_line --index 0 --regexp "	@source=socket:127\.0\.0\.1:$PORT	value:STRING\$"
	[ "${lines[-1]}" = '\.x	final' ]
	[[ "${lines[-2]}" == '\.e'*'nodata=1	final=1'* ]]
	# The last line, without newline, is a record once the peer closes,
	# maybe in a batch of its own.
	printf '%s\n' "$output" >"$T/out"
	run data_records "$T/out"
	assert_output "one
two
three"
}

@test "socket: HOST defaults to localhost" {
	printf 'hi\n' >"$T/lines"
	serve_once "$T/lines"
	run --separate-stderr ssrc "socket:$PORT"
	assert_success
	assert_line --index 1 hi
}

@test "socket: connection refused is a clear error, exit 1" {
	port=$(free_port)
	run --separate-stderr ssrc "socket:$port"
	assert_failure 1
	[ "$stderr" = "ssrc: cannot connect to 'localhost:$port': Connection refused" ]
	[ -z "$output" ]
	run --separate-stderr ssrc "socket:127.0.0.1:$port"
	assert_failure 1
	[ "$stderr" = "ssrc: cannot connect to '127.0.0.1:$port': Connection refused" ]
}

@test "socket: csv records carry the socket's name in messages" {
	printf '1\nnope\n' >"$T/lines"
	serve_once "$T/lines"
	run --separate-stderr ssrc "socket:127.0.0.1:$PORT" --format csv --schema 'n INT'
	assert_failure 1
	[ "$stderr" = "ssrc: socket:127.0.0.1:$PORT:2: n: 'nope' is not an INT" ]
}

@test "--include-timestamp adds the arrival time" {
	before=$(date +%s%6N)
	run ssrc - --include-timestamp <<<'x'
	after=$(date +%s%6N)
	assert_success
	assert_line --index 0 --regexp '	value:STRING	timestamp:TIMESTAMP$'
	ts=$(printf '%s\n' "${lines[1]}" | cut -f2)
	[ "$(printf '%s\n' "${lines[1]}" | cut -f1)" = x ]
	[ "$ts" -ge "$before" ] && [ "$ts" -le "$after" ]
}

@test "default trigger: input in two chunks gives two data batches" {
	start_fifo -
	# one write(2): bash's printf writes line by line
	cat <<<$'a\nb' >&4
	wait_for has_epochs 1
	printf 'c\n' >&4
	wait_for has_epochs 3
	finish_fifo
	[ "$status" -eq 0 ]
	run batches "$T/out"
	# The no-data batch after each data batch comes when no input waits.
	assert_line --index 0 '0 rows=2'
	assert_line --index 1 '1 nodata rows=0'
	assert_line --index 2 '2 rows=1'
	[ "$(grep -c 'rows=[1-9]' <<<"$output")" -eq 2 ]
	[ "${lines[-1]}" = "$(( ${#lines[@]} - 1 )) nodata final rows=0" ]
	[ "$(data_records "$T/out" | tr '\n' ' ')" = "a b c " ]
	[ "$(tail -1 "$T/out")" = '\.x	final' ]
}

@test "--trigger once: input in two chunks is one batch" {
	start_fifo - --trigger once
	base=$(read_bytes)
	printf 'a\nb\n' >&4
	wait_for has_read $((base + 4))
	printf 'c\n' >&4
	finish_fifo
	[ "$status" -eq 0 ]
	run batches "$T/out"
	assert_output "0 rows=3
1 nodata final rows=0"
}

@test "--trigger available-now on stdin reads to the end, honouring --max-batch-rows" {
	seq 1 5 | ssrc - --trigger available-now --max-batch-rows 2 >"$T/out"
	run batches "$T/out"
	assert_output "0 rows=2
1 rows=2
2 rows=1
3 nodata final rows=0"
	seq 1 5 | ssrc - --trigger once --max-batch-rows 2 >"$T/out"
	run batches "$T/out"
	assert_output "0 rows=5
1 nodata final rows=0"
}

@test "--trigger DURATION: a data batch, then one no-data batch at the next tick, then none" {
	start_fifo - --trigger 100ms
	printf 'a\n' >&4
	wait_for has_epochs 2
	finish_fifo
	run batches "$T/out"
	assert_line --index 0 '0 rows=1'
	assert_line --index 1 '1 nodata rows=0'
	assert_line --index 2 '2 nodata final rows=0'
	[ "${#lines[@]}" -eq 3 ]
	start=$(grep '^\\\.e	1	' "$T/out" | tr '\t' '\n' | sed -n 's/^ssrc\.end=//p')
	first=$(grep '^\\\.e	0	' "$T/out" | tr '\t' '\n' | sed -n 's/^ssrc\.end=//p')
	[ $((start - first)) -ge 90000 ]
}

@test "--heartbeat: no-data batches while idle" {
	start_fifo - --heartbeat 50ms
	wait_for has_epochs 3
	finish_fifo
	[ "$status" -eq 0 ]
	run batches "$T/out"
	assert_line --index 0 '0 nodata rows=0'
	assert_line --index 1 '1 nodata rows=0'
	[ "${lines[-1]}" = "$(( ${#lines[@]} - 1 )) nodata final rows=0" ]
}

@test "SIGTERM and SIGINT end the batch, then the final batch and end, exit 0" {
	for sig in TERM INT; do
		rm -f "$T/in" "$T/out"
		start_fifo -
		cat <<<$'a\nb' >&4	# one write(2), as above
		wait_for has_epochs 1
		kill -"$sig" "$SSRC_PID"
		status=0
		wait "$SSRC_PID" || status=$?
		SSRC_PID=
		exec 4>&-
		FIFO_FD_OPEN=
		[ "$status" -eq 0 ]
		[ "$(tail -1 "$T/out")" = '\.x	final' ]
		run batches "$T/out"
		assert_line --index 0 '0 rows=2'
		[ "${lines[-1]}" = "$(( ${#lines[@]} - 1 )) nodata final rows=0" ]
	done
}

@test "a closed downstream pipe ends ssrc quietly with status 0" {
	seq 1 2000000 >"$T/in"
	run --separate-stderr bash -c 'ssrc - <"$1" | head -2 >/dev/null; echo "${PIPESTATUS[0]}"' _ "$T/in"
	assert_output 0
	[ -z "$stderr" ]
}

@test "a full disk on stdout is an error, exit 1" {
	seq 1 100000 >"$T/in"
	run --separate-stderr bash -c 'ssrc - <"$1" >/dev/full' _ "$T/in"
	assert_failure 1
	[ "$stderr" = "ssrc: write error on stdout: No space left on device" ]
}

@test "--max-record-size: a longer line is an error naming it" {
	printf 'short\n0123456789abc\nok\n' >"$T/in"
	run --separate-stderr ssrc - --max-record-size 10 <"$T/in"
	assert_failure 1
	[ "$stderr" = "ssrc: stdin:2: line longer than 10 bytes (--max-record-size)" ]
	printf 'short\n0123456789abc' >"$T/in"
	run --separate-stderr ssrc - --max-record-size 10 <"$T/in"
	assert_failure 1
	[ "$stderr" = "ssrc: stdin:2: line longer than 10 bytes (--max-record-size)" ]
	run ssrc - --max-record-size 1K <"$T/in"
	assert_success
}

@test "man page example: jq-made input as json" {
	jq -nc 'range(3) | {user: "u\(.)", n: ., at: (1764590400 + . * 60)}' \
	    | ssrc - --format json --schema 'user STRING, n INT, at TIMESTAMP' >"$T/out"
	run data_records "$T/out"
	assert_output "u0	0	1764590400000000
u1	1	1764590460000000
u2	2	1764590520000000"
}

# ---- rate: ----

@test "rate:N: timestamp and value from 0, N rows a second, SIGTERM ends cleanly" {
	# --foreground: one SIGTERM; else timeout signals its process group
	# too, and a second signal ends ssrc at once (by design)
	run --separate-stderr timeout --foreground --preserve-status -s TERM 1.2 \
	    ssrc rate:100 --trigger 300ms
	assert_success
	assert_line --index 0 --regexp '	@source=rate:100	timestamp:TIMESTAMP	value:BIGINT$'
	printf '%s\n' "$output" >"$T/out"
	data_records "$T/out" >"$T/rows"
	n=$(wc -l <"$T/rows")
	# rows are never early: at most 100/s over 1.2 s, plus row 0
	[ "$n" -ge 10 ] && [ "$n" -le 121 ]
	cut -f2 "$T/rows" | cmp - <(seq 0 $((n - 1)))
	# timestamps follow the schedule exactly: 1/100 s apart
	awk -F'\t' 'NR > 1 && $1 - prev != 10000 { exit 1 } { prev = $1 }' "$T/rows"
	run batches "$T/out"
	assert_line --regexp '^[0-9]+ nodata final rows=0$'
	[ "$(tail -1 "$T/out")" = '\.x	final' ]
}

@test "rate:N --ramp-up: the rate climbs from 0" {
	run --separate-stderr timeout --foreground --preserve-status -s TERM 1.2 \
	    ssrc rate:1000 --ramp-up 2s --trigger 1h
	assert_success
	printf '%s\n' "$output" >"$T/out"
	n=$(data_records "$T/out" | wc -l)
	# 1000 t^2 / 4 rows after t seconds: 360 at 1.2 s (1200 without ramp)
	[ "$n" -ge 1 ] && [ "$n" -le 361 ]
}

@test "rate: N must be a positive count; --trigger once takes the rows due at start (row 0)" {
	for n in 0 -5 x 1.5 ''; do
		run --separate-stderr ssrc "rate:$n"
		assert_failure 2
	done
	run ssrc rate:1000 --trigger once
	assert_success
	assert_line --index 1 --regexp '^[0-9]+	0$'
	assert_line --index 2 --regexp '^\\\.e	0	ssrc\.rows=1	'
	assert_line --index 3 --regexp '^\\\.e	1	nodata=1	final=1	'
}
