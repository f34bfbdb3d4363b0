#!/bin/sh
# replay.sh [BUILD...]: run every seed (tests/fuzz/corpus/TARGET) and
# every reproducer (tests/fuzz/regress/TARGET) once through each fuzz
# target, with the replay programs of each BUILD directory (default:
# build; e.g. "build build-san"), built by `make` from
# tests/helpers/fuzz_replay_*.c.  build-fuzz (the libFuzzer binaries of
# `make fuzz-build`) works too.  Prints one line per target and build;
# exits 1 when any input fails (a finding came back) or a program is
# missing.  tests/fuzz.bats does the same as bats tests.
cd "$(dirname "$0")/../.." || exit 1
[ $# -gt 0 ] || set -- build
status=0
for build in "$@"; do
	for target in fuzz_frame fuzz_csv fuzz_json fuzz_parse fuzz_checkpoint
	do
		dirs=tests/fuzz/corpus/$target
		[ -d tests/fuzz/regress/$target ] &&
		    dirs="$dirs tests/fuzz/regress/$target"
		case $build in
		*fuzz*)	prog=$build/$target; args=-runs=0 ;;
		*)	prog=$build/tests/fuzz_replay_${target#fuzz_}; args= ;;
		esac
		if [ ! -x "$prog" ]; then
			echo "not ok - $prog was not built"
			status=1
			continue
		fi
		log=$(mktemp)
		# shellcheck disable=SC2086
		if "$prog" $args $dirs >"$log" 2>&1; then
			echo "ok - $build: $target: $(tail -n 1 "$log")"
		else
			echo "not ok - $build: $target"
			tail -n 30 "$log" | sed 's/^/#   /'
			status=1
		fi
		rm -f "$log"
	done
done
exit $status
