#!/usr/bin/env bats
# ssrc's bad-record policy: fail (default), --skip-bad, --bad-records-path
# DIR; csv and json, stdin and file: sources; the counts on the epoch
# frames, the summary on stderr, the kept files (read with jq), and
# exactly-once keeping with a checkpoint.

load test_helper/common

bats_require_minimum_version 1.5.0

CSV_SCHEMA='name STRING, age INT, at TIMESTAMP'
JSON_SCHEMA='name STRING, age INT'

setup() {
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/in"
	cd "$T"
	# Line 1 header; bad: 3 (INT), 4-5 (a quoted newline, then a bad
	# INT), 6 (field count), 8 (TIMESTAMP).
	printf '%s\n' 'name,age,at' 'ann,31,2026-11-24T12:00:00Z' \
	    'bob,x,2026-11-24T12:00:01Z' '"car' 'ol",y,2026-11-24T12:00:02Z' \
	    'dan,4' 'eve,5,2026-11-24T12:00:04Z' 'fay,6,yesterday' >people.csv
	# Bad: 2 (invalid JSON), 3 (not an object), 4 (wrong type).
	printf '%s\n' '{"name":"ann","age":31}' '{"name":' '[1,2]' \
	    '{"name":"bob","age":"old"}' '{"name":"car","age":7}' >people.json
}

teardown() {
	if [ -n "${BG_PID:-}" ]; then kill "$BG_PID" 2>/dev/null || true; fi
	true
}

# items FILE: one line per epoch frame: "N rows=R bad=B" (bad=- when the
# frame has no ssrc.bad), plus " nodata", " final".
items() {
	awk -F'\t' '$1 == "\\.e" {
		line = $2; rows = "?"; bad = "-"
		for (i = 3; i <= NF; i++) {
			if ($i == "nodata=1") line = line " nodata"
			if ($i == "final=1") line = line " final"
			if ($i ~ /^ssrc\.rows=/) rows = substr($i, 11)
			if ($i ~ /^ssrc\.bad=/) bad = substr($i, 10)
		}
		print line " rows=" rows " bad=" bad
	}' "$1"
}

data() {
	grep -v '^\\\.' "$1" || true
}

# kept DIR: every kept line of DIR, compact JSON, in file order.
kept() {
	local f
	for f in $(find "$1" -name 'part-*.json' | sort); do
		jq -c . "$f"
	done
}

# --- fail (the default) -----------------------------------------------------

@test "fail: each kind of bad csv record is an error naming file, line, field" {
	csv() {
		printf '%s\n' "$@" >in/x.csv
		run --separate-stderr ssrc file:in --format csv \
		    --schema "$CSV_SCHEMA" --trigger once
		assert_failure 1
		refute_output --partial $'\\.e'
	}
	csv 'bob,x,2026-11-24T12:00:01Z'
	assert_equal "$stderr" "ssrc: in/x.csv:1: age: 'x' is not an INT"
	csv 'ann,1,2026-11-24T12:00:00Z' 'dan,4'
	assert_equal "$stderr" "ssrc: in/x.csv:2: record has 2 fields, the schema has 3"
	csv 'fay,6,yesterday'
	assert_equal "$stderr" "ssrc: in/x.csv:1: at: 'yesterday' is not a TIMESTAMP"
	csv 'ann,1,2026-11-24T12:00:00Z' '"car' 'ol",y,2026-11-24T12:00:02Z'
	assert_equal "$stderr" "ssrc: in/x.csv:2: age: 'y' is not an INT"
	csv 'a"b,1,2026-11-24T12:00:00Z'
	assert_equal "$stderr" "ssrc: in/x.csv:1: malformed csv: a quote inside an unquoted field, or text after a closing quote"
}

