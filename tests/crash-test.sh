#!/usr/bin/env bash
# crash-test.sh: kill -9 a random stage of checkpointed pipelines at random
# moments, re-run each time, and check the output equals an uninterrupted
# run's: every input row exactly once in the file sink, exact final counts,
# each window emitted once.
#
#   tests/crash-test.sh [--kills N] [--seed S] [--scenario NAME] BINDIR
#
# Scenarios: stateless (file -> file sink), stateful (file -> ssplit ->
# scount --mode update -> file sink), windowed (csv events -> swindow with
# a watermark -> scount --mode append -> file sink).  Exit 0 when every
# scenario matched; the last line says how many kills were survived.
set -u
# bash reports each job it reaps after a kill -9; those lines are noise here
exec 2> >(grep -v --line-buffered " Killed " >&2)
KILLS=20 SEED=$$ ONLY=
while [ $# -gt 1 ]; do
	case "$1" in
	--kills) KILLS=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--scenario) ONLY=$2; shift 2 ;;
	*) echo "crash-test: unknown option '$1'" >&2; exit 2 ;;
	esac
done
BIN=$(cd "${1:?usage: crash-test.sh [--kills N] [--seed S] BINDIR}" && pwd)
export PATH="$BIN:$PATH" LC_ALL=C
RANDOM=$SEED
WORK=$(mktemp -d /tmp/runnel-crash-XXXXXX)
trap 'kill -9 $(jobs -p) 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
total_kills=0

