# Common setup for every bats suite: assertions, the built commands first
# in PATH, a C locale and a scratch directory.
bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

RUNNEL_ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
RUNNEL_BUILD="${RUNNEL_BUILD:-build}"
case "$RUNNEL_BUILD" in /*) ;; *) RUNNEL_BUILD="$RUNNEL_ROOT/$RUNNEL_BUILD" ;; esac
export PATH="$RUNNEL_BUILD/bin:$RUNNEL_BUILD/tests:$PATH"
export LC_ALL=C
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
FIXTURES="$RUNNEL_ROOT/tests/fixtures"

# wait_for CMD...: run CMD until it succeeds, for at most $WAIT_SECONDS (10).
wait_for() {
	local deadline=$((SECONDS + ${WAIT_SECONDS:-10}))
	until "$@"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "wait_for: timed out: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

# in_order FILE...: modification times a second apart, in the order
# given, so that the file source (oldest first) takes them in that order.
in_order() {
	local i=0 f
	for f in "$@"; do
		i=$((i + 1))
		touch -d "@$((1767225600 + i))" "$f"	# 2026-01-01T00:00:00Z + i s
	done
}

# now_after MICROS: true once the wall clock is past MICROS since the epoch.
now_after() {
	[ "$(($(date +%s%N) / 1000))" -gt "$1" ]
}

# free_port: print a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# batches FILE: one line per epoch frame of ssrc's output: "N rows=R" plus " nodata", " final".
batches() {
	awk -F'\t' '$1 == "\\.e" {
		line = $2; rows = "?"
		for (i = 3; i <= NF; i++) {
			if ($i == "nodata=1") line = line " nodata"
			if ($i == "final=1") line = line " final"
			if ($i ~ /^ssrc\.rows=/) rows = substr($i, 11)
		}
		print line " rows=" rows
	}' "$1"
}