@test "fail: each kind of bad json line is an error naming the line" {
	run --separate-stderr ssrc - --format json --schema "$JSON_SCHEMA" <people.json
	assert_failure 1
	[[ "$stderr" == "ssrc: stdin:2: invalid JSON at column "* ]]
	printf '[1,2]\n' >one.json
	run --separate-stderr ssrc - --format json --schema "$JSON_SCHEMA" <one.json
	assert_failure 1
	assert_equal "$stderr" "ssrc: stdin:1: expected a JSON object, one per line"
	printf '{"age":"old"}\n' >one.json
	run --separate-stderr ssrc - --format json --schema "$JSON_SCHEMA" <one.json
	assert_failure 1
	assert_equal "$stderr" "ssrc: stdin:1: age: 'old' is not an INT"
}

@test "fail: the epoch frames carry no ssrc.bad" {
	printf 'ann,1\n' | ssrc - --format csv --schema "$JSON_SCHEMA" >out
	run items out
	assert_output $'0 rows=1 bad=-\n1 nodata final rows=0 bad=-'
}

# --- --skip-bad -------------------------------------------------------------

@test "skip: csv on stdin: good rows out, the batch counts the bad ones, a summary at the end" {
	run --separate-stderr ssrc - --format csv --header --schema "$CSV_SCHEMA" \
	    --skip-bad <people.csv
	assert_success
	assert_equal "$stderr" "ssrc: skipped 4 bad records (first: stdin:3: age: 'x' is not an INT)"
	printf '%s\n' "$output" >out
	run data out
	assert_output $'ann\t31\t1795521600000000\neve\t5\t1795521604000000'
	run items out
	assert_output $'0 rows=2 bad=4\n1 nodata final rows=0 bad=0'
}

@test "skip: json from a file: source names the file in the summary" {
	cp people.json in/p.json
	run --separate-stderr ssrc file:in --format json --schema "$JSON_SCHEMA" \
	    --skip-bad --trigger once
	assert_success
	[[ "$stderr" == "ssrc: skipped 3 bad records (first: in/p.json:2: invalid JSON at column "*")" ]]
	printf '%s\n' "$output" >out
	run data out
	assert_output $'ann\t31\ncar\t7'
	run items out
	assert_output $'0 rows=2 bad=3\n1 nodata final rows=0 bad=0'
}

@test "skip: each batch counts its own bad records" {
	printf 'a,1\nb,x\n' >in/1.csv
	printf 'c,y\nd,z\ne,5\n' >in/2.csv
	printf 'f,6\n' >in/3.csv
	in_order in/1.csv in/2.csv in/3.csv
	run --separate-stderr ssrc file:in --format csv --schema "$JSON_SCHEMA" \
	    --skip-bad --trigger available-now --max-files-per-trigger 1
	assert_success
	assert_equal "$stderr" "ssrc: skipped 3 bad records (first: in/1.csv:2: age: 'x' is not an INT)"
	printf '%s\n' "$output" >out
	run items out
	assert_output $'0 rows=1 bad=1\n1 rows=1 bad=2\n2 rows=1 bad=0\n3 nodata final rows=0 bad=0'
}

@test "skip: input of bad records only is a data batch without rows" {
	run --separate-stderr ssrc - --format json --schema "$JSON_SCHEMA" \
	    --skip-bad < <(printf '1\n2\n')
	assert_success
	assert_equal "$stderr" "ssrc: skipped 2 bad records (first: stdin:1: expected a JSON object, one per line)"
	printf '%s\n' "$output" >out
	run items out
	assert_output $'0 rows=0 bad=2\n1 nodata final rows=0 bad=0'
}

@test "skip: malformed quoting skips that line and the reader goes on" {
	printf 'a"b,1\nc,2\n"open,3\n' >x.csv
	run --separate-stderr ssrc - --format csv --schema "$JSON_SCHEMA" \
	    --skip-bad <x.csv
	assert_success
	assert_equal "$stderr" "ssrc: skipped 2 bad records (first: stdin:1: malformed csv: a quote inside an unquoted field, or text after a closing quote)"
	printf '%s\n' "$output" >out
	run data out
	assert_output $'c\t2'
}

