#!/bin/bash
# valgrind.sh BINDIR: run the pipelines the bats suites exercise with every
# stage under valgrind's memcheck, and report.
#
# Each stage runs as
#   valgrind --leak-check=full --error-exitcode=99 --errors-for-leak-kinds=definite
# so an invalid read or write, a use of uninitialised memory or a definite
# leak makes that stage exit 99.  Pipelines: word count (console, json),
# windowed counts (append with a watermark, sliding windows, session
# windows with aggregates), file source to file sink with a checkpoint (a
# first run, then a resumed one, partitioned, with progress), the console
# sink's options, stop by SIGTERM, and the error paths (a bad record, a
# write error, a closed pipe), whose stages must end with their usual
# status and no memcheck error.
#
# Prints one line per pipeline ("ok NAME" or "FAIL NAME: ..." with the
# valgrind report of the failing stage), then "N pipelines, N failed";
# exits 1 when one failed.  VALGRIND_KEEP=1 keeps the work directory.
set -u

bin=${1:-build/bin}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
for c in ssrc ssplit swindow scount ssink; do
	if [ ! -x "$bin/$c" ]; then
		echo "valgrind.sh: no $bin/$c (build first: make)" >&2
		exit 2
	fi
done
if ! command -v valgrind >/dev/null; then
	echo "valgrind.sh: valgrind is not installed" >&2
	exit 2
fi
export PATH="$bin:$PATH" LC_ALL=C
W=$(mktemp -d)
if [ "${VALGRIND_KEEP:-0}" = 1 ]; then
	echo "valgrind.sh: working in $W"
else
	trap 'rm -rf "$W"' EXIT
fi
cd "$W" || exit 2
mkdir logs

# vg CMD ARGS...: CMD under memcheck, its report in logs/CMD.PID.
vg() {
	valgrind -q --leak-check=full --error-exitcode=99 \
	    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	    --log-file="$W/logs/$1.%p" "$@"
}

total=0 failed=0

