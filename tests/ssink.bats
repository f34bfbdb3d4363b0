#!/usr/bin/env bats
# ssink: the console sink against Spark's layout (golden files), the stdout
# formats, batch elision, end of stream, errors and options.  Input is
# hand-written frames, so these tests depend on no other command.

load test_helper/common
bats_require_minimum_version 1.5.0

setup() {
	TMP="$(mktemp -d)"
	HDR='\\.h\t@v=1\tword:STRING\tcount:BIGINT\n'
}

teardown() {
	[ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null || true
	rm -rf "$TMP"
}

# golden NAME: run ssink with NAME.args on NAME.frames, compare with NAME.out.
golden() {
	local dir="$FIXTURES/console" args
	args=$(cat "$dir/$1.args")
	# shellcheck disable=SC2086 # the args are words
	ssink $args <"$dir/$1.frames" >"$TMP/got" 2>"$TMP/err" || {
		echo "ssink $args exited $?:"; cat "$TMP/err"; return 1; }
	[ ! -s "$TMP/err" ] || { echo "stderr:"; cat "$TMP/err"; return 1; }
	cmp -s "$dir/$1.out" "$TMP/got" || {
		diff "$dir/$1.out" "$TMP/got"; return 1; }
}

# sigterm_caught PID: PID has a SIGTERM handler (bit 15 of SigCgt in
# /proc; SigBlk would not do: ssink unblocks it while it waits).
sigterm_caught() {
	local cgt
	cgt=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status") || return 1
	[ -n "$cgt" ] && [ $((0x$cgt & 0x4000)) -ne 0 ]
}

# frames FORMAT...: printf the header and FORMAT... (printf escapes).
frames() {
	printf "$HDR"
	printf "$@"
}

@test "console: word count batches, byte for byte as Spark" {
	golden multi_batch
}

@test "console: the example of the brief exactly" {
	frames 'hello\t2\nworld\t1\n\\.e\t0\n\\.x\tfinal\n' >"$TMP/in"
	run ssink <"$TMP/in"
	assert_success
	expected="-------------------------------------------
Batch: 0
-------------------------------------------
+-----+-----+
| word|count|
+-----+-----+
|hello|    2|
|world|    1|
+-----+-----+"
	assert_output "$expected"
	# and the output ends with the empty line of Spark's println
	[ "$(ssink <"$TMP/in" | tail -c 9 | od -An -c | tr -d ' ')" = '+-----+\n\n' ]
}

@test "console: cells over 20 characters are cut to 17 and ..., names never" {
	golden truncate
}

@test "console: --no-truncate shows whole cells, left-aligned" {
	golden no_truncate
}

@test "console: 20 rows shown, then 'only showing top 20 rows'" {
	golden more_rows
}

@test "console: --num-rows 1 says 'only showing top 1 row'" {
	golden num_rows_1
}

@test "console: --num-rows 3, and --num-rows 0 as Spark's show(0)" {
	golden num_rows_3
	golden num_rows_0
}

@test "console: nulls, empty strings, booleans" {
	golden nulls
}

@test "console: timestamps as Spark shows them (fraction only when set)" {
	golden timestamps
}

@test "console: doubles as Java's Double.toString" {
	golden doubles
}

@test "console: an empty batch shows names between borders; nodata with rows shows" {
	golden empty_batch
}

@test "console: a no-data batch without rows is not shown, watermarks ignored" {
	golden elided
	[ ! -s "$TMP/got" ]
}

@test "console: width counts characters, full-width ones twice, as Spark" {
	golden utf8
	golden utf8_no_truncate
}

@test "console: control characters are escaped so the table stays intact" {
	golden escapes
}

@test "console: 'ssink console' is the default sink" {
	f="$FIXTURES/console/multi_batch"
	ssink console <"$f.frames" >"$TMP/a"
	ssink <"$f.frames" >"$TMP/b"
	cmp "$TMP/a" "$TMP/b"
	cmp "$TMP/a" "$f.out"
}

@test "csv: header once, RFC 4180 quoting only where needed, nulls empty" {
	frames 'plain\t1\nwith,comma\t2\nwith "quote"\t3\nline\\nbreak\t4\ncr\\rhere\t5\n\t6\n\\N\t\\N\n\\.e\t0\nagain\t7\n\\.e\t1\n\\.x\tfinal\n' >"$TMP/in"
	run ssink - <"$TMP/in"
	assert_success
	expected='word,count
plain,1
"with,comma",2
"with ""quote""",3
"line
break",4
"cr'$'\r''here",5
"",6
,
again,7'
	assert_output "$expected"
}

@test "csv: values survive a round trip through a CSV parser" {
	# every byte but NUL, in one field, with null and empty neighbours
	python3 -c '
import sys
b = bytes(range(1, 256)).replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\n", b"\\n").replace(b"\r", b"\\r")
sys.stdout.buffer.write(b"\\.h\tv:STRING\tn:STRING\tz:STRING\n" + b + b"\t\\N\t\n\\.e\t0\n\\.x\tfinal\n")' >"$TMP/in"
	ssink - <"$TMP/in" >"$TMP/out"
	python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="latin-1")))
