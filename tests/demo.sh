#!/bin/sh
# demo.sh BINDIR: run runnel's showcase queries on the bundled data in
# tests/fixtures/demo: two streaming queries, shown as Spark's console sink
# does, then the word count as a checkpointed cron job writing files.
#
# To show several micro-batches without a server, the input is written into
# ssrc's stdin through a fifo, one part at a time.  ssrc ends a batch when
# its input runs dry, so after writing a part the script waits (with a
# deadline, never a fixed sleep) until that batch has gone all the way
# through: tee(1) taps the frames after ssrc and before ssink, and the
# script compares them with what ssink has printed.  Each part is smaller
# than PIPE_BUF, so it reaches ssrc in one piece and becomes one batch.
set -eu

bin=${1:?usage: sh tests/demo.sh BINDIR}
bin=$(cd "$bin" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
data=$here/fixtures/demo
deadline=${DEMO_TIMEOUT:-10}
PATH=$bin:$PATH
export PATH

for c in ssrc ssplit swindow scount ssink; do
	if [ ! -x "$bin/$c" ]; then
		echo "demo: $bin/$c is not built (run make)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/runnel-demo.XXXXXX")
sink_pid=
cleanup() {
	exec 3>&-
	if [ -n "$sink_pid" ]; then
		kill "$sink_pid" 2>/dev/null || :
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Counting frames in the tapped streams (see runnel(5)).

# Rows ssrc has read so far: the sum of ssrc.rows over epoch frames.
rows_read() {
	awk -F'\t' '/^\\\.e\t/ {
		for (i = 3; i <= NF; i++)
			if ($i ~ /^ssrc\.rows=/) {
				sub(/^[^=]*=/, "", $i)
				n += $i
			}
	    } END { print n + 0 }' "$1"
}
# True when the last epoch frame is a no-data batch: ssrc found its input
# dry after the last data batch.
last_is_nodata() {
	awk '/^\\\.e\t/ { last = $0 } END { exit !(last ~ /\tnodata=1(\t|$)/) }' "$1"
}
epochs() {
	awk '/^\\\.e\t/ { n++ } END { print n + 0 }' "$1"
}
# Batches the console sink shows: every data batch, and a no-data batch
# only when it brings rows (e.g. windows closed by a new watermark).
shown_batches() {
	awk '/^\\\.e\t/ { if (!/\tnodata=1(\t|$)/ || rows) n++; rows = 0; next }
	    /^\\\./ { next }
	    { rows++ }
	    END { print n + 0 }' "$1"
}
printed_batches() {
	awk '/^Batch: / { n++ } END { print n + 0 }' "$1"
}
# The last batch is printed completely once the last non-empty line is the
# table's bottom border or Spark's "only showing top N rows".
sink_idle() {
	awk 'NF { last = $0 } END { exit !(last ~ /^\+-/ || last ~ /^only showing/) }' "$1"
}
# Late rows dropped so far: the sum of swindow.dropped over epoch frames.
dropped() {
	awk -F'\t' '/^\\\.e\t/ {
		for (i = 3; i <= NF; i++)
			if ($i ~ /^swindow\.dropped=/) {
				sub(/^[^=]*=/, "", $i)
				n += $i
			}
	    } END { print n + 0 }' "$1"
}
# Current watermark from the frames (swindow's \.w), as a time of day.
watermark() {
	w=$(awk -F'\t' '/^\\\.w\t/ { w = $2 } END { print w }' "$1")
	case $w in
	"") echo "none yet" ;;
	inf) echo "+infinity" ;;
	*) date -u -d "@$((w / 1000000))" '+%Y-%m-%d %H:%M:%S' ;;
	esac
}

# wait_until WHAT CMD...: run CMD until it succeeds or the deadline passes.
wait_until() {
	what=$1
	shift
	end=$(($(date +%s) + deadline))
	until "$@"; do
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "demo: timed out after ${deadline}s waiting for $what" >&2
			exit 1
		fi
		sleep 0.02
	done
}

