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
# a watermark -> scount --mode append -> file sink), kafka (a topic ->
# ssplit -> scount --mode update -> ssink kafka:, on librdkafka's mock
# cluster, BINDIR/../tests/kafka_mock; skipped without it or kcat).  Exit 0
# when every scenario matched; the last line says how many kills were
# survived.
#
# The kafka scenario reads the output topic with read_committed and wants
# each result once.  librdkafka's mock shows the messages of aborted
# transactions to such readers and keeps no batch ids (lib/kafka.h), so
# this holds there only because a replaying sink reads back what the
# attempt before it left and sends only the rest (lib/kafka_readback.h).
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
	kafka)
		# in and out are topics
		ssrc "kafka:$in" --bootstrap-servers "$KADDR" \
		    --starting-offsets earliest --checkpoint "$ck" \
		    --trigger available-now --max-offsets-per-trigger 25 \
		    >"$f.1" 2>>"$WORK/err" & PIDS+=($!)
		ssplit <"$f.1" >"$f.2" 2>>"$WORK/err" & PIDS+=($!)
		scount word --mode update <"$f.2" >"$f.3" 2>>"$WORK/err" & PIDS+=($!)
		# linger.ms=0: each message goes out at once, so that a kill
		# leaves more of a batch's attempt in the topic for the check
		ssink "kafka:$out" --bootstrap-servers "$KADDR" --key word \
		    -X linger.ms=0 <"$f.3" 2>>"$WORK/err" & PIDS+=($!)
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
# kill_one MS [PID]: within MS milliseconds, kill -9 a random stage of
# the pipeline (PID half the time, when given), then wait for the others.
# True if the victim was still running.
kill_one() {
	local victim hit=1
	sleep "$(printf '0.%03d' $((RANDOM % $1)))"
	if [ -n "${2:-}" ] && [ $((RANDOM % 2)) -eq 0 ]; then
		victim=$2
	else
		victim=${PIDS[$((RANDOM % ${#PIDS[@]}))]}
	fi
	kill -9 "$victim" 2>/dev/null && hit=0
	wait_all 20
	return $hit
}

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
			kill_one 40 && kills=$((kills + 1))
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

# kresult TOPIC [COUNTFILE]: the final count of each word, read with
# read_committed.  Update mode writes a word's count each batch it grows,
# so each (word, count) message may appear once, and a word's counts rise
# (a word is one key: one partition, in order); a message twice, or a
# count that does not rise, is printed as such and fails the comparison.
# COUNTFILE gets how many messages there were.
kresult() {
	kcat -b "$KADDR" -C -t "$1" -o beginning -e -q -X isolation.level=read_committed \
	    -f '%s\n' |
	sed -n 's/^{"word":"\(.*\)","count":\([0-9]*\)}$/\1 \2/p' |
	awk '{ n++
		if (($1, $2) in seen) print "DUPLICATE", $1, $2
		else if ($1 in c && $2 <= c[$1]) print "NOT RISING", $1, c[$1], $2
		seen[$1, $2] = 1; c[$1] = $2 }
	END {
		for (w in c) print w, c[w]
		if (countfile != "") print n + 0 >countfile
	}' countfile="${2:-}" | sort
}

run_kafka() {
	local d=$WORK/kafka kills=0 runs=0 next=0 i
	local nfiles=$((KILLS * 4 + 20))
	local mock=$BIN/../tests/kafka_mock
	if [ ! -x "$mock" ] || ! command -v kcat >/dev/null; then
		echo "skip: kafka: needs $mock and kcat"
		return 0
	fi
	make_input "$d/all" text $nfiles
	"$mock" kin:4 kref:4 kout:2 kref-out:2 >"$d.addr" 2>>"$WORK/err" &
	local mock_pid=$!
	for i in $(seq 1 200); do [ -s "$d.addr" ] && break; sleep 0.05; done
	KADDR=$(head -n 1 "$d.addr")
	[ -n "$KADDR" ] || { echo "crash-test: kafka: the mock did not start"; return 1; }
	local files=("$d"/all/f*)
	# the uninterrupted reference, over every line at once
	cat "${files[@]}" | kcat -b "$KADDR" -P -t kref
	pipeline kafka kref "$d/ck-ref" kref-out
	wait_all 60
	kresult kref-out >"$d/want"
	[ -s "$d/want" ] || { echo "crash-test: kafka: reference run gave nothing"; cat "$WORK/err"; return 1; }
	while :; do
		# four files' lines a run, then the rest
		local upto=$((next + 4))
		[ $kills -lt "$KILLS" ] || upto=$nfiles
		while [ $next -lt $upto ] && [ $next -lt $nfiles ]; do
			kcat -b "$KADDR" -P -t kin "${files[$next]}" -l
			next=$((next + 1))
		done
		pipeline kafka kin "$d/ck" kout
		runs=$((runs + 1))
		if [ $kills -lt "$KILLS" ]; then
			# half the kills hit ssink, the stage whose window
			# between sending and committing this scenario is about
			kill_one 150 "${PIDS[3]}" && kills=$((kills + 1))
		else
			wait_all 60
			break
		fi
		if [ $runs -gt $((KILLS * 10 + 20)) ]; then
			echo "crash-test: kafka: too many runs"; return 1
		fi
	done
	pipeline kafka kin "$d/ck" kout
	wait_all 60
	kresult kout "$d/count" >"$d/got"
	# replays of a batch that a killed run had written (part of) to the
	# topic: ssink reads it back and sends only the rest (ssink(1))
	local redone
	redone=$(grep -c '^ssink: batch [0-9]* replayed: ' "$WORK/err")
	kill "$mock_pid" 2>/dev/null
	total_kills=$((total_kills + kills))
	if diff -u "$d/want" "$d/got" >"$d/diff"; then
		echo "ok: kafka: $kills kills in $runs runs, each result once in the output topic read with read_committed ($(cat "$d/count") messages; $redone replays found part or all of their batch in the topic already and sent only the rest), final counts equal the uninterrupted run's ($(wc -l <"$d/want") words)"
	else
		echo "FAIL: kafka: output differs after $kills kills (seed $SEED):"
		head -20 "$d/diff"
		return 1
	fi
}

status=0
for sc in stateless stateful windowed kafka; do
	[ -n "$ONLY" ] && [ "$ONLY" != "$sc" ] && continue
	if [ "$sc" = kafka ]; then
		run_kafka || status=1
	else
		run_scenario "$sc" || status=1
	fi
done
echo "crash-test: $total_kills kills survived, seed $SEED, status $status"
exit $status
