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
	# small batches, each committed (fsync): ssrc runs ahead of the
	# sink, and the stop finds a backlog of batches in the pipes
	start_pipeline "with_pid ssrc ssrc file:in --checkpoint ck \
	    --max-batch-rows 10 2>ssrc.err | $WC"
	wait_for test -e ck/commits/0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		seq -f "w%g-$i a b" 1 100 >in/.$i
		mv in/.$i in/$i
	done
	wait_for test -e ck/offsets/40
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

@test "SIGTERM to ssink alone while batches keep coming: it stops after its drain, all exit 0" {
	# rate:1000 ends a batch every millisecond: ssink never sees half a
	# second without input, so it stops when its drain limit (10 s) is up
	start_pipeline "ssrc rate:1000 2>ssrc.err |
	    with_pid ssink ssink - --format csv >out 2>ssink.err"
	wait_for test -s out
	kill -TERM "$(pid_of ssink)"
	WAIT_SECONDS=30 wait_for gone "$(pid_of ssink)"
	end_pipeline
	[ "$rc" = "0 0" ]
	[ ! -s ssrc.err ]
	[ ! -s ssink.err ]
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
	wait_for no_signal_pending "$(pid_of ssink)"
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

# ---------------------------------------------------------------------
# I/O faults
# ---------------------------------------------------------------------

@test "a write error on stdout (>/dev/full): each stage says so and exits 1" {
	[ -w /dev/full ] || skip "no /dev/full"
	local p
	printf 'a b\nc d\n' >lines
	for p in "ssrc -" "ssplit" "swindow --time timestamp --size 1m" \
	    "scount" "ssink" "ssink - --format csv" "ssink - --format json" \
	    "ssink - --format tsv"; do
		run --separate-stderr bash -c "ssrc - --include-timestamp <lines |
		    $p >/dev/full; echo \"\${PIPESTATUS[*]}\""
		[ "$output" = "0 1" ] || { echo "$p: $output $stderr"; false; }
		[ "$stderr" = "${p%% *}: write error on stdout: No space left on device" ] ||
		    { echo "$p: $stderr"; false; }
	done
}

# lines N: N distinct csv-safe lines of about 60 bytes.
lines() {
	seq -f "line %08g of the input and some padding to fill the disk" 1 "$1"
}

@test "a full disk under the file sink: error naming the file, checkpoint intact, a re-run completes exactly once" {
	small_fs mnt 512k
	local i
	for i in 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16; do
		lines 1000 | sed "s/^/$i /" >"in/f$i"
	done
	run --separate-stderr bash -c 'ssrc file:in --checkpoint ck \
	    --trigger available-now --max-files-per-trigger 1 |
	    ssink file:mnt/out --format csv'
	[ "$status" -ne 0 ]
	[[ $stderr == *"ssink: cannot write 'mnt/out/part-"*".csv': No space left on device"* ]] ||
	    { echo "$stderr"; false; }
	good=$(last_of ck/commits)
	[ "$good" -ge 1 ]
	# nothing of a batch that was not committed is visible, and the
	# failed writer removed its temporary files
	[ "$(ls mnt/out/part-* | wc -l)" -eq $((good + 1)) ]
	[ -z "$(find mnt/out -name '.part-*.tmp-*')" ]
	# free space: the next run resumes after the last commit
	mount -o remount,size=16m mnt
	run bash -c 'ssrc file:in --checkpoint ck --trigger available-now \
	    --max-files-per-trigger 1 | ssink file:mnt/out --format csv'
	assert_success
	# the same files as one uninterrupted run, and each row once
	ssrc file:in --checkpoint ck2 --trigger available-now \
	    --max-files-per-trigger 1 | ssink file:ref --format csv
	[ "$(ls mnt/out/part-* | wc -l)" -eq "$(ls ref/part-* | wc -l)" ]
	cat mnt/out/part-* >got
	cat ref/part-* | diff - got
	cat in/* | sort | diff - <(sort got)
}

CK_WC='ssplit | scount | ssink file:out --format csv'

# ck_run: one cron run of a word count over in/ with its checkpoint on the
# small file system, a file a batch.
ck_run() {
	ssrc file:in --checkpoint mnt/ck --trigger available-now \
	    --max-files-per-trigger 1 | eval "$CK_WC"
}

# ck_reference: the same in one uninterrupted run; the last table in ref.
ck_reference() {
	ssrc file:in --checkpoint ck_ref --trigger available-now \
	    --max-files-per-trigger 1 | ssplit | scount |
	    ssink file:ref --format csv
}

# ck_resumes: a re-run succeeds, and its last table equals that of one
# uninterrupted run and the counts the input gives.
ck_resumes() {
	run ck_run
	assert_success
	ck_reference
	sort "$(newest_part out)" >got
	sort "$(newest_part ref)" | diff - got
	expected_counts | sort | diff - got
}

@test "a full disk under the checkpoint: error naming the file, last good checkpoint intact, resume equals an uninterrupted run" {
	small_fs mnt 512k
	local i
	for i in 1 2 3; do put "$i" "a b$i c" "b c$i"; done
	ck_run
	before=$(last_of mnt/ck/commits)
	tar -C mnt -cf good.tar ck
	fill mnt 24
	for i in 4 5 6 7 8; do put "$i" "a b$i d" "d e$i"; done
	run --separate-stderr ck_run
	[ "$status" -ne 0 ]
	[[ $stderr == *"cannot write '"*"mnt/ck/"*"': No space left on device"* ]] ||
	    { echo "$stderr"; false; }
	# every commit of the good run is still there, byte for byte
	mkdir good
	tar -C good -xf good.tar
	for f in $(cd good/ck/commits && ls); do
		cmp "good/ck/commits/$f" "mnt/ck/commits/$f"
	done
	[ "$(last_of mnt/ck/commits)" -ge "$before" ]
	rm mnt/filler
	ck_resumes
}

@test "a read-only checkpoint: error naming the path, nothing changed, a re-run once writable resumes" {
	small_fs mnt 4m
	local i
	for i in 1 2; do put "$i" "a b$i" "b c$i"; done
	ck_run
	(cd mnt && find ck -type f | sort | xargs md5sum) >before
	mount -o remount,ro mnt || skip "cannot remount the tmpfs read-only"
	put 3 "a b3" "c d"
	run --separate-stderr ck_run
	[ "$status" -ne 0 ]
	[[ $stderr == *"'mnt/ck/"*"': Read-only file system"* ]] ||
	    { echo "$stderr"; false; }
	(cd mnt && find ck -type f | sort | xargs md5sum) | diff before -
	mount -o remount,rw mnt
	ck_resumes
}

# bigline MB: a line of MB MiB of 'x' between two short lines.
bigline() {
	python3 -c 'import sys
w = sys.stdout.buffer
w.write(b"short\n")
chunk = b"x" * (1 << 20)
for _ in range('"$1"'):
    w.write(chunk)
w.write(b"\nafter\n")'
}

@test "a line over 100 MB: refused by default naming the line, in bounded memory" {
	run --separate-stderr bash -c "$(declare -f bigline)"'
	    bigline 1000 2>/dev/null | /usr/bin/time -f %M -o rss ssrc - >/dev/null'
	[ "$status" -eq 1 ]
	[ "$stderr" = "ssrc: stdin:2: line longer than 67108864 bytes (--max-record-size)" ]
	# the 1000 MiB line never lived in memory: --max-record-size bounds
	# it (a few times 64 MiB at most, with a sanitizer's quarantine)
	[ "$(tail -1 rss)" -lt $((300 * 1024)) ]
}

@test "a line over 100 MB with --max-record-size 200M: through every stage, intact" {
	bigline 150 >big
	run --separate-stderr bash -c 'ssrc - --max-record-size 200M <big |
	    ssplit | ssink - --format tsv --no-header | md5sum'
	assert_success
	[ -z "$stderr" ]
	[ "$output" = "$(tr -s '\n' <big | md5sum)" ]
}

@test "binary data: all 256 byte values through ssrc - | ssink - --format tsv and back" {
	python3 -c 'import sys
w = sys.stdout.buffer
w.write(bytes(b for b in range(256) if b != 10) + b"\n")
w.write(b"\r\\N\t\\\\\n\\N\n\x00\n\xff\xfe\r\n\r\r\n")' >bin
	ssrc - <bin | ssink - --format tsv --no-header >out.tsv
	python3 -c 'import sys
esc = {0x5c: bytes([0x5c]), ord("t"): b"\t", ord("n"): b"\n",
       ord("r"): b"\r", ord("0"): b"\0"}
def unescape(s):
    out, i = bytearray(), 0
    while i < len(s):
        if s[i] == 0x5c:
            out += esc[s[i + 1]]
            i += 2
        else:
            out.append(s[i])
            i += 1
    return bytes(out)
# a CRLF line end is a line end (ssrc(1)): its CR is not data
want = [l[:-1] if l.endswith(b"\r") else l
        for l in open("bin", "rb").read().split(b"\n")[:-1]]
got = [unescape(l) for l in open("out.tsv", "rb").read().split(b"\n")[:-1]]
assert got == want, (got, want)
assert len(want[0]) == 255'
}

# ---------------------------------------------------------------------
# Back-pressure and load
# ---------------------------------------------------------------------

# slow_reader FILE: read stdin 4 kB at a time with a pause after each, and
# keep the number of bytes read in FILE.
SLOW_READER='import os, sys, time
n = 0
while True:
    b = sys.stdin.buffer.read1(4096)
    if not b:
        break
    n += len(b)
    open(sys.argv[1] + ".tmp", "w").write("%d\n" % n)
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(0.005)'

# sample_rss LABEL COUNT NAME...: COUNT samples a quarter of a second
# apart of the resident memory of each stage NAME (a with_pid name),
# printed on the TAP stream, the largest in $max_rss (kB).
sample_rss() {
	local label=$1 count=$2 i name line r
	shift 2
	max_rss=0
	for ((i = 0; i < count; i++)); do
		line="# $label rss kB:"
		for name in "$@"; do
			r=$(rss "$(pid_of "$name")")
			line="$line $name=$r"
			[ "$r" -le "$max_rss" ] || max_rss=$r
		done
		echo "$line" >&3
		sleep 0.25
	done
}

# slow_sink NAMES PIPELINE: PIPELINE, its stages named with with_pid,
# feeds a reader that takes 4 kB every 5 ms.  Back-pressure must reach
# the source (it ends up blocked writing), and no stage may buffer what
# it cannot pass on: each stays under 50 MB.
slow_sink() {
	local names=$1
	start_pipeline "$2 | python3 -c '$SLOW_READER' got"
	for name in $names; do wait_for test -s "$name.pid"; done
	wait_for test -s got
	WAIT_SECONDS=20 wait_for blocked_writing "$(pid_of ssrc)"
	sample_rss "slow sink" 8 $names
	echo "# slow reader got $(cat got) bytes" >&3
	[ "$max_rss" -lt $((50 * 1024)) ]
	for name in $names; do alive "$(pid_of "$name")"; done
	kill -KILL -- "-$PG"
	end_pipeline || true
}

@test "back-pressure: a slow reader slows ssrc | ssplit | swindow | ssink in bounded memory" {
	slow_sink "ssrc ssplit swindow ssink" "yes 'the quick brown fox' |
	    with_pid ssrc ssrc - --include-timestamp | with_pid ssplit ssplit |
	    with_pid swindow swindow --time timestamp --size 1m |
	    with_pid ssink ssink - --format csv"
}

@test "back-pressure: a slow reader slows ssrc | ssplit | scount | ssink in bounded memory" {
	slow_sink "ssrc ssplit scount ssink" "yes 'the quick brown fox' |
	    with_pid ssrc ssrc - | with_pid ssplit ssplit |
	    with_pid scount scount --mode update |
	    with_pid ssink ssink - --format json"
}

# A server that sends RATE numbered lines a second for SECONDS to the
# first client, then closes; it notes its port in $1 and the lines sent
# in $2.
LINE_SERVER='import socket, sys, time
rate, seconds = int(sys.argv[3]), float(sys.argv[4])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(1)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.getsockname()[1])
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
c, _ = s.accept()
sent, start = 0, time.monotonic()
total = int(rate * seconds)
while sent < total:
    due = min(total, int(rate * (time.monotonic() - start)) + 1)
    if due > sent:
        c.sendall(b"".join(b"w%d\n" % i for i in range(sent, due)))
        sent = due
    else:
        time.sleep(0.005)
c.close()
open(sys.argv[2], "w").write("%d\n" % sent)'

@test "load: a socket source at 100k lines/s neither drops a line nor grows (LOAD_SECONDS, default 5)" {
	local seconds=${LOAD_SECONDS:-5} samples port
	python3 -c "$LINE_SERVER" port sent 100000 "$seconds" 3>&- &
	SERVER=$!
	wait_for test -s port
	port=$(cat port)
	start_pipeline "with_pid ssrc ssrc socket:127.0.0.1:$port 2>ssrc.err |
	    with_pid ssplit ssplit 2>ssplit.err |
	    with_pid ssink ssink - --format tsv --no-header 2>ssink.err | wc -l >count"
	for name in ssrc ssplit ssink; do wait_for test -s "$name.pid"; done
	# a sample a second while the server sends; the first after warm-up
	samples=()
	SECONDS=0
	while [ ! -s sent ] && [ "$SECONDS" -lt $((seconds * 3 + 10)) ]; do
		line=""
		for name in ssrc ssplit ssink; do
			line="$line $name=$(rss "$(pid_of "$name")")"
		done
		samples+=("$line")
		echo "# load t=${SECONDS}s rss kB:$line" >&3
		sleep 1
	done
	WAIT_SECONDS=$((seconds * 3 + 10)) wait_for test -s sent
	end_pipeline
	[ "$rc" = "0 0 0 0" ] || { echo "$rc"; cat ./*.err; false; }
	echo "# load: sent $(cat sent) lines, $(cat count) out" >&3
	[ "$(cat count)" -eq "$(cat sent)" ]
	[ "$(cat sent)" -eq $((100000 * seconds)) ]
	# memory: bounded, and flat after the first second
	local first last max=0 name v
	for line in "${samples[@]}"; do
		for v in $line; do
			v=${v#*=}
			[ "$v" -le "$max" ] || max=$v
		done
	done
	[ "$max" -lt $((50 * 1024)) ]
	if [ "${#samples[@]}" -ge 3 ]; then
		first=$(awk '{ s = 0; for (i = 1; i <= NF; i++) { split($i, a, "="); s += a[2] } print s }' <<<"${samples[1]}")
		last=$(awk '{ s = 0; for (i = 1; i <= NF; i++) { split($i, a, "="); s += a[2] } print s }' <<<"${samples[-1]}")
		[ $((last - first)) -lt $((10 * 1024)) ] ||
		    { echo "grew from $first to $last kB"; false; }
	fi
}

# ---------------------------------------------------------------------
# Security basics
# ---------------------------------------------------------------------

@test "file sink: partition values cannot climb out of DIR" {
	mkdir -p a outside
	printf '\\.h\t@query=q1\tword:STRING\tn:BIGINT\n../../outside\t1\n/etc\t2\n..\t3\n.\t4\na/../../b\t5\n\\N\t6\n\\.e\t0\n\\.x\tfinal\n' >frames
	find . | sort >before
	ssink file:a/out --partition-by word <frames
	# everything written is inside a/out; one directory a value
	find . | sort >after
	# (find | sort >before races with the creation of before and after)
	[ -z "$(comm -13 before after | grep -v -e '^\./a/out$' -e '^\./a/out/' \
	    -e '^\./after$' -e '^\./before$')" ]
	[ -z "$(ls -A outside)" ]
	[ "$(find a/out -mindepth 1 -maxdepth 1 -type d -name 'word=*' | wc -l)" -eq 6 ]
	[ "$(find a/out -name 'part-*' | wc -l)" -eq 6 ]
}

@test "file sink: symlinks planted in DIR (a partition, the manifest directory) are not followed" {
	mkdir -p outside out out2
	ln -s "$T/outside" out/word=b
	printf '\\.h\t@query=q1\tword:STRING\tn:BIGINT\na\t1\nb\t2\n\\.e\t0\n\\.x\tfinal\n' >frames
	run --separate-stderr ssink file:out --partition-by word <frames
	[ "$status" -eq 1 ]
	[ "$stderr" = "ssink: cannot create directory 'out/word=b': a symbolic link is there (refusing to follow it)" ]
	ln -s "$T/outside" out2/_runnel_metadata
	run --separate-stderr ssink file:out2 --partition-by word <frames
	[ "$status" -eq 1 ]
	[ "$stderr" = "ssink: cannot use directory 'out2/_runnel_metadata': a symbolic link is there (refusing to follow it)" ]
	[ -z "$(ls -A outside)" ]
	# none of the batch is visible
	[ -z "$(find out -name 'part-*')" ]
}

# umask_run MASK: a checkpointed word count to a file sink with progress,
# under umask MASK, in its own directory MASK/.
umask_run() {
	mkdir "$1"
	cp -r in "$1/"
	(cd "$1" && umask "$1" &&
	    ssrc file:in --checkpoint ck --trigger available-now | ssplit |
	    scount | ssink file:out --format csv --progress p.json)
}

@test "checkpoint, output and progress files are created with the umask (077: 600, 700)" {
	put 1 "a b" "b c"
	umask_run 077
	[ -n "$(find 077/ck 077/out -type f)" ]
	[ -z "$(find 077/ck 077/out 077/p.json -type f ! -perm 600)" ]
	[ -z "$(find 077/ck 077/out -type d ! -perm 700)" ]
	umask_run 022
	[ -z "$(find 022/ck 022/out 022/p.json -type f ! -perm 644)" ]
	[ -z "$(find 022/ck 022/out -type d ! -perm 755)" ]
}

# plant CMD...: a wrapper that, before it becomes CMD (same pid), places
# symlinks into outside/ at the temp names CMD's writes may take
# (".NAME.tmp-PID-SEQ", atomicfile.h) in every checkpoint and output
# directory, for the names in the file "names".
PLANT='import os, sys
names = open("names").read().split()
dirs = ["ck", "ck/offsets", "ck/commits", "ck/sources/file",
        "ck/state/scount", "out", "out/_runnel_metadata"]
for d in dirs:
    for n in names:
        for seq in range(10):
            os.symlink("%s/outside/%s-%s-%d" % (os.getcwd(), d.replace("/", "_"), n, seq),
                       "%s/.%s.tmp-%d-%d" % (d, n, os.getpid(), seq))
os.execvp(sys.argv[1], sys.argv[1:])'

@test "symlinks planted at temp names are never written through" {
	put 1 "a b" "b c"
	ssrc file:in --checkpoint ck --trigger available-now | ssplit | scount |
	    ssink file:out --format csv
	mkdir outside
	qid=$(ls out/_runnel_metadata | grep -v '^\.' | head -1 | sed 's/-[0-9]*$//')
	{
		echo metadata journal
		for n in 0 1 2 3 4 5; do
			echo "$n part-0000$n-$qid.csv $qid-0000$n"
		done
	} >names
	put 2 "c d"
	run --separate-stderr bash -c "python3 -c '$PLANT' ssrc file:in \
	    --checkpoint ck --trigger available-now | ssplit |
	    python3 -c '$PLANT' scount |
	    python3 -c '$PLANT' ssink file:out --format csv"
	assert_success
	[ -z "$stderr" ]
	# planted and skipped: nothing was created through them
	[ "$(find ck out -name '.*.tmp-*' -type l | wc -l)" -gt 0 ]
	[ -z "$(ls -A outside)" ]
	sort "$(newest_part out)" >got
	expected_counts | sort | diff - got
}

@test "a symlink planted at a checkpoint file read on restart is refused, not followed" {
	put 1 "a b"
	ssrc file:in --checkpoint ck --trigger available-now | ssplit | scount |
	    ssink - >/dev/null
	mkdir outside
	last=$(last_of ck/offsets)
	mv "ck/offsets/$last" outside/
	ln -s "$T/outside/$last" "ck/offsets/$last"
	put 2 "c"
	run --separate-stderr ssrc file:in --checkpoint ck --trigger available-now
	[ "$status" -eq 1 ]
	[ "$stderr" = "ssrc: checkpoint: 'ck/offsets/$last': is a symbolic link (refusing to follow it)" ]
	rm "ck/offsets/$last"
	mv "outside/$last" ck/offsets/
	# the source's journal
	mv ck/sources/file/journal outside/
	ln -s "$T/outside/journal" ck/sources/file/journal
	run --separate-stderr ssrc file:in --checkpoint ck --trigger available-now
	[ "$status" -eq 1 ]
	[ "$stderr" = "ssrc: checkpoint: 'ck/sources/file/journal': is a symbolic link (refusing to follow it)" ]
}

@test "-X values never reach a shell" {
	run --separate-stderr timeout 60 ssrc kafka:t \
	    --bootstrap-servers 127.0.0.1:1 --timeout 1s \
	    --trigger available-now -X 'client.id=$(touch pwned1)' \
	    -X 'client.rack=`touch pwned2`;touch pwned3 #'
	[ "$status" -ne 0 ]
	[ -z "$(ls pwned* 2>/dev/null)" ]
	ssink --help | grep -q -- '\[-X ' || return 0	# no kafka sink yet
	printf '\\.h\tv:STRING\na\n\\.e\t0\n\\.x\tfinal\n' >frames
	run --separate-stderr timeout 60 ssink kafka:t \
	    --bootstrap-servers 127.0.0.1:1 --timeout 1s \
	    -X 'client.id=$(touch pwned4)' \
	    -X 'client.rack=`touch pwned5`;touch pwned6 #' <frames
	[ "$status" -ne 0 ]
	[ -z "$(ls pwned* 2>/dev/null)" ]
}
