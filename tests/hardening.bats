#!/usr/bin/env bats
# Hardening: signals (SIGINT/SIGTERM to a whole pipeline or to ssrc alone,
# a second signal, SIGPIPE, SIGHUP), I/O faults (write errors, a full disk
# under the file sink and under the checkpoint, a read-only checkpoint,
# very long lines, binary data), back-pressure and load (memory of each
# stage behind a slow reader, a socket source at 100k lines/s), and
# security basics (nothing written outside the sink's directory, the
# umask, symlinks planted by others, -X values and the shell).
#
# Mounting a small tmpfs needs root; those tests skip with the reason
# otherwise.  LOAD_SECONDS (default 5) sets the socket load test's length.

load test_helper/common

bats_require_minimum_version 1.5.0

setup() {
	T=$BATS_TEST_TMPDIR
	cd "$T"
	mkdir -p in
	# with_pid NAME CMD...: note this process's pid in NAME.pid, then
	# become CMD (exec keeps the pid), so a test can signal one stage.
	cat >"$T/with_pid" <<'EOF'
#!/bin/sh
echo $$ >"$1.pid"
shift
exec "$@"
EOF
	chmod +x "$T/with_pid"
	PATH="$T:$PATH"
	BG= PG= MNT= SERVER=
}

teardown() {
	if [ -n "$PG" ]; then kill -KILL -- "-$PG" 2>/dev/null || true; fi
	if [ -n "$BG" ]; then wait "$BG" 2>/dev/null || true; fi
	if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; fi
	if [ -n "$MNT" ]; then umount "$MNT" 2>/dev/null || true; fi
	true
}

# start_pipeline CMD: run the shell pipeline CMD in a process group of its
# own, as a terminal runs a job; PG is the group, BG the shell's pid.  The
# shell survives ^C (its trap) and writes the stages' exit statuses to
# $T/rc when the pipeline ends.
start_pipeline() {
	rm -f "$T/rc" "$T/pg"
	setsid -w bash -c 'echo $$ >"$0/pg"; trap : INT TERM; '"$1"'
	    echo "${PIPESTATUS[*]}" >"$0/rc"' "$T" 3>&- &
	BG=$!
	wait_for test -s "$T/pg"
	PG=$(cat "$T/pg")
}

# end_pipeline: wait for the pipeline started last; its statuses in $rc.
end_pipeline() {
	wait "$BG" || true
	BG= PG=
	rc=$(cat "$T/rc")
}

pid_of() {
	cat "$T/$1.pid"
}

