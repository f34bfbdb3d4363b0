#!/usr/bin/env bats
# ssink file:DIR and --progress: part files per batch and query, atomic
# renames, replays that overwrite, Hive-style partitions, the manifest and
# its compaction, csv/json read back by python3 and jq, write errors, the
# checkpoint's commits, and StreamingQueryProgress objects.  Input is
# hand-written frames, so these tests depend on no other command (except
# the last, a real pipeline, when ssrc is built).

load test_helper/common
bats_require_minimum_version 1.5.0

setup() {
	TMP="$(mktemp -d)"
	chmod 755 "$TMP"
	HDR='\\.h\t@query=q1\tword:STRING\tcount:BIGINT\n'
}

teardown() {
	chmod -R u+rwX "$TMP" 2>/dev/null || true
	rm -rf "$TMP"
}

# frames FORMAT...: printf the header and FORMAT... (printf escapes).
frames() {
	printf "$HDR"
	printf "$@"
}

# committed DIR: the part files the manifest lists (the reader's rule).
committed() {
	(cd "$1/_runnel_metadata" && grep -h '^{' -- * |
	    jq -r 'select(.path) | .path' | sort -u)
}

# data_files DIR: the data files in DIR, as readers that list it see them.
data_files() {
	(cd "$1" && find . -type f ! -path './_runnel_metadata/*' ! -name '.*' |
	    sed 's|^\./||' | sort)
}

# hidden DIR: dot-files other than the manifest's lock.
hidden() {
	find "$1" -name '.*' ! -name .lock
}

@test "file: one part file per batch, named by batch and query; elided batches write none" {
	frames 'a\t1\nb\t2\n\\.e\t0\n\\.e\t1\tnodata=1\nc\t3\n\\.e\t2\n\\.x\tfinal\n' >"$TMP/in"
	run ssink file:"$TMP/out" <"$TMP/in"
	assert_success
	assert_output ""
	[ "$(data_files "$TMP/out")" = "$(printf 'part-00000-q1.csv\npart-00002-q1.csv')" ]
	printf 'a,1\nb,2\n' | diff - "$TMP/out/part-00000-q1.csv"
	printf 'c,3\n' | diff - "$TMP/out/part-00002-q1.csv"
	# cat sees rows only: no header, no metadata
	[ "$(cat "$TMP/out"/*.csv | wc -l)" -eq 3 ]
	[ "$(ls "$TMP/out/_runnel_metadata")" = "$(printf 'q1-00000\nq1-00002')" ]
}

@test "file: an empty batch writes no part file but a manifest entry" {
	frames '\\.e\t0\na\t1\n\\.e\t1\n\\.x\tfinal\n' | ssink file:"$TMP/out"
	[ "$(data_files "$TMP/out")" = "part-00001-q1.csv" ]
	m="$TMP/out/_runnel_metadata/q1-00000"
	[ "$(sed -n 2p "$m" | jq -c '[.batchId, .numFiles, .numOutputRows]')" = '[0,0,0]' ]
	[ "$(grep -c '^{' "$m")" -eq 1 ]
}

@test "file: the manifest is checksummed, lists exactly the committed part files, with counts" {
	frames 'a\t1\nb\t2\n\\.e\t0\nc\t3\n\\.e\t5\n\\.x\tfinal\n' | ssink file:"$TMP/out" --format json
	[ "$(committed "$TMP/out")" = "$(data_files "$TMP/out")" ]
	m="$TMP/out/_runnel_metadata/q1-00005"
	head -n 1 "$m" | grep -qx 'runnel manifest v1'
	tail -n 1 "$m" | grep -Eqx 'crc32c=[0-9a-f]{8} size=[0-9]+'
	sed -n 2p "$m" | jq -e '.batchId == 5 and .queryId == "q1" and .format == "json"
	    and .schema == "word STRING, count BIGINT" and .partitionSchema == ""
	    and .numFiles == 1 and .numOutputRows == 1 and (.timestamp | test("Z$"))'
	sed -n 3p "$m" | jq -e --arg size "$(stat -c %s "$TMP/out/part-00005-q1.json")" \
	    '.path == "part-00005-q1.json" and .numRows == 1 and .size == ($size | tonumber)'
}