@test "skip: --max-batch-rows counts the bad records taken" {
	printf 'a,1\nb,x\nc,3\nd,y\ne,5\n' >x.csv
	ssrc - --format csv --schema "$JSON_SCHEMA" --skip-bad \
	    --max-batch-rows 2 <x.csv >out 2>/dev/null
	run items out
	assert_output $'0 rows=1 bad=1\n1 rows=1 bad=1\n2 rows=1 bad=0\n3 nodata final rows=0 bad=0'
}

@test "skip: a line over --max-record-size stays an error" {
	printf 'a,1\n%s,2\n' "$(printf 'x%.0s' $(seq 100))" >x.csv
	run --separate-stderr ssrc - --format csv --schema "$JSON_SCHEMA" \
	    --skip-bad --max-record-size 50 <x.csv
	assert_failure 1
	assert_equal "$stderr" "ssrc: stdin:2: line longer than 50 bytes (--max-record-size)"
}

@test "skip: text input has no bad records" {
	run --separate-stderr ssrc - --skip-bad < <(printf 'a\tb\n\\x\n')
	assert_success
	[ -z "$stderr" ]
	printf '%s\n' "$output" >out
	run items out
	assert_output $'0 rows=2 bad=0\n1 nodata final rows=0 bad=0'
}

# --- --bad-records-path -----------------------------------------------------

@test "keep: csv records with origin, raw text and reason, as Databricks lays them out" {
	cp people.csv in/p.csv
	run --separate-stderr ssrc file:in --format csv --header \
	    --schema "$CSV_SCHEMA" --bad-records-path bad --trigger once
	assert_success
	assert_equal "$stderr" "ssrc: skipped 4 bad records, kept in 'bad' (first: in/p.csv:3: age: 'x' is not an INT)"
	query=$(printf '%s\n' "$output" | head -1 | tr '\t' '\n' | sed -n 's/^@query=//p')
	run find bad -type f
	assert_output --regexp "^bad/[0-9]{8}T[0-9]{6}/bad_records/part-00000-$query\\.json\$"
	run kept bad
	assert_output - <<'EOF'
{"path":"in/p.csv","line":3,"record":"bob,x,2026-11-24T12:00:01Z","reason":"age: 'x' is not an INT"}
{"path":"in/p.csv","line":4,"record":"\"car\nol\",y,2026-11-24T12:00:02Z","reason":"age: 'y' is not an INT"}
{"path":"in/p.csv","line":6,"record":"dan,4","reason":"record has 2 fields, the schema has 3"}
{"path":"in/p.csv","line":8,"record":"fay,6,yesterday","reason":"at: 'yesterday' is not a TIMESTAMP"}
EOF
}