assert rows[0] == ["v", "n", "z"], rows[0]
want = bytes(range(1, 256)).decode("latin-1")
assert rows[1][0] == want, rows[1][0]
assert rows[1][1:] == ["", ""], rows[1]
assert len(rows) == 2
' "$TMP/out"
	# the empty string is quoted, the null is not
	[ "$(tail -c 5 "$TMP/out")" = ',,""' ]
}

@test "csv: typed values: ISO timestamps with ms, Java doubles, booleans" {
	printf '\\.h\tt:TIMESTAMP\td:DOUBLE\tb:BOOLEAN\ti:INT\n1795521600000000\t1e7\ttrue\t-3\n1795521600123456\t0.5\tfalse\t0\n\\.e\t0\n\\.x\tfinal\n' |
	    ssink - --format csv >"$TMP/out"
	printf 't,d,b,i\n2026-11-24T12:00:00.000Z,1.0E7,true,-3\n2026-11-24T12:00:00.123Z,0.5,false,0\n' >"$TMP/want"
	diff "$TMP/want" "$TMP/out"
}

@test "csv: --no-header, and the header waits for the first batch written" {
	frames '\\.e\t0\tnodata=1\na\t1\n\\.e\t1\n\\.x\tfinal\n' | ssink stdout --no-header >"$TMP/out"
	printf 'a,1\n' | diff - "$TMP/out"
	# a stream whose batches are all elided writes nothing, not even a header
	frames '\\.e\t0\tnodata=1\n\\.x\tfinal\n' | ssink - >"$TMP/out"
	[ ! -s "$TMP/out" ]
	# an empty (not no-data) batch is written: just the header
	frames '\\.e\t0\n\\.x\tfinal\n' | ssink - >"$TMP/out"
	printf 'word,count\n' | diff - "$TMP/out"
}

@test "json: one typed object per line, valid for jq" {
	printf '\\.h\ts:STRING\ti:INT\tb:BIGINT\td:DOUBLE\tok:BOOLEAN\tt:TIMESTAMP\nx\t1\t-9223372036854775808\t2.5\ttrue\t1795521600000000\n\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n\t0\t0\t1e20\tfalse\t0\n\\.e\t0\n\\.x\tfinal\n' |
	    ssink - --format json >"$TMP/out"
	cat >"$TMP/want" <<'EOF'
{"s":"x","i":1,"b":-9223372036854775808,"d":2.5,"ok":true,"t":"2026-11-24T12:00:00.000Z"}
{"s":null,"i":null,"b":null,"d":null,"ok":null,"t":null}
{"s":"","i":0,"b":0,"d":1.0E20,"ok":false,"t":"1970-01-01T00:00:00.000Z"}
EOF
	diff "$TMP/want" "$TMP/out"
	jq -c . "$TMP/out" >/dev/null
	[ "$(jq -s 'map(.ok) | tostring' "$TMP/out")" = '"[true,null,false]"' ]
	[ "$(jq -s '.[2].d == 1e20' "$TMP/out")" = true ]
}