cut_after() { [ "$(rows_read "$tmp/src")" -ge "$1" ] && last_is_nodata "$tmp/src"; }
all_counted() { [ "$(epochs "$tmp/agg")" -eq "$(epochs "$tmp/src")" ]; }
all_printed() {
	[ "$(printed_batches "$tmp/out")" -eq "$(shown_batches "$tmp/agg")" ] &&
	    sink_idle "$tmp/out"
}

# settle ROWS: wait until ssrc has read ROWS rows in all, found its input
# dry, and everything it cut so far has been counted and printed.
settle() {
	wait_until "ssrc to read $1 rows and end the batch" cut_after "$1"
	wait_until "the batch to reach scount" all_counted
	wait_until "ssink to print the batch" all_printed
}

printed=0
show_new() {
	size=$(wc -c <"$tmp/out")
	if [ "$size" -gt "$printed" ]; then
		tail -c +"$((printed + 1))" "$tmp/out" | sed 's/^/    /'
	fi
	printed=$size
}

# new_query: fresh fifo and tap files; the caller then starts
# "ssrc ... <fifo | tee src | ... | tee agg | ssink >out &" and calls
# open_input.
new_query() {
	rm -f "$tmp/in" "$tmp/src" "$tmp/agg" "$tmp/out"
	: >"$tmp/src"
	: >"$tmp/agg"
	: >"$tmp/out"
	mkfifo "$tmp/in"
	printed=0
}

# open_input: remember the sink's pid ($! is the last command of the
# background pipeline) and open the fifo's writing end as fd 3.
open_input() {
	sink_pid=$1
	exec 3>"$tmp/in"
}

finish_query() {
	exec 3>&-
	status=0
	wait "$sink_pid" || status=$?
	sink_pid=
	if [ "$status" -ne 0 ]; then
		show_new
		echo "demo: the query failed (exit status $status)" >&2
		exit 1
	fi
	show_new
}

# --- 1. word count -------------------------------------------------------
text=$data/tide-clock.txt
cat <<EOF
runnel demo: Spark Structured Streaming as small commands over pipes.