@test "file: success leaves no temp file; a dead writer's temp files are removed at start, a live one's kept" {
	frames 'a\t1\n\\.e\t0\n\\.x\tfinal\n' >"$TMP/in"
	ssink file:"$TMP/out" --partition-by word <"$TMP/in"
	[ -z "$(hidden "$TMP/out")" ]
	# leftovers of a writer that died (pid 999999999 cannot exist) and of
	# one that still runs (this shell)
	mkdir -p "$TMP/out/word=z"
	touch "$TMP/out/.part-00003-q9.csv.tmp-999999999-0" \
	    "$TMP/out/word=z/.part-00003-q9.csv.tmp-999999999-1" \
	    "$TMP/out/_runnel_metadata/.q9-00003.tmp-999999999-0" \
	    "$TMP/out/.part-00003-q9.csv.tmp-$$-0"
	ssink file:"$TMP/out" --partition-by word <"$TMP/in"
	[ "$(hidden "$TMP/out")" = "$TMP/out/.part-00003-q9.csv.tmp-$$-0" ]
}

@test "file: replaying a batch (same query) overwrites its files: no duplicates" {
	frames 'a\t1\nb\t2\n\\.e\t0\nc\t3\n\\.e\t1\n\\.x\tfinal\n' >"$TMP/in"
	ssink file:"$TMP/out" <"$TMP/in"
	before=$(data_files "$TMP/out")
	ssink file:"$TMP/out" <"$TMP/in"
	ssink file:"$TMP/out" <"$TMP/in"
	[ "$(data_files "$TMP/out")" = "$before" ]
	[ "$(cat "$TMP/out"/*.csv | wc -l)" -eq 3 ]
	[ "$(committed "$TMP/out")" = "$before" ]
	# partitioned too
	ssink file:"$TMP/p" --partition-by word <"$TMP/in"
	ssink file:"$TMP/p" --partition-by word <"$TMP/in"
	[ "$(cat "$TMP/p"/word=*/*.csv | wc -l)" -eq 3 ]
}

@test "file: runs of different queries add up; without @query each run is its own query" {
	printf '\\.h\tword:STRING\na\n\\.e\t0\n\\.x\tfinal\n' >"$TMP/in"
	ssink file:"$TMP/out" <"$TMP/in"
	ssink file:"$TMP/out" <"$TMP/in"
	[ "$(cat "$TMP/out"/*.csv)" = "$(printf 'a\na')" ]
	[ "$(data_files "$TMP/out" | wc -l)" -eq 2 ]
	data_files "$TMP/out" | grep -Eqx 'part-00000-[0-9a-f-]{36}\.csv'
	[ "$(committed "$TMP/out")" = "$(data_files "$TMP/out")" ]
}

@test "file: --partition-by writes FIELD=value directories, escaped as Spark, without the field in the files" {
	printf '\\.h\t@query=q1\tword:STRING\tn:INT\tt:TIMESTAMP\n' >"$TMP/in"
	printf 'a/b\t1\t1795521600000000\n..\t2\t1795521600123000\n\\N\t3\t0\n\t4\t0\n../../etc\t5\t0\nx y:z%%=\\\\#?\t6\t0\n\\.e\t0\n\\.x\tfinal\n' >>"$TMP/in"
	run ssink file:"$TMP/out" --partition-by word --partition-by t --format json <"$TMP/in"
	assert_success
	data_files "$TMP/out" >"$TMP/files"
	cat >"$TMP/want" <<'EOF'
word=..%2F..%2Fetc/t=1970-01-01 00%3A00%3A00/part-00000-q1.json
word=../t=2026-11-24 12%3A00%3A00.123/part-00000-q1.json
word=__HIVE_DEFAULT_PARTITION__/t=1970-01-01 00%3A00%3A00/part-00000-q1.json
word=a%2Fb/t=2026-11-24 12%3A00%3A00/part-00000-q1.json
word=x y%3Az%25%3D%5C%23%3F/t=1970-01-01 00%3A00%3A00/part-00000-q1.json
EOF
	diff "$TMP/want" "$TMP/files"
	# nothing escaped the data set's directory
	[ -z "$(find "$TMP" -maxdepth 1 -mindepth 1 ! -name out ! -name in ! -name files ! -name want)" ]
	# null and "" share __HIVE_DEFAULT_PARTITION__, one file, both rows
	[ "$(jq -c .n "$TMP/out/word=__HIVE_DEFAULT_PARTITION__"/*/*.json | sort | tr '\n' ' ')" = "3 4 " ]
	# the partition fields are not repeated inside the files
	[ "$(cat "$TMP/out"/word=*/t=*/*.json | jq -c 'keys' | sort -u)" = '["n"]' ]
	# unescaping the directory names gives the values back
	python3 - "$TMP/out" <<'PY'
import os, sys, urllib.parse
root = sys.argv[1]
got = {}
for d in os.listdir(root):
    if not d.startswith("word="): continue
    for t in os.listdir(os.path.join(root, d)):
        for f in os.listdir(os.path.join(root, d, t)):
            for line in open(os.path.join(root, d, t, f)):
                import json
                got[json.loads(line)["n"]] = (urllib.parse.unquote(d[5:]), urllib.parse.unquote(t[2:]))
want = {1: ("a/b", "2026-11-24 12:00:00"), 2: ("..", "2026-11-24 12:00:00.123"),
        3: ("__HIVE_DEFAULT_PARTITION__", "1970-01-01 00:00:00"), 4: ("__HIVE_DEFAULT_PARTITION__", "1970-01-01 00:00:00"),
        5: ("../../etc", "1970-01-01 00:00:00"), 6: ("x y:z%=\\#?", "1970-01-01 00:00:00")}
assert got == want, got
PY
	# the manifest names the partition schema
	sed -n 2p "$TMP/out/_runnel_metadata/q1-00000" |
	    jq -e '.schema == "n INT" and .partitionSchema == "word STRING, t TIMESTAMP"'
	[ "$(committed "$TMP/out")" = "$(data_files "$TMP/out")" ]
}

