#!/bin/sh
# Run the C unit tests and every bats suite against each build directory
# given (e.g. "build build-san"), then print "N passed, N failed" last.
pass=0 fail=0 skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() {	# count TAP lines of $log, echoing failures
	p=$(grep -c '^ok ' "$log" | tr -d ' ')
	s=$(grep -c '^ok .*# skip' "$log" | tr -d ' ')
	f=$(grep -c '^not ok ' "$log" | tr -d ' ')
	pass=$((pass + p - s)); skip=$((skip + s)); fail=$((fail + f))
	grep -A8 '^not ok ' "$log" | head -60
}

for build in "$@"; do
	echo "== $build: unit tests"
	for t in tests/unit/*.c; do
		bin=$build/tests/$(basename "$t" .c)
		if [ ! -x "$bin" ]; then
			echo "not ok - $bin was not built" >"$log"
		else
			"$bin" >"$log" 2>&1 || grep -q '^not ok' "$log" ||
			    echo "not ok - $bin exited with status $?" >>"$log"
		fi
		count
	done
	echo "== $build: bats suites"
	for suite in tests/*.bats; do
		[ -e "$suite" ] || continue
		RUNNEL_BUILD=$build bats --tap "$suite" >"$log" 2>&1
		rc=$?
		if [ $rc -ne 0 ] && ! grep -q '^not ok' "$log"; then
			echo "not ok - $suite: bats exited $rc" >>"$log"
			cat "$log" | tail -5
		fi
		printf '%s: ' "$suite"; grep -c '^ok ' "$log"
		count
	done
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