1. Word count, complete output mode (Spark's "quick example")

    ssrc - | ssplit --lower --regex '[^A-Za-z]+' | scount --mode complete | ssink

   tests/fixtures/demo/tide-clock.txt goes into ssrc's stdin in three parts.
   ssrc ends a micro-batch whenever its input runs dry, so each part is one
   batch, and complete mode prints the whole, growing table after each (its
   first 20 rows, as Spark's console does).  Batch numbers skip the
   no-data batch ssrc runs after each data batch: it changes nothing here,
   so the console does not show it.

EOF
new_query
ssrc - <"$tmp/in" | tee "$tmp/src" | ssplit --lower --regex '[^A-Za-z]+' |
    scount --mode complete | tee "$tmp/agg" | ssink >"$tmp/out" &
open_input $!
k=0
sent=0
for range in 1-4 5-7 8-11; do		# paragraphs, about 1.3 KB each
	k=$((k + 1))
	awk -v RS= -v lo="${range%-*}" -v hi="${range#*-}" \
	    'NR >= lo && NR <= hi { print; print "" }' "$text" >"$tmp/part"
	echo "--- part $k: paragraphs $range ($(wc -w <"$tmp/part") words)"
	cat "$tmp/part" >&3
	sent=$((sent + $(wc -l <"$tmp/part")))
	settle "$sent"
	show_new
done
finish_query
echo "--- end of input: ssrc closes the query (\\.x final); the last table stands"
echo

# --- 2. windowed counts with a watermark -----------------------------------
csv=$data/events.csv
cat <<EOF
2. Event-time windows with a watermark, append output mode

    ssrc - --format csv --header \\
        --schema 'sensor STRING, celsius DOUBLE, time TIMESTAMP' \\
      | swindow --time time --size 10m --watermark 5m \\
      | scount sensor --avg celsius --mode append | ssink

   tests/fixtures/demo/events.csv (temperature readings) goes in five rows
   per batch.  The watermark is the latest event time seen minus 5 minutes,
   taken at the end of each batch; a window is printed once, in the first
   batch whose watermark has passed its end (a no-data batch, if need be).
   A row whose window has already closed is late: dropped and counted.

EOF
new_query
ssrc - --format csv --header \
    --schema 'sensor STRING, celsius DOUBLE, time TIMESTAMP' <"$tmp/in" |
    tee "$tmp/src" | swindow --time time --size 10m --watermark 5m |
    scount sensor --avg celsius --mode append | tee "$tmp/agg" |
    ssink >"$tmp/out" &
open_input $!
lines=$(wc -l <"$csv")
late=0
sent=0
first=2
while [ "$first" -le "$lines" ]; do
	last=$((first + 4))
	sed -n "${first},${last}p" "$csv" >"$tmp/rows"
	times=$(cut -d, -f3 "$tmp/rows" | cut -c12-19 | paste -sd' ' -)
	echo "--- rows $((first - 1))-$((last - 1)), event times: $times"
	before=$(watermark "$tmp/agg")
	# The csv header row goes with the first rows, in one write: it is no
	# batch of its own.
	if [ "$first" -eq 2 ]; then
		head -n 1 "$csv" | cat - "$tmp/rows" >"$tmp/part"
	else
		cp "$tmp/rows" "$tmp/part"
	fi
	cat "$tmp/part" >&3
	sent=$((sent + $(wc -l <"$tmp/rows")))
	settle "$sent"
	show_new
	now=$(dropped "$tmp/agg")
	if [ "$now" -gt "$late" ]; then
		echo "--- $((now - late)) late row(s) dropped: window end <= watermark $before"
		late=$now
	fi
	echo "--- watermark now $(watermark "$tmp/agg")"
	first=$((last + 1))
done
echo "--- end of input: the watermark moves to +infinity, closing every window"
finish_query
echo "--- late rows dropped in all: $(dropped "$tmp/agg")" \
    "(swindow.dropped in the epoch frames)"
echo

# --- 3. the cron mode: a checkpoint, available-now, the file sink -----------
cat <<EOF
3. The cron mode: a checkpointed query, run again and again

    ssrc file:in --checkpoint ck --trigger available-now \\
      | ssplit --lower --regex '[^A-Za-z]+' | scount \\
      | ssink file:out --format json

   The story goes into the directory in/ a part at a time, with one run of
   the query after each, as cron would start it.  Each run reads only the
   files that came since the last one (the checkpoint logs what was taken),
   goes on counting from the saved state, writes each batch as a part file
   of out/, committed atomically, and pauses.  A run with nothing new adds
   nothing.

EOF
cron=$tmp/cron
mkdir "$cron" "$cron/in" "$cron/out"
cron_run() {
	ssrc "file:$cron/in" --checkpoint "$cron/ck" --trigger available-now |
	    ssplit --lower --regex '[^A-Za-z]+' | scount |
	    ssink "file:$cron/out" --format json
}
parts() {
	find "$cron/out" -maxdepth 1 -name 'part-*.json' | wc -l | tr -d ' '
}
last_commit() {
	ls "$cron/ck/commits" | sort -n | tail -n 1
}
# The newest part file's top five words (part files are named by batch).
top5() {
	newest=$(find "$cron/out" -maxdepth 1 -name 'part-*.json' | sort | tail -n 1)
	sed -E 's/^\{"word":"(.*)","count":([0-9]+)\}$/\2 \1/' "$newest" |
	    sort -k1,1nr -k2,2 | head -n 5 |
	    awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 } END { print "" }'
}
k=0
for range in 1-4 5-7 8-11 none; do
	k=$((k + 1))
	if [ "$range" = none ]; then
		echo "--- run $k: no new file"
	else
		awk -v RS= -v lo="${range%-*}" -v hi="${range#*-}" \
		    'NR >= lo && NR <= hi { print; print "" }' "$text" \
		    >"$cron/in/.part$k"
		mv "$cron/in/.part$k" "$cron/in/part$k.txt"
		echo "--- run $k: in/part$k.txt arrives (paragraphs $range)"
	fi
	before=$(parts)
	if ! cron_run; then
		echo "demo: run $k of the cron query failed" >&2
		exit 1
	fi
	echo "    committed up to batch $(last_commit); part files in out/:" \
	    "$(parts) (+$(($(parts) - before)))"
	echo "    newest part file, top words: $(top5)"
done
echo "--- the counts go on across runs: the same as part 1's single run"