@test "file: partition values: control characters, invalid UTF-8 and non-ASCII" {
	python3 -c '
import sys
sys.stdout.buffer.write(b"\\.h\t@query=q1\tk:STRING\tv:INT\n" +
    b"a\\tb\\nc\x01\x7f\t1\n" + "é日".encode() + b"\t2\n" + b"bad\xff\xc3\t3\n" +
    b"\\.e\t0\n\\.x\tfinal\n")' >"$TMP/in"
	ssink file:"$TMP/out" --partition-by k <"$TMP/in"
	[ -e "$TMP/out/k=a%09b%0Ac%01%7F/part-00000-q1.csv" ]
	[ -e "$TMP/out/k=é日/part-00000-q1.csv" ]
	[ -e "$TMP/out/k=bad%FF%C3/part-00000-q1.csv" ]
	[ "$(committed "$TMP/out")" = "$(data_files "$TMP/out")" ]
}

@test "file: many partitions in one batch (more than the open-file cap)" {
	awk 'BEGIN { print "\\.h\t@query=q1\tk:INT\tv:STRING";
	    for (b = 0; b < 2; b++) { for (i = 0; i < 20000; i++) print (i % 400) "\tv" i;
	    print "\\.e\t" b } print "\\.x\tfinal" }' >"$TMP/in"
	# 400 partitions a batch with 200 descriptors: part files are parked
	bash -c "ulimit -n 200 && ssink file:'$TMP/out' --partition-by k <'$TMP/in'"
	[ "$(find "$TMP/out" -name 'part-*' | wc -l)" -eq 800 ]
	[ "$(cat "$TMP/out"/k=*/*.csv | wc -l)" -eq 40000 ]
	[ "$(cat "$TMP/out"/k=399/part-00001-q1.csv | wc -l)" -eq 50 ]
	[ -z "$(hidden "$TMP/out")" ]
}

