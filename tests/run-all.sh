#!/bin/sh
# Run the C unit tests and every bats suite against each build directory
# given (e.g. "build build-san"), the build directories side by side (the
# suites mostly wait on pipes and servers, so two passes share two cores
# well), then print "N passed, N failed" last.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# run_build BUILD: every test against BUILD; TAP lines into $dir/BUILD.tap,
# a readable log into $dir/BUILD.log.
run_build() {
	build=$1 tap=$dir/$1.tap log=$dir/$1.log one=$dir/$1.one
	: >"$tap"
	echo "== $build: unit tests" >"$log"
	for t in tests/unit/*.c; do
		bin=$build/tests/$(basename "$t" .c)
		if [ ! -x "$bin" ]; then
			echo "not ok - $bin was not built" >"$one"
		else
			"$bin" >"$one" 2>&1 || grep -q '^not ok' "$one" ||
			    echo "not ok - $bin exited with status $?" >>"$one"
		fi
		grep -A8 '^not ok' "$one" >>"$log"
		grep -E '^(not )?ok ' "$one" >>"$tap"
	done
	echo "== $build: bats suites" >>"$log"
	for suite in tests/*.bats; do
		[ -e "$suite" ] || continue
		start=$(date +%s)
		RUNNEL_BUILD=$build bats --tap "$suite" >"$one" 2>&1
		rc=$?
		if [ $rc -ne 0 ] && ! grep -q '^not ok' "$one"; then
			echo "not ok - $suite: bats exited $rc" >>"$one"
			tail -5 "$one" >>"$log"
		fi
		echo "$suite: $(grep -c '^ok ' "$one") ok, $(($(date +%s) - start)) s" >>"$log"
		grep -A8 '^not ok' "$one" | head -60 >>"$log"
		grep -E '^(not )?ok ' "$one" >>"$tap"
	done
}

for build in "$@"; do
	run_build "$build" &
done
wait
pass=0 fail=0 skip=0
for build in "$@"; do
	cat "$dir/$build.log"
	p=$(grep -c '^ok ' "$dir/$build.tap")
	s=$(grep -c '^ok .*# skip' "$dir/$build.tap")
	f=$(grep -c '^not ok' "$dir/$build.tap")
	pass=$((pass + p - s)) skip=$((skip + s)) fail=$((fail + f))
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