@test "json: NaN and infinities are the strings Spark writes" {
	printf '\\.h\td:DOUBLE\nNaN\nInfinity\n-Infinity\n\\.e\t0\n\\.x\tfinal\n' |
	    ssink - --format json | jq -c '.d' >"$TMP/out"
	printf '"NaN"\n"Infinity"\n"-Infinity"\n' | diff - "$TMP/out"
}

@test "json: control characters escaped, invalid UTF-8 becomes U+FFFD, output always valid" {
	# field value: every byte 1..255 (as an escaped frame field), plus NUL
	python3 -c '
import sys
b = b"\\0" + bytes(range(1, 256)).replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\n", b"\\n").replace(b"\r", b"\\r")
sys.stdout.buffer.write(b"\\.h\tv:STRING\tw:STRING\n" + b + b"\tok \xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80 bad \xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80 \xe2\x82\n\\.e\t0\n\\.x\tfinal\n")' >"$TMP/in"
	ssink - --format json <"$TMP/in" >"$TMP/out"
	jq -c . "$TMP/out" >/dev/null
	# the escapes are JSON's, and the text is valid UTF-8
	iconv -f UTF-8 -t UTF-8 "$TMP/out" >/dev/null
	grep -q '"v":"\\u0000\\u0001' "$TMP/out"
	grep -q '\\b\\t\\n\\u000b\\f\\r\\u000e' "$TMP/out"
	# jq decodes the value back: characters 0..127 exactly, 128..255 (not
	# UTF-8 on their own) one U+FFFD each
	python3 -c '
import json, sys
o = json.loads(open(sys.argv[1], encoding="utf-8").read())
assert o["v"] == "".join(map(chr, range(128))) + "\ufffd" * 128, repr(o["v"][-140:])
# surrogate, overlong and >10FFFF: one U+FFFD per invalid byte, as Java;
# a truncated sequence is one maximal subpart: one U+FFFD
assert o["w"] == "ok \u00e9 \u65e5 \U0001F600 bad \ufffd\ufffd\ufffd \ufffd\ufffd \ufffd\ufffd\ufffd\ufffd \ufffd", repr(o["w"])
' "$TMP/out"
}

@test "json: field names are escaped too" {
	printf '\\.h\tna"me:STRING\nv\n\\.e\t0\n\\.x\tfinal\n' | ssink - --format json >"$TMP/out"
	[ "$(jq -r 'keys[0]' "$TMP/out")" = 'na"me' ]
}

@test "tsv: header once, COPY escapes, nulls \\N: lossless round trip" {
	python3 -c '
import sys
b = bytes(range(1, 256)).replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\n", b"\\n").replace(b"\r", b"\\r")
rows = [b"\\0" + b + b"\t1", b"\\N\t\\N", b"\t-5", b"\\\\N\t7"]
sys.stdout.buffer.write(b"\\.h\tword:STRING\tcount:BIGINT\n" + b"\n".join(rows[:2]) + b"\n\\.e\t0\n" + b"\n".join(rows[2:]) + b"\n\\.e\t1\n\\.x\tfinal\n")' >"$TMP/in"
	ssink - --format tsv <"$TMP/in" >"$TMP/out"
	# the data lines are the frames' data lines, byte for byte
	{ printf 'word\tcount\n'; grep -av '^\\\.' "$TMP/in"; } >"$TMP/want"
	cmp "$TMP/want" "$TMP/out"
	# and they decode back to the original bytes
	python3 -c '
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
def unesc(f):
    if f == b"\\N": return None
    out = bytearray(); i = 0
    while i < len(f):
        if f[i:i+1] == b"\\":
            out += {b"\\": b"\\", b"t": b"\t", b"n": b"\n", b"r": b"\r", b"0": b"\0"}[f[i+1:i+2]]; i += 2
        else:
            out += f[i:i+1]; i += 1
    return bytes(out)
v = [unesc(x) for x in lines[1].split(b"\t")]
assert v[0] == bytes(range(256)), v[0]
assert [unesc(x) for x in lines[2].split(b"\t")] == [None, None]
assert unesc(lines[4].split(b"\t")[0]) == b"\\N"
' "$TMP/out"
}