# make_input DIR KIND N: N small files with deterministic content and
# increasing modification times.
make_input() {
	mkdir -p "$1"
	local i j
	for i in $(seq -w 1 "$3"); do
		if [ "$2" = events ]; then
			for j in $(seq 0 24); do
				# events every 3 s from 12:00, words from a small set,
				# a little disorder
				t=$(( (10#$i * 25 + j) * 3 - (j % 4) * 5 ))
				printf '%d,w%d\n' $((1795521600 + t)) \
				    $(( (10#$i * 7 + j) % 11 ))
			done >"$1/.f$i" && mv "$1/.f$i" "$1/f$i.csv"
		else
			for j in $(seq 1 25); do
				echo "line $i $j w$(( (10#$i * j) % 13 )) w$(( j % 5 ))"
			done >"$1/.f$i" && mv "$1/.f$i" "$1/f$i.txt"
		fi
		touch -d "@$((1795521600 + 10#$i))" "$1/f$i".*
	done
}

# pipeline SCENARIO IN CK OUT: start the stages in the background through
# fifos and set PIDS to their pids, source first.
pipeline() {
	local sc=$1 in=$2 ck=$3 out=$4 f=$WORK/fifo
	rm -f "$f".*; mkfifo "$f.1" "$f.2" "$f.3"
	PIDS=()
	case $sc in
	stateless)
		ssrc "file:$in" --checkpoint "$ck" --trigger available-now \
		    --max-files-per-trigger 1 >"$f.1" 2>>"$WORK/err" & PIDS+=($!)
		ssink "file:$out" --format csv <"$f.1" 2>>"$WORK/err" & PIDS+=($!)
		;;
	stateful)
		ssrc "file:$in" --checkpoint "$ck" --trigger available-now \
		    --max-files-per-trigger 1 >"$f.1" 2>>"$WORK/err" & PIDS+=($!)
		ssplit <"$f.1" >"$f.2" 2>>"$WORK/err" & PIDS+=($!)
		scount --mode update <"$f.2" >"$f.3" 2>>"$WORK/err" & PIDS+=($!)
		ssink "file:$out" --format csv <"$f.3" 2>>"$WORK/err" & PIDS+=($!)
		;;
	windowed)
		ssrc "file:$in" --format csv --schema 'ts TIMESTAMP, word STRING' \
		    --checkpoint "$ck" --trigger available-now \
		    --max-files-per-trigger 1 >"$f.1" 2>>"$WORK/err" & PIDS+=($!)
		swindow --time ts --size 1m --watermark 30s <"$f.1" >"$f.2" \
		    2>>"$WORK/err" & PIDS+=($!)
		scount --mode append <"$f.2" >"$f.3" 2>>"$WORK/err" & PIDS+=($!)
		ssink "file:$out" --format csv <"$f.3" 2>>"$WORK/err" & PIDS+=($!)
		;;
	esac
}

# wait_all SECONDS: wait for PIDS; SIGKILL what is left after SECONDS.
wait_all() {
	local deadline=$((SECONDS + $1)) p
	for p in "${PIDS[@]}"; do
		while kill -0 "$p" 2>/dev/null; do
			if [ $SECONDS -ge $deadline ]; then
				kill -9 "${PIDS[@]}" 2>/dev/null
				break
			fi
			sleep 0.01
		done
		wait "$p" 2>/dev/null
	done
}

# committed OUT: the rows of the batches the manifest commits, each
# prefixed with its batch id, sorted.
committed() {
	(cd "$1/_runnel_metadata" 2>/dev/null &&
	    grep -h '^{' -- * | jq -r 'select(.path) | .path' | sort -u) |
	while read -r part; do
		b=${part#part-}; b=$((10#${b%%-*}))
		sed "s/^/$b|/" "$1/$part"
	done | sort
}

# result SCENARIO OUT: what must match between runs.
result() {
	case $1 in
	stateless|windowed)
		# every row once: the multiset of rows, batch ids dropped
		committed "$2" | cut -d'|' -f2- | sort ;;
	stateful)
		# update mode: a word's final count is its row in its last batch
		committed "$2" | sort -t'|' -k1,1n -s |
		    awk -F'|' '{split($2, f, ","); c[f[1]] = f[2]} END {for (w in c) print w, c[w]}' |
		    sort ;;
	esac
}

run_scenario() {
	local sc=$1 kind=text kills=0 runs=0
	[ "$sc" = windowed ] && kind=events
	local d=$WORK/$sc nfiles=$((KILLS * 4 + 20)) next=0
	make_input "$d/all" $kind $nfiles
	mkdir -p "$d/in"
	# the uninterrupted reference, over every file at once
	pipeline "$sc" "$d/all" "$d/ck-ref" "$d/out-ref"
	wait_all 60
	result "$sc" "$d/out-ref" >"$d/want"
	[ -s "$d/want" ] || { echo "crash-test: $sc: reference run gave nothing"; cat "$WORK/err"; return 1; }
	# runs killed at random moments over a growing directory (four new
	# files a run, as from cron), then a run over all the rest
	local files=("$d"/all/f*)
	while :; do
		if [ $kills -lt "$KILLS" ]; then
			for _ in 1 2 3 4; do
				[ $next -lt $nfiles ] || break
				cp -p "${files[$next]}" "$d/in/.new" &&
				    mv "$d/in/.new" "$d/in/${files[$next]##*/}"
				next=$((next + 1))
			done
		else
			while [ $next -lt $nfiles ]; do
				cp -p "${files[$next]}" "$d/in/${files[$next]##*/}"
				next=$((next + 1))
			done
		fi
		pipeline "$sc" "$d/in" "$d/ck" "$d/out"
		runs=$((runs + 1))
		if [ $kills -lt "$KILLS" ]; then
			sleep "$(printf '0.%03d' $((RANDOM % 40)))"
			victim=${PIDS[$((RANDOM % ${#PIDS[@]}))]}
			if kill -9 "$victim" 2>/dev/null; then
				kills=$((kills + 1))
			fi
			wait_all 20
		else
			wait_all 60
			break
		fi
		if [ $runs -gt $((KILLS * 10 + 20)) ]; then
			echo "crash-test: $sc: too many runs"; return 1
		fi
	done
	# one more clean run: nothing new may appear
	pipeline "$sc" "$d/in" "$d/ck" "$d/out"
	wait_all 60
	result "$sc" "$d/out" >"$d/got"
	total_kills=$((total_kills + kills))
	if diff -u "$d/want" "$d/got" >"$d/diff"; then
		echo "ok: $sc: $kills kills in $runs runs, output equals the uninterrupted run's ($(wc -l <"$d/want") rows)"
	else
		echo "FAIL: $sc: output differs after $kills kills (seed $SEED):"
		head -20 "$d/diff"
		return 1
	fi
}

status=0
for sc in stateless stateful windowed; do
	[ -n "$ONLY" ] && [ "$ONLY" != "$sc" ] && continue
	run_scenario "$sc" || status=1
done
echo "crash-test: $total_kills kills survived, seed $SEED, status $status"
exit $status