# gone PID: the process has exited (a zombie counts); alive PID: not.
gone() {
	[ ! -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}
alive() {
	! gone "$1"
}

# catches PID SIGNUM: PID has a handler for signal SIGNUM.
catches() {
	local cgt
	cgt=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status") || return 1
	[ -n "$cgt" ] && [ $((0x$cgt >> ($2 - 1) & 1)) -eq 1 ]
}

# blocked_writing PID: PID sleeps in a write to a full pipe.
blocked_writing() {
	grep -q pipe_write "/proc/$1/wchan" 2>/dev/null
}

# no_signal_pending PID: every signal sent to PID was delivered.
no_signal_pending() {
	[ "$(awk '/^(SigPnd|ShdPnd):/ { s = s $2 } END { print s }' \
	    "/proc/$1/status")" = 00000000000000000000000000000000 ]
}

# put FILE LINE...: make FILE appear in in/ at once (write, then rename).
put() {
	local f=$1
	shift
	printf '%s\n' "$@" >"in/.$f"
	mv "in/.$f" "in/$f"
}

last_of() {	# last_of DIR: the highest batch number in DIR
	ls "$1" | sort -n | tail -1
}

# newest_part DIR: the last batch's part file (names are zero-padded).
newest_part() {
	ls "$1"/part-* | sort | tail -1
}

# expected_counts: the word counts of every file in in/, as csv "w,n".
expected_counts() {
	cat in/* | tr ' ' '\n' | grep -v '^$' | sort | uniq -c |
	    awk '{ print $2 "," $1 }'
}

# small_fs DIR SIZE: mount a tmpfs of SIZE on DIR, or skip the test.
small_fs() {
	mkdir -p "$1"
	[ "$(id -u)" -eq 0 ] || skip "mounting a tmpfs needs root"
	mount -t tmpfs -o "size=$2" tmpfs "$1" 2>/dev/null ||
	    skip "mount -t tmpfs is not permitted here"
	MNT=$1
}

# fill DIR KB: fill DIR's file system so that about KB kilobytes are left.
fill() {
	local avail
	avail=$(df -k --output=avail "$1" | tail -1)
	[ "$avail" -gt "$2" ] || return 0
	dd if=/dev/zero of="$1/filler" bs=1k count=$((avail - $2)) \
	    2>/dev/null || true
}

# rss PID: resident memory of PID in kB (0 once it is gone).
rss() {
	ps -o rss= -p "$1" 2>/dev/null | tr -d ' ' || echo 0
}

# ---------------------------------------------------------------------
# Signals
# ---------------------------------------------------------------------

WC='ssplit 2>ssplit.err | scount 2>scount.err | ssink file:out --format csv 2>ssink.err'

# stop_and_resume HOW: a checkpointed word count runs from file:in while
# files arrive; HOW stops it (group: SIGINT to the process group, as ^C;
# ssrc: SIGTERM to ssrc alone).  Every stage must exit 0 with nothing on
# stderr, the last batch ssrc planned must be committed, and a resumed
# run must end with the same table as counting every file at once.
stop_and_resume() {
	put 0 "a b c" "b c" "c"
	# a batch a row: many small batches, each committed (fsync), so the
	# stop finds a backlog of batches in the pipes
	start_pipeline "with_pid ssrc ssrc file:in --checkpoint ck \
	    --max-batch-rows 1 2>ssrc.err | $WC"
	wait_for test -e ck/commits/0
	seq -f 'w%g a b' 1 3000 >in/.1
	mv in/.1 in/1
	wait_for test -e ck/offsets/300
	if [ "$1" = group ]; then
		kill -INT -- "-$PG"
	else
		kill -TERM "$(pid_of ssrc)"
	fi
	end_pipeline
	[ "$rc" = "0 0 0 0" ] || { cat ./*.err; false; }
	for e in ssrc ssplit scount ssink; do
		[ ! -s "$e.err" ] || { cat "$e.err"; false; }
	done
	[ "$(last_of ck/offsets)" = "$(last_of ck/commits)" ]
	ssrc file:in --checkpoint ck --trigger available-now 2>ssrc.err |
	    eval "$WC"
	sort "$(newest_part out)" >got
	expected_counts | sort | diff - got
}

@test "SIGINT to the process group (^C): each stage ends its batch, commits, exits 0" {
	stop_and_resume group
}

@test "SIGTERM to ssrc alone ends the query: every stage exits 0, the last batch committed" {
	stop_and_resume ssrc
}

@test "^C without a checkpoint: final end, every row read reaches the sink" {
	put 0 "a b c" "d e f"
	start_pipeline "ssrc file:in 2>ssrc.err | $WC --progress p.json"
	wait_for test -s p.json
	for i in 1 2 3 4 5; do
		put "$i" "w$i x y"
	done
	kill -INT -- "-$PG"
	end_pipeline
	[ "$rc" = "0 0 0 0" ]
	cat ./*.err >err
	[ ! -s err ] || { cat err; false; }
	# 3 words a line: the last table counts 3 x the rows ssrc read
	rows=$(jq -s 'map(.numInputRows) | add' p.json)
	total=$(awk -F, '{ n += $2 } END { print n }' "$(newest_part out)")
	[ "$total" -eq $((3 * rows)) ]
}

# second_signal NAME PIPELINE: NAME (a with_pid name in PIPELINE) blocks
# writing to a reader that never reads; one SIGTERM is taken and it goes
# on (it cannot finish its batch), a second one ends it at once.
second_signal() {
	local pid
	start_pipeline "$2 | with_pid reader sleep 300"
	wait_for test -s "$1.pid"
	pid=$(pid_of "$1")
	wait_for blocked_writing "$pid"
	kill -TERM "$pid"
	wait_for no_signal_pending "$pid"
	alive "$pid"
	kill -TERM "$pid"
	wait_for gone "$pid"
	kill "$(pid_of reader)"
	end_pipeline
}

@test "a second SIGTERM ends ssrc at once, even while it blocks on a full pipe" {
	second_signal ssrc "yes 'a b' | with_pid ssrc ssrc - 2>err"
	[ "$rc" = "141 143 143" ]
}

@test "a second SIGTERM ends ssplit at once" {
	second_signal ssplit "yes 'a b' | ssrc - | with_pid ssplit ssplit"
	[ "$(cut -d' ' -f3 <<<"$rc")" = 143 ]
}

@test "a second SIGTERM ends swindow at once" {
	second_signal swindow "yes 'a b' | ssrc - --include-timestamp |
	    with_pid swindow swindow --time timestamp --size 1s"
	[ "$(cut -d' ' -f3 <<<"$rc")" = 143 ]
}

@test "a second SIGTERM ends scount at once" {
	second_signal scount "ssrc rate:1000000 | with_pid scount scount"
	[ "$(cut -d' ' -f2 <<<"$rc")" = 143 ]
}

@test "a second SIGTERM ends ssink at once, even while it blocks on a full pipe" {
	second_signal ssink "yes 'a b' | ssrc - |
	    with_pid ssink ssink - --format csv"
	[ "$(cut -d' ' -f3 <<<"$rc")" = 143 ]
}

# Each stage in front of "head -1": the reader goes away, the stage ends
# quietly with status 0 (yes, not ours, dies of SIGPIPE: 141).
@test "SIGPIPE/EPIPE: '| head -1' ends each stage quietly with status 0" {
	local p
	for p in "ssrc -" \
	    "ssrc - | ssplit" \
	    "ssrc - --include-timestamp | swindow --time timestamp --size 1s" \
	    "ssrc - | ssplit | scount --mode update" \
	    "ssrc - | ssink - --format csv" \
	    "ssrc - | ssink"; do
		run --separate-stderr bash -c "yes 'a b' | $p | head -1 >/dev/null
		    echo \"\${PIPESTATUS[*]}\""
		[ "$status" -eq 0 ]
		[ -z "$stderr" ] || { echo "$p: $stderr"; false; }
		[[ $output =~ ^141(\ 0)+\ 0$ ]] || { echo "$p: $output"; false; }
	done
}

@test "EPIPE with a checkpoint: ssink commits nothing it could not write; a re-run outputs it" {
	start_pipeline "ssrc file:in --checkpoint ck 2>ssrc.err |
	    with_pid ssink ssink - --format csv 2>ssink.err |
	    { exec 0<&-; touch closed; exec sleep 300; }"
	wait_for test -e closed
	wait_for test -s ssink.pid
	put a "x" "y"
	wait_for gone "$(pid_of ssink)"
	kill -TERM -- "-$PG"
	end_pipeline
	[ "$rc" = "0 0 143" ]
	[ ! -s ssink.err ]
	[ ! -s ssrc.err ]
	[ -e ck/offsets/0 ]
	[ ! -e ck/commits/0 ]
	run bash -c "ssrc file:in --checkpoint ck --trigger available-now |
	    ssink - --format csv"
	assert_success
	assert_output $'value\nx\ny'
}

@test "SIGHUP: ssink keeps running and reopens --progress (logrotate)" {
	start_pipeline "ssrc file:in 2>ssrc.err |
	    with_pid ssink ssink file:out --format json --progress p.json 2>ssink.err"
	put a "one"
	wait_for test -s p.json
	mv p.json p.json.1
	kill -HUP "$(pid_of ssink)"
	put b "two"
	wait_for test -s p.json
	[ "$(jq -r .batchId p.json.1)" = 0 ]
	[ "$(jq -r .numInputRows p.json.1)" = 1 ]
	[ "$(jq -r .batchId p.json)" -gt 0 ]
	[ "$(jq -r .numInputRows p.json)" = 1 ]
	# other sinks are not killed by it either
	kill -INT -- "-$PG"
	end_pipeline
	[ "$rc" = "0 0" ]
	[ ! -s ssink.err ]
	printf '\\.h\tv:STRING\n' >frames
	for sink in console - "file:out2"; do
		start_pipeline "{ cat frames; exec sleep 300; } |
		    with_pid ssink ssink $sink 2>ssink.err >/dev/null"
		wait_for test -s ssink.pid
		wait_for catches "$(pid_of ssink)" 1
		kill -HUP "$(pid_of ssink)"
		wait_for no_signal_pending "$(pid_of ssink)"
		alive "$(pid_of ssink)"
		kill -KILL -- "-$PG"
		wait "$BG" || true
		BG= PG=
	done
}