@test "tsv: typed values render as in csv, escaped" {
	printf '\\.h\tt:TIMESTAMP\td:DOUBLE\n0\t1e-5\n\\.e\t0\n\\.x\tfinal\n' | ssink - --format tsv >"$TMP/out"
	printf 't\td\n1970-01-01T00:00:00.000Z\t1.0E-5\n' | diff - "$TMP/out"
}

@test "write error on stdout (/dev/full): exit 1 with the reason" {
	[ -w /dev/full ] || skip "no /dev/full"
	for sink in console - "- --format json" "- --format tsv"; do
		# shellcheck disable=SC2086
		frames 'a\t1\n\\.e\t0\n\\.x\tfinal\n' >"$TMP/in"
		run bash -c "ssink $sink <'$TMP/in' >/dev/full"
		assert_failure 1
		assert_output "ssink: write error on stdout: No space left on device"
	done
}

@test "a closed stdout pipe ends ssink quietly with status 0" {
	awk 'BEGIN { print "\\.h\tword:STRING\tcount:BIGINT";
	    for (b = 0; b < 50; b++) { for (i = 0; i < 2000; i++) print "w" i "\t" i;
	    print "\\.e\t" b } print "\\.x\tfinal" }' >"$TMP/in"
	for sink in console - "- --format json"; do
		# shellcheck disable=SC2086
		run bash -c "ssink $sink <'$TMP/in' 2>'$TMP/err' | head -n 1 >/dev/null; echo \"\${PIPESTATUS[0]}\""
		assert_output "0"
		[ ! -s "$TMP/err" ] || { cat "$TMP/err"; false; }
	done
}

@test "input ending without \\.x: exit 1, completed batches already written" {
	frames 'a\t1\n\\.e\t0\nb\t2\n\\.e\t1\npartial\t3\n' >"$TMP/in"
	run --separate-stderr ssink - <"$TMP/in"
	assert_failure 1
	[ "$output" = "$(printf 'word,count\na,1\nb,2')" ]
	[[ "$stderr" == "ssink: stdin: input ended without an end-of-stream frame"* ]]
	frames 'a\t1\n\\.e\t0\npartial\t3\n' >"$TMP/in"
	run --separate-stderr ssink <"$TMP/in"
	assert_failure 1
	assert_line --index 1 "Batch: 0"
	refute_output --partial partial
}

@test "malformed input: exit 1 naming the line" {
	frames 'a\t1\nonly-one-field\n\\.e\t0\n\\.x\tfinal\n' >"$TMP/in"
	run ssink <"$TMP/in"
	assert_failure 1
	assert_output "ssink: stdin:3: record has 1 fields, header says 2"
	frames 'a\tx\n\\.e\t0\n\\.x\tfinal\n' >"$TMP/in"
	run ssink - --format json <"$TMP/in"
	assert_failure 1
	assert_output "ssink: stdin:2: count: malformed BIGINT value 'x'"
	frames '\\.e\tseven\n\\.x\tfinal\n' >"$TMP/in"
	run ssink <"$TMP/in"
	assert_failure 1
	assert_output "ssink: stdin:2: epoch frame with a bad batch number"
	frames '\\.q\n' >"$TMP/in"
	run ssink <"$TMP/in"
	assert_failure 1
	assert_output --partial "stdin:2: unknown control frame"
	frames 'a\t1\n\\.x\tfinal\n' >"$TMP/in"
	run ssink <"$TMP/in"
	assert_failure 1
	assert_output "ssink: stdin:3: end-of-stream frame inside a batch (1 rows after the last epoch frame)"
	run bash -c "printf 'a\t1\n' | ssink"
	assert_failure 1
	assert_output --partial "ssink: stdin:1: expected a header frame"
	run bash -c "ssink </dev/null"
	assert_failure 1
}

@test "\\.x pause ends quietly too" {
	frames 'a\t1\n\\.e\t4\n\\.x\tpause\n' >"$TMP/in"
	run ssink - <"$TMP/in"
	assert_success
	assert_output "$(printf 'word,count\na,1')"
}