@test "keep: json on stdin, invalid UTF-8 still gives valid JSON" {
	printf '{"name":"\xff\xfe","age":1}\n{"name":"ok","age":"\xc3"}\n' >>people.json
	run --separate-stderr ssrc - --format json --schema "$JSON_SCHEMA" \
	    --bad-records-path bad <people.json
	assert_success
	run kept bad
	assert_success
	assert_equal "${#lines[@]}" 5
	run jq -r '[.path, .line, .record] | @tsv' $(find bad -name '*.json')
	assert_output - <<'EOF'
stdin	2	{"name":
stdin	3	[1,2]
stdin	4	{"name":"bob","age":"old"}
stdin	6	{"name":"��","age":1}
stdin	7	{"name":"ok","age":"�"}
EOF
	run jq -r .reason $(find bad -name '*.json')
	assert_line --index 1 "expected a JSON object, one per line"
	assert_line --index 2 "age: 'old' is not an INT"
}

@test "keep: one file per batch with bad records, named by the batch" {
	printf 'a,1\nb,x\n' >in/1.csv
	printf 'c,3\n' >in/2.csv
	printf 'd,y\n' >in/3.csv
	in_order in/1.csv in/2.csv in/3.csv
	ssrc file:in --format csv --schema "$JSON_SCHEMA" --bad-records-path bad \
	    --trigger available-now --max-files-per-trigger 1 >out 2>err
	run items out
	assert_output $'0 rows=1 bad=1\n1 rows=1 bad=0\n2 rows=0 bad=1\n3 nodata final rows=0 bad=0'
	run sh -c 'find bad -name "part-*" | sed "s|.*/part-\([0-9]*\)-.*|\1|" | sort'
	assert_output $'00000\n00002'
	run kept bad
	assert_output - <<'EOF'
{"path":"in/1.csv","line":2,"record":"b,x","reason":"age: 'x' is not an INT"}
{"path":"in/3.csv","line":1,"record":"d,y","reason":"age: 'y' is not an INT"}
EOF
}

@test "keep: --skip-bad with --bad-records-path keeps, in either order" {
	for opts in "--skip-bad --bad-records-path bad1" "--bad-records-path bad2 --skip-bad"; do
		# shellcheck disable=SC2086
		ssrc - --format csv --header --schema "$CSV_SCHEMA" $opts \
		    <people.csv >out 2>err
		run items out
		assert_output $'0 rows=2 bad=4\n1 nodata final rows=0 bad=0'
	done
	run kept bad1
	assert_equal "${#lines[@]}" 4
	run kept bad2
	assert_equal "${#lines[@]}" 4
}

@test "keep: many bad records in one batch (more than the write buffer)" {
	seq 1 20000 | sed 's/$/,not a number/' >x.csv
	printf 'z,1\n' >>x.csv
	run --separate-stderr ssrc - --format csv --schema "$JSON_SCHEMA" \
	    --bad-records-path bad <x.csv
	assert_success
	assert_equal "$stderr" "ssrc: skipped 20000 bad records, kept in 'bad' (first: stdin:1: age: 'not a number' is not an INT)"
	run sh -c "cat bad/*/bad_records/*.json | jq -s 'length, .[19999].line'"
	assert_output $'20000\n20000'
}

@test "keep: the man page's example counts the reasons" {
	cp people.csv in/p.csv
	sed 1d people.csv >in/p.csv
	ssrc file:in --format csv --schema "$CSV_SCHEMA" \
	    --trigger available-now --bad-records-path bad 2>/dev/null | ssink >/dev/null
	run sh -c 'cat bad/*/bad_records/*.json | jq -r .reason | sort | uniq -c'
	assert_success
	assert_line --partial "1 age: 'x' is not an INT"
	assert_line --partial "1 record has 2 fields, the schema has 3"
	assert_equal "${#lines[@]}" 4
}

@test "keep: a directory under DIR that is a symbolic link is refused" {
	mkdir -p bad elsewhere
	# the run's directory is named by its start time: plant links for
	# the seconds around it
	now=$(date -u +%s)
	for i in 0 1 2 3 4 5 6 7 8 9; do
		ln -s ../elsewhere "bad/$(date -u -d "@$((now + i))" +%Y%m%dT%H%M%S)"
	done
	run --separate-stderr ssrc - --format json --schema "$JSON_SCHEMA" \
	    --bad-records-path bad < <(printf '[1]\n')
	assert_failure 1
	[[ "$stderr" == *"ssrc: --bad-records-path: 'bad/"*"': not a directory (a symbolic link is not followed)"* ]]
	[ -z "$(ls -A elsewhere)" ]
}

@test "keep: a DIR that cannot be made fails before any output" {
	touch notadir
	run --separate-stderr ssrc - --format json --schema "$JSON_SCHEMA" \
	    --bad-records-path notadir/bad < <(printf '{}\n')
	assert_failure 1
	assert_equal "$stderr" "ssrc: --bad-records-path: cannot create 'notadir/bad': Not a directory"
	[ -z "$output" ]
}

@test "usage: an empty --bad-records-path is a usage error" {
	run --separate-stderr ssrc - --bad-records-path ''
	assert_failure 2
	[[ "$stderr" == "ssrc: --bad-records-path: empty directory name"* ]]
}

# --- exactly once with a checkpoint ---------------------------------------

@test "checkpoint: a replayed batch skips the same records and rewrites its file where it was" {
	printf 'ann,1\nbob,x\ncar,3\ndan,4\neve,y\nfay,6\n' >in/a.csv
	opts=(file:in --format csv --schema "$JSON_SCHEMA" --checkpoint ck
	    --trigger available-now --max-batch-rows 2 --bad-records-path bad)
	ssrc "${opts[@]}" >first 2>/dev/null
	run items first
	assert_output $'0 rows=1 bad=1\n1 rows=2 bad=0\n2 rows=1 bad=1\n3 nodata rows=0 bad=0'
	# an earlier run's directory (another second): the replay finds it
	mv bad/* bad/20000101T000000
	before=$(kept bad)
	# a temp file a killed run of this query left goes, another's stays
	query=$(head -1 first | tr '\t' '\n' | sed -n 's/^@query=//p')
	touch "bad/20000101T000000/bad_records/.part-00001-$query.json.tmp-99999-0"
	touch "bad/20000101T000000/bad_records/.part-00001-other.json.tmp-99999-0"
	# nothing was committed: batch 0 is replayed, 1 and 2 planned again
	ssrc "${opts[@]}" >second 2>/dev/null
	run items second
	assert_output $'0 rows=1 bad=1\n1 rows=2 bad=0\n2 rows=1 bad=1\n3 nodata rows=0 bad=0'
	[ "$(data first)" = "$(data second)" ]
	run find bad -type f
	assert_equal "${#lines[@]}" 3
	assert_line "bad/20000101T000000/bad_records/.part-00001-other.json.tmp-99999-0"
	assert_output --partial "bad/20000101T000000/bad_records/part-00000-"
	assert_output --partial "bad/20000101T000000/bad_records/part-00002-"
	[ "$(kept bad)" = "$before" ]
}

@test "checkpoint: a batch planned again without bad records loses its old file" {
	printf 'a,1\n' >in/a.csv
	printf 'b,x\n' >in/b.csv
	in_order in/a.csv in/b.csv
	opts=(file:in --format csv --schema "$JSON_SCHEMA" --checkpoint ck
	    --trigger available-now --max-files-per-trigger 1 --bad-records-path bad)
	ssrc "${opts[@]}" >first 2>/dev/null
	run items first
	assert_output $'0 rows=1 bad=0\n1 rows=0 bad=1\n2 nodata rows=0 bad=0'
	mv bad/* bad/20000101T000000
	# an older file arrives: the new plan of batch 1 takes it first
	printf 'c,3\n' >in/c.csv
	touch -d '2025-01-01' in/c.csv
	ssrc "${opts[@]}" >second 2>/dev/null
	run items second
	assert_output $'0 rows=1 bad=0\n1 rows=1 bad=0\n2 rows=0 bad=1\n3 nodata rows=0 bad=0'
	run sh -c 'find bad -name "part-*" | sed "s|.*/part-\([0-9]*\)-.*|\1|"'
	assert_output 00002
	run kept bad
	assert_output '{"path":"in/b.csv","line":1,"record":"b,x","reason":"age: '"'x'"' is not an INT"}'
}

@test "checkpoint: the file of a committed batch is never touched again" {
	printf 'a,x\n' >in/a.csv
	opts=(file:in --format csv --schema "$JSON_SCHEMA" --checkpoint ck
	    --trigger available-now --bad-records-path bad)
	ssrc "${opts[@]}" 2>/dev/null | ssink - --format csv >/dev/null
	[ -e ck/commits/0 ]
	f=$(find bad -name 'part-00000-*')
	sum=$(md5sum "$f")
	printf 'b,y\n' >in/b.csv
	ssrc "${opts[@]}" 2>/dev/null | ssink - --format csv >/dev/null
	[ "$(md5sum "$f")" = "$sum" ]
	run kept bad
	assert_output - <<'EOF'
{"path":"in/a.csv","line":1,"record":"a,x","reason":"age: 'x' is not an INT"}
{"path":"in/b.csv","line":1,"record":"b,y","reason":"age: 'y' is not an INT"}
EOF
}