# check NAME EXPECTED STATUSES: EXPECTED is the statuses the stages must
# end with ("0 0 0 0"); a stage that ends with 99 had a memcheck error.
check() {
	local name=$1 want=$2 got=$3 f
	total=$((total + 1))
	if [ "$got" = "$want" ] && ! grep -qs . logs/*; then
		echo "ok $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name: stage statuses '$got', expected '$want'"
		[ -s stderr ] && sed 's/^/stderr: /' stderr | tail -5
		for f in logs/*; do
			[ -s "$f" ] || continue
			echo "--- ${f#logs/}"
			sed 's/^==[0-9]*== //' "$f" | head -60
		done
	fi
	rm -f logs/* stderr
}

# run NAME EXPECTED PIPELINE: PIPELINE (stages written "vg CMD ...") in
# bash, its statuses checked against EXPECTED.
run() {
	local rc
	rc=$(bash -c "$(declare -f vg); W='$W'; $3"'
	    echo "${PIPESTATUS[*]}"' 2>>stderr | tail -1)
	check "$1" "$2" "$rc"
}

printf 'the quick brown fox\njumps over the lazy dog\nthe end\n' >words
cat >events.csv <<'EOF'
2026-11-24T12:00:00Z,alice,3
2026-11-24T12:01:30Z,bob,5
2026-11-24T12:04:00Z,alice,1
2026-11-24T12:09:00Z,carol,7
2026-11-24T12:16:00Z,bob,2
2026-11-24T12:30:00Z,alice,4
EOF
S='ts TIMESTAMP, user STRING, n INT'

run "word count, console" "0 0 0 0 0" \
    'cat words | vg ssrc - | vg ssplit | vg scount | vg ssink >out'
run "word count, update mode, json, --lower --regex" "0 0 0 0 0" \
    'cat words | vg ssrc - | vg ssplit --lower --regex "[ o]+" |
     vg scount --mode update | vg ssink - --format json >out'
run "windowed: tumbling, watermark, append, csv" "0 0 0 0 0" \
    "cat events.csv | vg ssrc - --format csv --schema '$S' |
     vg swindow --time ts --size 5m --watermark 2m |
     vg scount --mode append user | vg ssink - --format csv >out"
run "windowed: sliding, sum/avg/min/max, tsv" "0 0 0 0 0" \
    "cat events.csv | vg ssrc - --format csv --schema '$S' |
     vg swindow --time ts --size 10m --slide 5m |
     vg scount user --sum n --avg n --min n --max n |
     vg ssink - --format tsv >out"
run "windowed: session windows, update" "0 0 0 0 0" \
    "cat events.csv | vg ssrc - --format csv --schema '$S' |
     vg swindow --time ts --session 5m --watermark 1m |
     vg scount --mode update user --max ts | vg ssink - --format json >out"

mkdir in
cp words in/a
printf 'a b c\nb c\n' >in/b
run "file source -> file sink, checkpoint, partitions, progress" "0 0 0 0" \
    'vg ssrc file:in --checkpoint ck --trigger available-now \
	 --max-files-per-trigger 1 | vg ssplit | vg scount |
     vg ssink file:parts --format json --partition-by word --progress p.json'
printf 'fox again\n' >in/c
run "file source -> file sink, checkpoint: resumed run" "0 0 0 0" \
    'vg ssrc file:in --checkpoint ck --trigger available-now | vg ssplit |
     vg scount | vg ssink file:parts --format json --partition-by word \
	 --progress p.json'
run "file source -> csv file sink, windows, checkpoint" "0 0 0 0" \
    "mkdir -p in2; cp events.csv in2/e.csv;
     vg ssrc file:in2 --format csv --schema '$S' --checkpoint ck2 \
	 --trigger available-now |
     vg swindow --time ts --size 5m --watermark 1m |
     vg scount --mode append user | vg ssink file:parts2 --format csv"
run "console: --num-rows, --no-truncate" "0 0 0" \
    'printf "%s\n" "a value that is much longer than twenty characters" b c |
     vg ssrc - | vg ssink console --num-rows 2 --no-truncate >out'
run "stdin with --include-timestamp, trigger once" "0 0 0 0" \
    'cat words | vg ssrc - --include-timestamp --trigger once | vg ssplit |
     vg ssink - --format csv >out'

printf 'x y\nz\n' >t.log
run "tail source, available-now, checkpoint" "0 0 0 0" \
    'vg ssrc tail:t.log --checkpoint ck4 --trigger available-now |
     vg ssplit | vg scount | vg ssink - --format csv >out'
run "rate source, available-now, windows" "0 0 0 0" \
    'vg ssrc rate:50 --trigger available-now |
     vg swindow --time timestamp --size 1s --watermark 0s |
     vg scount --mode append --sum value | vg ssink - --format json >out'
python3 -c 'import socket, os
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
open("port", "w").write("%d\n" % s.getsockname()[1])
if os.fork() == 0:
    c, _ = s.accept()
    c.sendall(b"".join(b"w%d a\n" % i for i in range(2000)))
    c.close()
    os._exit(0)' || exit 2
run "socket source, word count" "0 0 0 0" \
    "vg ssrc socket:127.0.0.1:$(cat port) | vg ssplit | vg scount --mode update |
     vg ssink - --format csv >out"

# Kafka, on librdkafka's mock cluster (tests/helpers/kafka_mock.c).
mock=$bin/../tests/kafka_mock
if [ -x "$mock" ]; then
	"$mock" words:2 out:1 >mock.out 2>mock.err &
	mock_pid=$!
	deadline=$((SECONDS + 30))
	until [ -s mock.out ] || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
	K=$(head -1 mock.out)
	run "kafka: stdin -> kafka sink" "0 0 0" \
	    "cat words | vg ssrc - | vg ssink kafka:words --bootstrap-servers $K"
	run "kafka: kafka source -> kafka sink, checkpoint (transactions)" \
	    "0 0 0" "vg ssrc kafka:words --bootstrap-servers $K \
		 --starting-offsets earliest --trigger available-now \
		 --checkpoint ck5 | vg ssplit |
	     vg ssink kafka:out --bootstrap-servers $K --key word"
	kill "$mock_pid" 2>/dev/null
	wait "$mock_pid" 2>/dev/null
else
	echo "skip kafka: no $mock"
fi

# A stop: SIGTERM to ssrc while the query runs (a pause with a checkpoint).
mkdir in3
cp words in3/a
rm -f ssrc.pid
bash -c "$(declare -f vg); W='$W';"'
    { echo $BASHPID >ssrc.pid; exec valgrind -q --leak-check=full \
	--error-exitcode=99 --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --log-file="$W/logs/ssrc.%p" \
	ssrc file:in3 --checkpoint ck3; } | vg ssplit | vg scount |
    vg ssink - --format csv >stopped; echo "${PIPESTATUS[*]}" >stop.rc' \
    2>>stderr &
deadline=$((SECONDS + 120))
until grep -q fox stopped 2>/dev/null || [ $SECONDS -ge $deadline ]; do
	sleep 0.2
done
kill -TERM "$(cat ssrc.pid)" 2>/dev/null
wait
check "stop by SIGTERM with a checkpoint" "0 0 0 0" "$(cat stop.rc 2>/dev/null)"

# Error paths: the stages must exit with their usual status, no leak.
run "error: a bad csv record (exit 1)" "0 1 1 1" \
    "printf 'x,alice,1\n' | vg ssrc - --format csv --schema '$S' |
     vg scount | vg ssink >out"
run "error: write error on stdout (>/dev/full)" "0 0 1" \
    'cat words | vg ssrc - | vg ssplit >/dev/full'
seq -f "%g a b" 1 20000 >many
run "error: closed pipe downstream" "0 0 0 0" \
    'vg ssrc - <many | vg ssplit | vg ssink - | head -1 >/dev/null'
run "error: usage error (exit 2)" "2" 'vg scount --mode sometimes'

echo "$total pipelines, $failed failed"
[ "$failed" -eq 0 ]