@test "file: the manifest is compacted: few files, every committed part file still listed once" {
	awk 'BEGIN { print "\\.h\t@query=q1\tword:STRING\tcount:BIGINT";
	    for (b = 0; b < 47; b++) { print "w" b "\t" b; print "\\.e\t" b } print "\\.x\tfinal" }' >"$TMP/in"
	ssink file:"$TMP/out" <"$TMP/in"
	names=$(ls "$TMP/out/_runnel_metadata")
	[ "$(printf '%s\n' "$names" | grep -c '^q1-')" -lt 10 ]
	printf '%s\n' "$names" | grep -q '^compact-'
	[ "$(printf '%s\n' "$names" | wc -l)" -le 12 ]
	[ "$(committed "$TMP/out" | wc -l)" -eq 47 ]
	[ "$(committed "$TMP/out")" = "$(data_files "$TMP/out")" ]
	# each batch line once: no line was lost or doubled by the merges
	(cd "$TMP/out/_runnel_metadata" && grep -h '^{' -- * | jq -r 'select(.numFiles) | .batchId') |
	    sort -n | uniq -c | awk '$1 != 1 { exit 1 } END { if (NR != 47) exit 1 }'
	# every file is still a valid checksummed manifest
	for f in "$TMP/out/_runnel_metadata"/*; do
		head -n 1 "$f" | grep -qx 'runnel manifest v1'
	done
	# a later run of the same query goes on from there
	awk 'BEGIN { print "\\.h\t@query=q1\tword:STRING\tcount:BIGINT";
	    for (b = 47; b < 60; b++) { print "w" b "\t" b; print "\\.e\t" b } print "\\.x\tfinal" }' |
	    ssink file:"$TMP/out"
	[ "$(committed "$TMP/out" | wc -l)" -eq 60 ]
	[ "$(ls "$TMP/out/_runnel_metadata" | grep -c '^q1-')" -lt 10 ]
}

@test "file: a damaged manifest file is reported with its path when compaction reads it" {
	awk 'BEGIN { print "\\.h\t@query=q1\tword:STRING\tcount:BIGINT";
	    for (b = 0; b < 5; b++) { print "w\t" b; print "\\.e\t" b } print "\\.x\tfinal" }' >"$TMP/in"
	ssink file:"$TMP/out" <"$TMP/in"
	sed -i 's/"numRows":1/"numRows":7/' "$TMP/out/_runnel_metadata/q1-00002"
	awk 'BEGIN { print "\\.h\t@query=q1\tword:STRING\tcount:BIGINT";
	    for (b = 5; b < 12; b++) { print "w\t" b; print "\\.e\t" b } print "\\.x\tfinal" }' >"$TMP/in2"
	run ssink file:"$TMP/out" <"$TMP/in2"
	assert_failure 1
	assert_output --partial "q1-00002': checksum mismatch"
	[ -e "$TMP/out/_runnel_metadata/q1-00002" ]
}

@test "csv: quotes, commas, newlines and nulls read back by python's csv module; --header per file" {
	frames 'plain\t1\nwith,comma\t2\nwith "quote"\t3\nline\\nbreak\t4\ncr\\rhere\t5\n\t6\n\\N\t\\N\n\\.e\t0\nnext\t7\n\\.e\t1\n\\.x\tfinal\n' >"$TMP/in"
	ssink file:"$TMP/out" <"$TMP/in"
	ssink file:"$TMP/hdr" --format csv --header <"$TMP/in"
	python3 - "$TMP/out" "$TMP/hdr" <<'PY'
import csv, glob, sys
want = [["plain", "1"], ["with,comma", "2"], ['with "quote"', "3"], ["line\nbreak", "4"],
        ["cr\rhere", "5"], ["", "6"], ["", ""], ["next", "7"]]
rows = []
for f in sorted(glob.glob(sys.argv[1] + "/*.csv")):
    rows += list(csv.reader(open(f, newline="")))
assert rows == want, rows
files = sorted(glob.glob(sys.argv[2] + "/*.csv"))
assert len(files) == 2
rows = []
for f in files:
    r = list(csv.reader(open(f, newline="")))
    assert r[0] == ["word", "count"], r
    rows += r[1:]
assert rows == want, rows
PY
	# "" (empty string) and null stay distinct
	grep -qx '"",6' "$TMP/out/part-00000-q1.csv"
	grep -qx ',' "$TMP/out/part-00000-q1.csv"
}

@test "json: one typed object per line, read back by jq" {
	printf '\\.h\t@query=q1\ts:STRING\ti:INT\td:DOUBLE\tok:BOOLEAN\tt:TIMESTAMP\n' >"$TMP/in"
	printf 'x\\ty\t1\t2.5\ttrue\t1795521600000000\n\\N\t\\N\t\\N\t\\N\t\\N\n\\.e\t0\nz\t-3\tNaN\tfalse\t0\n\\.e\t1\n\\.x\tfinal\n' >>"$TMP/in"
	ssink file:"$TMP/out" --format json <"$TMP/in"
	cat "$TMP/out"/*.json | jq -c . >"$TMP/got"
	cat >"$TMP/want" <<'EOF'
{"s":"x\ty","i":1,"d":2.5,"ok":true,"t":"2026-11-24T12:00:00.000Z"}
{"s":null,"i":null,"d":null,"ok":null,"t":null}
{"s":"z","i":-3,"d":"NaN","ok":false,"t":"1970-01-01T00:00:00.000Z"}
EOF
	diff "$TMP/want" "$TMP/got"
	[ "$(cat "$TMP/out"/*.json | jq -s 'map(.i // 0) | add')" -eq -2 ]
}

@test "errors: DIR cannot be created: exit 1 with the path, nothing written" {
	touch "$TMP/file"
	frames 'a\t1\n\\.e\t0\n\\.x\tfinal\n' >"$TMP/in"
	run ssink file:"$TMP/file/out" <"$TMP/in"
	assert_failure 1
	assert_output "ssink: cannot create directory '$TMP/file/out': Not a directory"
}

@test "errors: EACCES on DIR (as an unprivileged user): exit 1 with the path, no file left" {
	[ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null || skip "needs root and setpriv to drop privileges"
	frames 'a\t1\n\\.e\t0\n\\.x\tfinal\n' >"$TMP/in"
	chmod 644 "$TMP/in"
	mkdir "$TMP/ro" "$TMP/ro/_runnel_metadata"
	chmod 777 "$TMP/ro/_runnel_metadata"
	chmod 555 "$TMP/ro"
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
	    env PATH="$PATH" ssink file:"$TMP/ro" <"$TMP/in"
	assert_failure 1
	assert_output "ssink: cannot write '$TMP/ro/part-00000-q1.csv': Permission denied"
	[ -z "$(find "$TMP/ro" -type f ! -name .lock)" ]
}

@test "errors: a write failing mid-stream (file too large): exit 1 with the path, earlier batches intact, no partial files" {
	frames 'a\t1\n\\.e\t0\n' >"$TMP/in"
	awk 'BEGIN { for (i = 0; i < 2000; i++) print "bbbbbbbbbbbbbbbbbbbb\t" i; print "\\.e\t1\n\\.x\tfinal" }' >>"$TMP/in"
	# SIGXFSZ ignored (inherited through exec): write() fails with EFBIG
	run bash -c "trap '' XFSZ; ulimit -f 16; ssink file:'$TMP/out' <'$TMP/in'"
	assert_failure 1
	assert_output "ssink: cannot write '$TMP/out/part-00001-q1.csv': File too large"
	[ "$(data_files "$TMP/out")" = "part-00000-q1.csv" ]
	[ "$(committed "$TMP/out")" = "part-00000-q1.csv" ]
	[ -z "$(hidden "$TMP/out")" ]
	printf 'a,1\n' | diff - "$TMP/out/part-00000-q1.csv"
}

@test "errors: input ending inside a batch (upstream died): exit 1, its temp files removed, earlier batches kept" {
	{ frames 'a\t1\n\\.e\t0\n'; seq 1 100000 | sed 's/$/\t1/'; } >"$TMP/in"
	run ssink file:"$TMP/out" --partition-by count <"$TMP/in"
	assert_failure 1
	assert_output --partial "input ended without an end-of-stream frame"
	[ "$(data_files "$TMP/out")" = "count=1/part-00000-q1.csv" ]
	[ -z "$(hidden "$TMP/out")" ]
}

@test "errors: a partition directory that cannot be made fails the batch, earlier ones intact" {
	frames 'a\t1\n\\.e\t0\nb\t2\nc\t3\n\\.e\t1\n\\.x\tfinal\n' >"$TMP/in"
	mkdir "$TMP/out"
	touch "$TMP/out/word=c"
	run ssink file:"$TMP/out" --partition-by word <"$TMP/in"
	assert_failure 1
	assert_output "ssink: cannot create directory '$TMP/out/word=c': File exists"
	[ "$(data_files "$TMP/out")" = "$(printf 'word=a/part-00000-q1.csv\nword=c')" ]
	[ -z "$(hidden "$TMP/out")" ]
}

@test "options: file sink usage errors exit 2" {
	frames 'a\t1\n\\.e\t0\n\\.x\tfinal\n' >"$TMP/in"
	run ssink file:"$TMP/out" --partition-by nope <"$TMP/in"
	assert_failure 2
	assert_output "ssink: --partition-by: no field 'nope' in the input (fields: word, count)"
	run ssink file:"$TMP/out" --partition-by word --partition-by count <"$TMP/in"
	assert_failure 2
	assert_output --partial "cannot use all fields as partition fields"
	run ssink file:"$TMP/out" --partition-by word --partition-by word <"$TMP/in"
	assert_failure 2
	assert_output "ssink: --partition-by: field 'word' given twice"
	[ ! -e "$TMP/out" ]
	run ssink file:"$TMP/out" --format tsv <"$TMP/in"
	assert_failure 2
	assert_output "ssink: --format: sink 'file' cannot write 'tsv'"
	run ssink --partition-by word <"$TMP/in"
	assert_failure 2
	assert_output "ssink: option '--partition-by' does not apply to sink 'console'"
	run ssink --header <"$TMP/in"
	assert_failure 2
	run ssink file:"$TMP/out" --num-rows 3 <"$TMP/in"
	assert_failure 2
	run ssink file: <"$TMP/in"
	assert_failure 2
	run ssink - --progress '' <"$TMP/in"
	assert_failure 2
	printf '\\.h\t@query=../x\tw:STRING\n\\.e\t0\n\\.x\tfinal\n' >"$TMP/in"
	run ssink file:"$TMP/out" <"$TMP/in"
	assert_failure 1
	assert_output "ssink: the query id '../x' cannot name files (letters, digits, '-' and '_' only)"
}

@test "checkpoint: commits/N for every batch after the manifest, files named by the checkpoint's query id, pruned by @retain" {
	read -r qid run < <(ckpt_make "$TMP/ck")
	printf '\\.h\t@query=ignored\t@checkpoint=%s\t@run=%s\t@retain=3\tword:STRING\tcount:BIGINT\n' "$TMP/ck" "$run" >"$TMP/in"
	printf 'a\t1\n\\.e\t0\n\\.e\t1\tnodata=1\nb\t2\n\\.e\t2\n\\.e\t3\n\\.e\t4\tnodata=1\n\\.x\tfinal\n' >>"$TMP/in"
	run ssink file:"$TMP/out" --format json <"$TMP/in"
	assert_success
	[ "$(ls "$TMP/ck/commits")" = "$(printf '2\n3\n4')" ]
	grep -qx 'batch=4' "$TMP/ck/commits/4"
	grep -qx "run=$run" "$TMP/ck/commits/4"
	[ "$(data_files "$TMP/out")" = "$(printf 'part-00000-%s.json\npart-00002-%s.json' "$qid" "$qid")" ]
	# the commit of N comes after N's manifest entry
	[ "$TMP/ck/commits/3" -nt "$TMP/out/_runnel_metadata/$qid-00003" ] ||
	    [ "$(stat -c %Y "$TMP/ck/commits/3")" -ge "$(stat -c %Y "$TMP/out/_runnel_metadata/$qid-00003")" ]
	# a replay of the same batches (a recovery) rewrites the same files
	ssink file:"$TMP/out" --format json <"$TMP/in"
	[ "$(cat "$TMP/out"/*.json | wc -l)" -eq 2 ]
	# a run id that does not own the checkpoint is refused
	sed "s/@run=$run/@run=someone-else/" "$TMP/in" >"$TMP/in2"
	run ssink file:"$TMP/out" <"$TMP/in2"
	assert_failure 1
	assert_output --partial "checkpoint '$TMP/ck' was taken over by another run"
}

@test "checkpoint: the console and stdout sinks commit too" {
	read -r qid run < <(ckpt_make "$TMP/ck")
	printf '\\.h\t@checkpoint=%s\t@run=%s\tw:STRING\nx\n\\.e\t0\n\\.x\tfinal\n' "$TMP/ck" "$run" |
	    ssink - >"$TMP/out"
	[ "$(ls "$TMP/ck/commits")" = "0" ]
	printf 'w\nx\n' | diff - "$TMP/out"
}

# The frames of a windowed count whose counters are known: batch 0 (data),
# 1 (no data, elided), 2 (data), 3 (final).
progress_frames() {
	printf '\\.h\t@query=q1\t@run=r1\t@source=socket:9999\t@watermark=60000000\tword:STRING\tcount:BIGINT\n'
	printf 'a\t1\nb\t2\n\\.e\t0\tssrc.rows=4\tssrc.start=1795521600000000\tssrc.end=1795521600250000\tswindow.rows_in=4\tswindow.dropped=1\tswindow.min_event=1795521000000000\tswindow.max_event=1795521300000000\tscount.rows_in=3\tscount.rows_out=2\tscount.state_rows=5\tscount.updated=2\tscount.dropped=2\tscount.mem_bytes=640\n'
	printf '\\.e\t1\tnodata=1\tssrc.rows=0\tssrc.start=1795521601000000\tssrc.end=1795521601000000\tswindow.watermark=1795521240000000\tscount.state_rows=5\n'
	printf 'c\t3\n\\.e\t2\tssrc.rows=10\tssrc.start=1795521602000000\tssrc.end=1795521602000000\tswindow.watermark=1795521240000000\tscount.state_rows=6\tscount.updated=1\tscount.mem_bytes=700\n'
	printf '\\.e\t3\tnodata=1\tfinal=1\tssrc.rows=0\tssrc.start=1795521603000000\tssrc.end=1795521603000000\tswindow.watermark=inf\tscount.state_rows=0\n'
	printf '\\.x\tfinal\n'
}

@test "progress: one StreamingQueryProgress object per shown batch, Spark's keys in Spark's order" {
	progress_frames >"$TMP/in"
	run --separate-stderr ssink file:"$TMP/out" --progress - <"$TMP/in"
	assert_success
	printf '%s\n' "$stderr" >"$TMP/p"
	# batches 0 and 2 only (1 is elided, 3 brought no rows)
	[ "$(jq -c .batchId "$TMP/p" | tr '\n' ' ')" = "0 2 " ]
	[ "$(head -n 1 "$TMP/p" | jq -c keys_unsorted)" = '["id","runId","name","timestamp","batchId","numInputRows","inputRowsPerSecond","processedRowsPerSecond","durationMs","eventTime","stateOperators","sources","sink"]' ]
	jq -e '.id == "q1" and .runId == "r1" and .name == null
	    and .timestamp == "2026-11-24T12:00:00.000Z" and .numInputRows == 4
	    and .inputRowsPerSecond == 0.0 and (.processedRowsPerSecond | type) == "number"
	    and (.durationMs | keys_unsorted) == ["addBatch", "getBatch", "triggerExecution"]
	    and .durationMs.getBatch == 250 and .durationMs.triggerExecution >= 250
	    and .eventTime == {"max": "2026-11-24T11:55:00.000Z", "min": "2026-11-24T11:50:00.000Z", "watermark": "1970-01-01T00:00:00.000Z"}
	    and .stateOperators == [{"operatorName": "scount", "numRowsTotal": 5,
	        "numRowsUpdated": 2, "allUpdatesTimeMs": 0, "numRowsRemoved": 0,
	        "allRemovalsTimeMs": 0, "commitTimeMs": 0, "memoryUsedBytes": 640,
	        "numRowsDroppedByWatermark": 3, "numShufflePartitions": 1,
	        "numStateStoreInstances": 1}]
	    and (.stateOperators[0] | keys_unsorted)[0:3] == ["operatorName", "numRowsTotal", "numRowsUpdated"]
	    and (.sources | length) == 1
	    and (.sources[0] | keys_unsorted) == ["description", "startOffset", "endOffset", "latestOffset", "numInputRows", "inputRowsPerSecond", "processedRowsPerSecond"]
	    and .sources[0].description == "socket:9999" and .sources[0].numInputRows == 4
	    and .sink == {"description": ("file:" + $dir), "numOutputRows": 2}' \
	    --arg dir "$TMP/out" <(head -n 1 "$TMP/p")
	# batch 2: 10 rows one second after batch 1 began (elided, but a
	# trigger): 10 rows/s; the watermark in effect
	jq -e '.numInputRows == 10 and .inputRowsPerSecond == 10.0
	    and .eventTime == {"watermark": "2026-11-24T11:54:00.000Z"}
	    and .stateOperators[0].numRowsTotal == 6 and .stateOperators[0].memoryUsedBytes == 700
	    and .stateOperators[0].numRowsDroppedByWatermark == 0
	    and .sink.numOutputRows == 1' <(sed -n 2p "$TMP/p")
}

@test "progress: a file is appended to; the final flush shows watermark +infinity; no state operators without scount" {
	progress_frames | sed 's/\\.e\t3\tnodata=1/x\t9\n&/' >"$TMP/in"
	ssink - --progress "$TMP/prog" <"$TMP/in" >/dev/null
	[ "$(wc -l <"$TMP/prog")" -eq 3 ]
	[ "$(sed -n 3p "$TMP/prog" | jq -r .eventTime.watermark)" = "+infinity" ]
	[ "$(sed -n 3p "$TMP/prog" | jq -c '.sink')" = '{"description":"-","numOutputRows":1}' ]
	ssink - --progress "$TMP/prog" <"$TMP/in" >/dev/null
	[ "$(wc -l <"$TMP/prog")" -eq 6 ]
	printf '\\.h\tw:STRING\nx\n\\.e\t0\tssrc.rows=1\n\\.x\tfinal\n' | ssink --progress "$TMP/p2" >/dev/null
	jq -e '.stateOperators == [] and .id == null and (has("eventTime") | not)
	    and .sink.description == "console" and .sources[0].description == null' "$TMP/p2"
}

@test "progress: a write error on the progress file is exit 1 with its name" {
	[ -w /dev/full ] || skip "no /dev/full"
	frames 'a\t1\n\\.e\t0\n\\.x\tfinal\n' >"$TMP/in"
	run ssink - --progress /dev/full <"$TMP/in"
	assert_failure 1
	assert_output --partial "ssink: write error on '/dev/full': No space left on device"
	run ssink - --progress "$TMP/nodir/p" <"$TMP/in"
	assert_failure 1
	assert_output "ssink: cannot open '$TMP/nodir/p': No such file or directory"
}

@test "pipeline: ssrc - | ssplit | scount | ssink file:DIR --format json, read with jq" {
	command -v ssrc >/dev/null && command -v ssplit >/dev/null &&
	    command -v scount >/dev/null || skip "ssrc, ssplit or scount not built"
	printf 'a b\nb\n' | ssrc - | ssplit | scount | ssink file:"$TMP/out" --format json
	cat "$TMP/out"/*.json | jq -c . >"$TMP/got"
	# complete mode: each batch rewrites the table; the last one is final
	last=$(committed "$TMP/out" | tail -n 1)
	[ "$(jq -c . "$TMP/out/$last" | sort)" = "$(printf '{"word":"a","count":1}\n{"word":"b","count":2}')" ]
	[ "$(committed "$TMP/out")" = "$(data_files "$TMP/out")" ]
}

@test "man page EXAMPLES: partitioned json, the committed files, a progress log" {
	command -v ssrc >/dev/null && command -v ssplit >/dev/null &&
	    command -v scount >/dev/null || skip "ssrc, ssplit or scount not built"
	printf 'spark apache\nspark\n' >"$TMP/words.txt"
	cd "$TMP"
	ssrc - <words.txt | ssplit | scount --mode update |
	    ssink file:out --format json --partition-by word --progress progress.log
	[ "$(cat out/word=spark/*.json | jq -s 'map(.count) | max')" -eq 2 ]
	run bash -c "cd out/_runnel_metadata && grep -h '^{' -- * | jq -r 'select(.path) | .path' | sort -u"
	assert_success
	assert_line --partial "word=spark/part-"
	run jq -r '[.batchId, .numInputRows, .sink.numOutputRows] | @tsv' progress.log
	assert_success
	assert_line --index 0 --regexp '^[0-9]+	2	2$'
}

@test "progress: bad records skipped by ssrc show as the source's numBadRecords metric" {
	printf '\\.h\t@query=q1\t@run=r1\t@source=-\tword:STRING\n' >"$TMP/in"
	printf 'a\n\\.e\t0\tssrc.rows=1\tssrc.bad=3\tssrc.start=1795521600000000\tssrc.end=1795521600000000\n' >>"$TMP/in"
	printf 'b\n\\.e\t1\tssrc.rows=1\tssrc.start=1795521600000000\tssrc.end=1795521600000000\n\\.x\tfinal\n' >>"$TMP/in"
	run --separate-stderr ssink - --progress - <"$TMP/in"
	assert_success
	run jq -r '.sources[0].metrics.numBadRecords // "none"' <<<"$stderr"
	assert_output $'3\nnone'
}
