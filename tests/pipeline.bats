#!/usr/bin/env bats
# End to end: the seed's socket word count against a real TCP peer.

load test_helper/common

setup() {
	TMP="$(mktemp -d)"
}

teardown() {
	[ -n "${PEER_PID:-}" ] && kill "$PEER_PID" 2>/dev/null || true
	rm -rf "$TMP"
}

# serve_lines PORT FILE: accept one connection on 127.0.0.1:PORT, send FILE,
# close.  Prints nothing; started in the background.
serve_lines() {
	python3 - "$1" "$2" <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
open(sys.argv[2] + ".ready", "w").close()
c, _ = s.accept(); c.sendall(open(sys.argv[2], "rb").read()); c.close(); s.close()
PY
	PEER_PID=$!
	wait_for test -e "$2.ready"
}

@test "socket word count: ssrc socket:PORT | ssplit | scount | ssink prints Spark's table" {
	port=$(free_port)
	printf 'apache spark\napache hadoop\nspark streaming spark\n' >"$TMP/lines"
	serve_lines "$port" "$TMP/lines"
	run bash -c "ssrc socket:$port | ssplit | scount | ssink"
	assert_success
	# The peer sends everything at once and closes: counts are final in
	# the last batch shown.
	last=$(printf '%s\n' "$output" | awk '/^Batch: /{b=""} {b=b $0 "\n"} END{printf "%s", b}')
	expected='Batch: N
-------------------------------------------
+---------+-----+
|     word|count|
+---------+-----+
|   apache|    2|
|    spark|    3|
|   hadoop|    1|
|streaming|    1|
+---------+-----+'
	[ "$(printf '%s' "$last" | sed 's/^Batch: [0-9]*/Batch: N/')" = "$expected" ] || {
		echo "got:"; printf '%s\n' "$output"; false; }
}

@test "socket word count with nc -l as the peer, complete mode to csv" {
	command -v nc >/dev/null || skip "nc missing"
	port=$(free_port)
	printf 'a b a\nc a\n' >"$TMP/in"
	# nc sends the file to the one client it accepts, then shuts the
	# connection down (-N), which is the end of ssrc's input.
	nc -N -l 127.0.0.1 "$port" <"$TMP/in" >/dev/null 3>&- &
	PEER_PID=$!
	wait_for sh -c "ss -ltn | grep -q '127.0.0.1:$port '"
	run bash -c "ssrc socket:127.0.0.1:$port | ssplit | scount --mode complete | ssink - --format csv"
	assert_success
	# complete mode, header once: the last three lines are the final table
	final=$(printf '%s\n' "$output" | tail -n 3 | sort)
	[ "$final" = "$(printf 'a,3\nb,1\nc,1')" ] || { echo "$output"; false; }
	assert_line --index 0 "word,count"
}

@test "stdin word count matches sort | uniq -c on a larger text" {
	awk 'BEGIN{srand(7); for(i=0;i<20000;i++){l=""; for(j=0;j<8;j++) l=l " w" int(rand()*rand()*500); print l}}' >"$TMP/text"
	ssrc - <"$TMP/text" | ssplit | scount --mode complete | ssink - --format csv --no-header >"$TMP/out"
	# complete mode prints the whole table each batch; the last
	# table is the answer: take the last row seen for each word.
	awk -F, '{c[$1]=$2} END{for(w in c) print w, c[w]}' "$TMP/out" | sort >"$TMP/got"
	tr -s ' ' '\n' <"$TMP/text" | grep -v '^$' | sort | uniq -c | awk '{print $2, $1}' | sort >"$TMP/want"
	diff "$TMP/want" "$TMP/got"
}

@test "at a terminal, the last stage shows Spark's table by itself" {
	command -v script >/dev/null || skip "script(1) missing"
	printf 'a b a\n' >"$TMP/in"
	run script -qec "ssrc - <$TMP/in | ssplit | scount" /dev/null
	assert_success
	assert_output --partial "Batch: 0"
	assert_output --partial "|   a|    2|"
	refute_output --partial '\.h'
	# RUNNEL_FRAMES=1 keeps the frames, for debugging
	run script -qec "export RUNNEL_FRAMES=1; ssrc - <$TMP/in | ssplit | scount" /dev/null
	assert_output --partial '\.h'
}

@test "a bad option is reported under the command's own name, exit 2" {
	for cmd in ssrc ssplit swindow scount ssink; do
		run --separate-stderr "$RUNNEL_BUILD/bin/$cmd" --bogus
		[ "$status" -eq 2 ] || fail "$cmd: status $status"
		[[ "$stderr" == "$cmd: "* ]] || fail "$cmd: stderr '$stderr'"
	done
}
