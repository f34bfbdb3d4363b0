#!/bin/sh
# demo-kafka.sh BUILD: seed section 13 end to end on librdkafka's mock
# cluster: Kafka -> ssplit -> scount -> Kafka, exactly once, as a job that
# cron would run.
#
# Starts BUILD/tests/kafka_mock with a 4-partition topic "lines" and a
# 2-partition topic "counts", writes the first half of the demo story into
# "lines" with kcat, runs the query once with a checkpoint and
# --trigger available-now, writes the second half, runs it again, and
# reads "counts" back with kcat after each run: the counts of the second
# run go on from the first's (state in the checkpoint), and each run adds
# only what changed (update mode), one transaction per batch.  The mock
# cluster stops at the end (and if the script dies: --stdin).
set -eu

build=${1:?usage: sh tests/demo-kafka.sh BUILD (e.g. build)}
build=$(cd "$build" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
story=$here/fixtures/demo/tide-clock.txt
deadline=${DEMO_TIMEOUT:-10}
PATH=$build/bin:$PATH
export PATH

for c in bin/ssrc bin/ssplit bin/scount bin/ssink tests/kafka_mock; do
	if [ ! -x "$build/$c" ]; then
		echo "demo-kafka: $build/$c is not built (run make)" >&2
		exit 1
	fi
done
if ! command -v kcat >/dev/null 2>&1; then
	echo "demo-kafka: kcat is not installed (apt-get install kcat)" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/runnel-demo-kafka.XXXXXX")
mock_pid=
cleanup() {
	exec 3>&- 2>/dev/null || :
	if [ -n "$mock_pid" ]; then
		kill "$mock_pid" 2>/dev/null || :
		wait "$mock_pid" 2>/dev/null || :
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The mock cluster on 127.0.0.1; it ends when fd 3 closes (--stdin), so
# even a killed script cannot leave it behind.
mkfifo "$tmp/keep"
"$build/tests/kafka_mock" --stdin lines:4 counts:2 <"$tmp/keep" \
    >"$tmp/addr" 2>"$tmp/mock.err" &
mock_pid=$!
exec 3>"$tmp/keep"
t=0
while [ ! -s "$tmp/addr" ]; do
	if [ "$t" -ge $((deadline * 20)) ]; then
		echo "demo-kafka: the mock cluster did not start" >&2
		cat "$tmp/mock.err" >&2
		exit 1
	fi
	sleep 0.05
	t=$((t + 1))
done
addr=$(head -n 1 "$tmp/addr")

# run: the query, as cron would start it.
run() {
	ssrc kafka:lines --bootstrap-servers "$addr" \
	    --starting-offsets earliest --trigger available-now \
	    --checkpoint "$tmp/ck" |
	    ssplit --lower --regex '[^[:alpha:]]+' |
	    scount word --mode update |
	    ssink kafka:counts --bootstrap-servers "$addr" --key word
}

# show TITLE: the top words by their latest count in "counts".
show() {
	echo "== $1"
	kcat -b "$addr" -C -t counts -o beginning -e -q \
	    -X isolation.level=read_committed -f '%s\n' |
	    sed 's/.*"word":"\([^"]*\)","count":\([0-9]*\)}$/\1 \2/' |
	    awk '{ c[$1] = $2 } END { for (w in c) print c[w], w }' |
	    sort -k1,1nr -k2,2 | head -n 8
	echo "($(kcat -b "$addr" -C -t counts -o beginning -e -q | wc -l) messages in counts)"
}

lines=$(wc -l <"$story")
half=$((lines / 2))
echo "Kafka on $addr: topics lines (4 partitions) and counts (2)"
echo
head -n "$half" "$story" | grep -v '^$' | kcat -b "$addr" -P -t lines
run
show "after the first run (the first half of the story)"
echo
tail -n +"$((half + 1))" "$story" | grep -v '^$' |
    kcat -b "$addr" -P -t lines
run
show "after the second run (counts go on from the checkpoint)"
echo
run
show "after a third run with nothing new (nothing is written)"