@test "options: wrong sink or option for the sink is a usage error (exit 2)" {
	run ssink nowhere </dev/null
	assert_failure 2
	assert_output "ssink: unknown sink 'nowhere' (sinks: console, stdout, -, file:DIR, kafka:TOPIC)"
	run ssink kafka:topic </dev/null
	assert_failure 2
	assert_output "ssink: no Kafka servers: give --bootstrap-servers HOST:PORT"
	run ssink file </dev/null
	assert_failure 2
	assert_output "ssink: sink 'file' needs a DIR: file:DIR"
	run ssink console:x </dev/null
	assert_failure 2
	run ssink - --num-rows 5 </dev/null
	assert_failure 2
	assert_output "ssink: option '--num-rows' does not apply to sink 'stdout'"
	run ssink stdout --no-truncate </dev/null
	assert_failure 2
	run ssink --format csv </dev/null
	assert_failure 2
	assert_output "ssink: option '--format' does not apply to sink 'console'"
	run ssink --no-header </dev/null
	assert_failure 2
	run ssink - --format xml </dev/null
	assert_failure 2
	assert_output "ssink: --format: sink 'stdout' cannot write 'xml'"
	run ssink --num-rows -1 </dev/null
	assert_failure 2
	run ssink --num-rows ten </dev/null
	assert_failure 2
	run ssink - console </dev/null
	assert_failure 2
	run ssink --bogus </dev/null
	assert_failure 2
}

@test "-h prints the usage on stdout, --version the version" {
	run --separate-stderr ssink -h
	assert_success
	assert_output "usage: ssink [SINK] [--format csv|json|tsv] [--header | --no-header] [--partition-by FIELD]... [--num-rows N] [--no-truncate] [--progress FILE] [--bootstrap-servers HOST:PORT[,...]] [--key FIELD] [--value FIELD] [--timeout DURATION] [-X key=value]..."
	run ssink --help
	assert_success
	run ssink --version
	assert_success
	assert_output --regexp '^ssink \(runnel\) [0-9]'
}

@test "SIGTERM between batches: exit 0 with every finished batch written" {
	mkfifo "$TMP/in"
	ssink - <"$TMP/in" >"$TMP/out" 2>"$TMP/err" 3>&- &
	SINK_PID=$!
	exec 4>"$TMP/in"
	printf "$HDR"'a\t1\n\\.e\t0\n' >&4
	wait_for grep -q '^a,1$' "$TMP/out"
	kill -TERM "$SINK_PID"
	rc=0; wait "$SINK_PID" || rc=$?
	exec 4>&-
	SINK_PID=
	[ "$rc" -eq 0 ] || { cat "$TMP/err"; false; }
	printf 'word,count\na,1\n' | diff - "$TMP/out"
}

@test "SIGTERM inside a batch: the batch is finished first" {
	mkfifo "$TMP/in"
	ssink <"$TMP/in" >"$TMP/out" 2>"$TMP/err" 3>&- &
	SINK_PID=$!
	exec 4>"$TMP/in"
	printf "$HDR" >&4
	# wait until ssink has taken over SIGTERM (handled between batches),
	# which it does once it has the header
	wait_for sigterm_caught "$SINK_PID"
	printf 'a\t1\n' >&4
	kill -TERM "$SINK_PID"
	printf 'b\t2\n\\.e\t0\n' >&4
	rc=0; wait "$SINK_PID" || rc=$?
	exec 4>&-
	SINK_PID=
	[ "$rc" -eq 0 ] || { cat "$TMP/err"; false; }
	grep -qx '|   a|    1|' "$TMP/out"
	grep -qx '|   b|    2|' "$TMP/out"
}

@test "man page EXAMPLES: json through jq" {
	printf "$HDR"'spark\t3\napache\t2\n\\.e\t0\n\\.x\tfinal\n' >"$TMP/in"
	run bash -c "ssink - --format json <'$TMP/in' | jq -r 'select(.count > 2) | .word'"
	assert_success
	assert_output "spark"
	run bash -c "ssink - --format csv --no-header <'$TMP/in' | sort -t, -k2,2n | head -n 1"
	assert_output "apache,2"
}
