#!/usr/bin/env bats
# The kafka: source and sink end to end, on the mock cluster
# (build/tests/kafka_mock): records and options of ssrc kafka:, ssink
# kafka:, errors with the broker's reason, checkpoints across runs, exact
# replay, consumer groups and the two-tier scale-out of word counting.
#
# librdkafka 2.0.2's mock cluster does not hide aborted transactions from
# read_committed readers and does not store the batch ids a transaction
# commits (lib/kafka.h); the replay tests below show the sink's read-back
# making up for both (tests/crash-test.sh does it with kill -9).
load test_helper/common
bats_require_minimum_version 1.5.0

# Group members on the mock: it answers a join only after the rebalance
# delay, which these settings keep short (lib/kafka.h).
GROUP_X=(-X max.poll.interval.ms=3000 -X session.timeout.ms=3000
	-X heartbeat.interval.ms=100)

setup_file() {
	load test_helper/common
	local out="$BATS_FILE_TMPDIR/mock.out"
	kafka_mock basic:2 latest:1 spec:2 many:2 js:1 csv:1 hd:1 rt:1 kv:2 \
		big:1 cin:2 cout:2 ein:1 eout:2 rp:3 gin:4 lines:4 words:2 \
		--topic-error secret=TOPIC_AUTHORIZATION_FAILED \
		--topic-error missing=UNKNOWN_TOPIC_OR_PART \
		>"$out" 2>"$BATS_FILE_TMPDIR/mock.err" 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/mock.pid"
	wait_for test -s "$out"
}

teardown_file() {
	kill "$(cat "$BATS_FILE_TMPDIR/mock.pid")" 2>/dev/null || true
}

setup() {
	ADDR=$(head -n 1 "$BATS_FILE_TMPDIR/mock.out")
	cd "$BATS_TEST_TMPDIR"
}

# produce TOPIC [kcat options]: stdin's lines as messages.
produce() {
	local topic=$1
	shift
	kcat -b "$ADDR" -P -t "$topic" "$@"
}

# consume TOPIC [kcat options]: every message there now.
consume() {
	local topic=$1
	shift
	kcat -b "$ADDR" -C -t "$topic" -o beginning -e -q "$@"
}

# Every message of a topic: ssrc from the earliest offsets, to the end
# offsets seen at start.
read_all() {
	ssrc "kafka:$1" --bootstrap-servers "$ADDR" --starting-offsets earliest \
		--trigger available-now "${@:2}"
}

as_json() {
	read_all "$1" | ssink - --format json
}

@test "kafka: gives key, value, topic, partition, offset, timestamp" {
	printf 'k1:v1\nk2:v2\n' | produce basic -p 0 -K:
	printf 'v3\n' | produce basic -p 1
	run --separate-stderr as_json basic
	assert_success
	assert_equal "$stderr" ""
	json=$output
	run jq -c '[.key, .value, .topic, .partition, .offset]' <<<"$json"
	assert_line '["k1","v1","basic",0,0]'
	assert_line '["k2","v2","basic",0,1]'
	assert_line '[null,"v3","basic",1,0]'
	assert_equal "${#lines[@]}" 3
	# the message timestamps, ISO-8601 UTC with milliseconds
	run jq -r .timestamp <<<"$json"
	assert_line --index 0 --regexp '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$'
	# the header frame declares the types
	run --separate-stderr read_all basic
	assert_line --index 0 --partial $'\tkey:STRING\tvalue:STRING\ttopic:STRING\tpartition:INT\toffset:BIGINT\ttimestamp:TIMESTAMP'
}

@test "kafka: --starting-offsets latest (the default) with available-now reads nothing and ends" {
	printf 'old\n' | produce latest
	run --separate-stderr bash -c 'ssrc kafka:latest --bootstrap-servers "$1" \
		--trigger available-now | ssink - --format json' _ "$ADDR"
	assert_success
	assert_output ""
}

@test "kafka: --starting-offsets JSON picks the offset of each partition" {
	printf 'a0\nb0\nc0\n' | produce spec -p 0
	printf 'a1\nb1\n' | produce spec -p 1
	run --separate-stderr bash -c 'ssrc kafka:spec --bootstrap-servers "$1" \
		--starting-offsets "{\"spec\":{\"0\":2,\"1\":-2}}" \
		--trigger available-now | ssink - --format csv --no-header' _ "$ADDR"
	assert_success
	run cut -d, -f2,4,5 <<<"$output"
	assert_line 'c0,0,2'
	assert_line 'a1,1,0'
	assert_line 'b1,1,1'
	assert_equal "${#lines[@]}" 3
	# Spark's rule: every partition named
	run --separate-stderr ssrc kafka:spec --bootstrap-servers "$ADDR" \
		--starting-offsets '{"spec":{"0":0}}' --trigger available-now
	assert_failure 1
	assert_equal "$stderr" "ssrc: starting offsets: topic 'spec' partition 1 is missing (give every partition; -2 earliest, -1 latest)"
	# not JSON: a usage error
	run --separate-stderr ssrc kafka:spec --bootstrap-servers "$ADDR" \
		--starting-offsets '{"spec":'
	assert_failure 2
	[[ ${stderr_lines[0]} == "ssrc: --starting-offsets: '{\"spec\":': not valid JSON"* ]] ||
		fail "stderr: $stderr"
}

@test "kafka: --max-offsets-per-trigger caps each batch, as Spark's maxOffsetsPerTrigger" {
	seq 1 25 | produce many
	run --separate-stderr bash -c 'ssrc kafka:many --bootstrap-servers "$1" \
		--starting-offsets earliest --trigger available-now \
		--max-offsets-per-trigger 10 | grep -o "^\\\\\\.e	[0-9]*	ssrc.rows=[0-9]*"' _ "$ADDR"
	assert_success
	assert_output "$(printf '\\.e\t0\tssrc.rows=10\n\\.e\t1\tssrc.rows=10\n\\.e\t2\tssrc.rows=5')"
	# every message once
	run bash -c 'ssrc kafka:many --bootstrap-servers "$1" \
		--starting-offsets earliest --trigger available-now \
		--max-offsets-per-trigger 7 | ssink - --format csv --no-header |
		cut -d, -f2 | sort -n | uniq | wc -l' _ "$ADDR"
	assert_output 25
	run ssrc kafka:many --bootstrap-servers "$ADDR" --max-offsets-per-trigger 0
	assert_failure 2
}

@test "kafka: --format json parses the value; a bad value names topic, partition and offset" {
	printf '%s\n' '{"name":"a","age":3}' '{"name":"b","age":4}' | produce js -p 0
	run --separate-stderr bash -c 'ssrc kafka:js --bootstrap-servers "$1" \
		--starting-offsets earliest --trigger available-now --format json \
		--schema "name STRING, age INT" | ssink - --format csv' _ "$ADDR"
	assert_success
	assert_output "$(printf 'name,age\na,3\nb,4')"
	printf '%s\n' '{"name":"c","age":"x"}' | produce js -p 0
	run --separate-stderr ssrc kafka:js --bootstrap-servers "$ADDR" \
		--starting-offsets earliest --trigger available-now --format json \
		--schema 'name STRING, age INT'
	assert_failure 1
	assert_equal "$stderr" "ssrc: topic 'js' partition 0 offset 2: age: 'x' is not an INT"
	printf 'not json\n' | produce js -p 0
	run --separate-stderr ssrc kafka:js --bootstrap-servers "$ADDR" \
		--starting-offsets '{"js":{"0":3}}' --trigger available-now \
		--format json --schema 'name STRING, age INT'
	assert_failure 1
	assert_equal "${stderr%%: invalid JSON*}" "ssrc: topic 'js' partition 0 offset 3"
}

@test "kafka: --format csv parses the value with --schema" {
	printf 'x,1\n"y,z",2\n' | produce csv
	run --separate-stderr bash -c 'ssrc kafka:csv --bootstrap-servers "$1" \
		--starting-offsets earliest --trigger available-now --format csv \
		--schema "s STRING, n BIGINT" | ssink - --format json' _ "$ADDR"
	assert_success
	assert_output "$(printf '{"s":"x","n":1}\n{"s":"y,z","n":2}')"
}

@test "kafka: --include-headers adds the headers as a JSON array" {
	printf 'v\n' | produce hd -H a=1 -H b=x
	run --separate-stderr bash -c 'ssrc kafka:hd --bootstrap-servers "$1" \
		--starting-offsets earliest --trigger available-now --include-headers |
		ssink - --format json | jq -r .headers' _ "$ADDR"
	assert_success
	assert_output '[{"key":"a","value":"1"},{"key":"b","value":"x"}]'
	run --separate-stderr ssrc kafka:hd --bootstrap-servers "$ADDR" \
		--include-headers --format json --schema 'a INT'
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "ssrc: --include-headers is for --format text"
}

@test "kafka: an unreachable broker fails within --timeout with librdkafka's reason" {
	port=$(free_port)
	start=$SECONDS
	run --separate-stderr ssrc kafka:t --bootstrap-servers "127.0.0.1:$port" \
		--timeout 2s --trigger available-now
	assert_failure 1
	[ $((SECONDS - start)) -le 6 ] || fail "took $((SECONDS - start)) s"
	assert_equal "$stdout" ""
	[[ $stderr == "ssrc: no answer from '127.0.0.1:$port' within 2s: "*"Connection refused"* ]] ||
		fail "stderr: $stderr"
	start=$SECONDS
	run --separate-stderr bash -c 'echo x | ssrc - | ssink kafka:t \
		--bootstrap-servers "127.0.0.1:$1" --timeout 2s' _ "$port"
	assert_failure 1
	[ $((SECONDS - start)) -le 6 ] || fail "took $((SECONDS - start)) s"
	[[ $stderr == "ssink: no answer from '127.0.0.1:$port' within 2s: "*"Connection refused"* ]] ||
		fail "stderr: $stderr"
}

@test "kafka: a missing topic and a forbidden one are errors naming them" {
	run --separate-stderr ssrc kafka:missing --bootstrap-servers "$ADDR" \
		--trigger available-now
	assert_failure 1
	assert_equal "$stderr" "ssrc: topic 'missing' does not exist on '$ADDR'"
	run --separate-stderr ssrc kafka:secret --bootstrap-servers "$ADDR" \
		--trigger available-now
	assert_failure 1
	assert_equal "$stderr" "ssrc: topic 'secret' on '$ADDR': Broker: Topic authorization failed"
	run --separate-stderr bash -c 'echo x | ssrc - | ssink kafka:secret \
		--bootstrap-servers "$1"' _ "$ADDR"
	assert_failure 1
	assert_equal "$stderr" "ssink: topic 'secret' on '$ADDR': Broker: Topic authorization failed"
}

@test "kafka: a bad -X is a usage error with librdkafka's message; -X list lists" {
	run --separate-stderr ssrc kafka:t --bootstrap-servers "$ADDR" -X no.such=1
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "ssrc: -X 'no.such=1': No such configuration property: \"no.such\""
	run --separate-stderr ssrc kafka:t --bootstrap-servers "$ADDR" -X acks=banana
	assert_failure 2
	[[ ${stderr_lines[0]} == "ssrc: -X 'acks=banana': Invalid value"* ]] ||
		fail "stderr: $stderr"
	run --separate-stderr ssrc kafka:t -X novalue
	assert_failure 2
	# before reading any input
	run --separate-stderr ssink kafka:t --bootstrap-servers "$ADDR" \
		-X 'socket.timeout.ms=$(touch pwned)' </dev/null
	assert_failure 2
	assert_equal "$stderr" "ssink: -X 'socket.timeout.ms=\$(touch pwned)': Invalid value for configuration property \"socket.timeout.ms\""
	[ ! -e pwned ]
	run --separate-stderr ssink kafka:t -X list
	assert_success
	assert_output --partial 'bootstrap.servers'
	run --separate-stderr ssrc -X list
	assert_success
	assert_output --partial 'transactional.id'
	# the kafka options are the kafka sink's only
	run --separate-stderr ssink - --key x </dev/null
	assert_failure 2
	assert_equal "$stderr" "ssink: option '--key' does not apply to sink 'stdout'"
	run --separate-stderr ssink kafka:t </dev/null
	assert_failure 2
	assert_equal "$stderr" "ssink: no Kafka servers: give --bootstrap-servers HOST:PORT"
}

@test "ssink kafka: writes each record as a JSON object, read back with kcat" {
	run --separate-stderr bash -c 'printf "one\ntwo\ttab\n" | ssrc - |
		ssink kafka:rt --bootstrap-servers "$1"' _ "$ADDR"
	assert_success
	assert_equal "$stderr" ""
	run consume rt
	assert_output "$(printf '{"value":"one"}\n{"value":"two\\ttab"}')"
}

@test "ssink kafka: --key and --value pick fields; keys go to one partition each" {
	run --separate-stderr bash -c 'printf "a,1\nb,2\na,3\nc,\n" |
		ssrc - --format csv --schema "k STRING, v INT" |
		ssink kafka:kv --bootstrap-servers "$1" --key k --value v' _ "$ADDR"
	assert_success
	run consume kv -f '%k=%s\n'
	assert_line 'a=1'
	assert_line 'a=3'
	assert_line 'b=2'
	assert_equal "${#lines[@]}" 4
	# both a's in one partition, in order; a null value is a tombstone
	run consume kv -f '%k %p %s %S\n'
	a_parts=$(grep '^a ' <<<"$output" | cut -d' ' -f2 | sort -u | wc -l)
	assert_equal "$a_parts" 1
	assert_line --regexp '^c [01]  -1$'
	run --separate-stderr bash -c 'echo x | ssrc - | ssink kafka:kv \
		--bootstrap-servers "$1" --key nope' _ "$ADDR"
	assert_failure 2
	assert_equal "$stderr" "ssink: --key: no field 'nope' in the input (it has value)"
}

@test "ssink kafka: a message that cannot be delivered is an error with the reason" {
	run --separate-stderr bash -c 'head -c 3000 /dev/zero | tr "\0" a |
		ssrc - | ssink kafka:big --bootstrap-servers "$1" --value value \
		-X message.max.bytes=1000' _ "$ADDR"
	assert_failure 1
	assert_equal "$stderr" "ssink: topic 'big': cannot send a message: Broker: Message size too large"
}

# The word count of seed section 13 with the checkpoint ck, Kafka to
# Kafka: topic IN to OUT (cin to cout by default); OUT "-": no sink (a
# run that dies before its sink commits).
count_run() {
	local in=${1:-cin} out=${2:-cout}
	ssrc "kafka:$in" --bootstrap-servers "$ADDR" --starting-offsets earliest \
		--trigger available-now --checkpoint ck | ssplit |
		scount word --mode update |
		if [ "$out" = - ]; then
			cat >/dev/null
		else
			ssink "kafka:$out" --bootstrap-servers "$ADDR" --key word
		fi
}

@test "kafka -> ssplit -> scount -> kafka with a checkpoint: two runs, cumulative counts, no duplicates" {
	printf 'a b a\nc\n' | produce cin
	run --separate-stderr count_run
	assert_success
	printf 'a c\nd a\n' | produce cin
	run --separate-stderr count_run
	assert_success
	# nothing new: a third run writes nothing
	run --separate-stderr count_run
	assert_success
	run consume cout -f '%h|%s\n'
	msgs=$output
	# every message is tagged with its batch, run and query
	run grep -c 'runnel.batch=[0-9]*,runnel.run=[0-9a-f-]*,runnel.query=[0-9a-f-]*|' <<<"$msgs"
	assert_output 6
	# no message twice, and the last count of each word is its total
	run bash -c 'cut -d"|" -f2 <<<"$1" | sort | uniq -d' _ "$msgs"
	assert_output ""
	run bash -c 'cut -d"|" -f2 <<<"$1" | jq -r "\"\(.word) \(.count)\"" |
		awk "{c[\$1] = \$2} END {for (w in c) print w, c[w]}" | sort' _ "$msgs"
	assert_output "$(printf 'a 4\nb 1\nc 2\nd 1')"
}

# The query's id, from the checkpoint's metadata.
query_id() {
	sed -n 's/^id=//p' ck/metadata
}

# The values in eout, as a read_committed reader sees them, sorted.
committed_values() {
	consume eout -X isolation.level=read_committed -f '%s\n' | sort
}

@test "kafka sink: a replay after a crash sends only what the topic lacks, so each result is there once" {
	# run 1 commits batch 0 (a b a) and its final no-data batch
	printf 'a b a\n' | produce ein
	run --separate-stderr count_run ein eout
	assert_success
	# run 2 plans batch B (c a) and dies before its sink commits B; its
	# sink had sent one of B's two rows, {"word":"a","count":3}
	printf 'c a\n' | produce ein
	count_run ein -
	b=$(($(ls ck/commits | sort -n | tail -n 1) + 1))
	[ -e "ck/offsets/$b" ] && [ ! -e "ck/commits/$b" ]
	printf '{"word":"a","count":3}\n' | produce eout -k a -p 0 \
		-H "runnel.batch=$b" -H runnel.run=dead -H "runnel.query=$(query_id)"
	# run 3 replays B: it finds a's row and sends only c's
	run --separate-stderr count_run ein eout
	assert_success
	assert_equal "$stderr" "ssink: batch $b replayed: 1 of its 2 rows were in topic 'eout' already (an earlier run wrote them before it stopped); sent the other 1"
	want=$(printf '%s\n' '{"word":"a","count":2}' '{"word":"a","count":3}' \
		'{"word":"b","count":1}' '{"word":"c","count":1}')
	run committed_values
	assert_output "$want"
	# as if run 3 had died after its Kafka commit, before its
	# checkpoint's: run 4 replays B again and finds all of it
	rm "ck/commits/$b"
	rm -f "ck/commits/$((b + 1))" "ck/offsets/$((b + 1))"
	run --separate-stderr count_run ein eout
	assert_success
	assert_equal "$stderr" "ssink: batch $b replayed: 2 of its 2 rows were in topic 'eout' already (an earlier run wrote them before it stopped); sent the other 0"
	run committed_values
	assert_output "$want"
	# the commits record where the sink stood in eout, for the next replay
	run grep -h '^sink=' "ck/commits/$b"
	assert_output --regexp '^sink=\{"eout":\{"0":[0-9]+,"1":[0-9]+\}\}$'
	# a position past the end (the topic made anew since) reads nothing
	# there: the replay sends its batch whole
	printf 'd\n' | produce ein
	count_run ein -
	read -r rid c < <(ckpt_tool run ck)
	ckpt_tool commit ck "$rid" "$c" '{"eout":{"0":999999,"1":999999}}'
	run --separate-stderr count_run ein eout
	assert_success
	assert_equal "$stderr" ""
	run committed_values
	assert_output "$(printf '%s\n' "$want" '{"word":"d","count":1}' | sort)"
}

replay_run() {
	ssrc kafka:rp --bootstrap-servers "$ADDR" --starting-offsets earliest \
		--trigger available-now --max-offsets-per-trigger 5 --checkpoint ck |
		ssink - --format csv --no-header
}

@test "kafka: a replayed batch reads exactly its logged offsets" {
	seq 1 12 | produce rp
	replay_run >first.csv
	# as if the run had died after logging its last data batch D but
	# before committing it: offsets/D stays, the rest goes
	d=$(grep -l '^rows=[1-9]' ck/offsets/* | xargs -n 1 basename | sort -n |
		tail -n 1)
	rows=$(sed -n 's/^rows=//p' "ck/offsets/$d")
	for f in ck/commits/* ck/offsets/*; do
		[ "$(basename "$f")" -le "$d" ] || rm "$f"
	done
	rm -f "ck/commits/$d"
	[ -e "ck/offsets/$d" ]
	seq 13 20 | produce rp
	replay_run >second.csv
	# D's rows again, exactly (not the ones written since), then the new
	tail -n "$rows" first.csv | cut -d, -f2,4,5 | sort >want
	head -n "$rows" second.csv | cut -d, -f2,4,5 | sort >got
	run diff want got
	assert_success
	run bash -c 'tail -n +$(($1 + 1)) second.csv | cut -d, -f2 | sort -n |
		tr "\n" " "' _ "$rows"
	assert_output "13 14 15 16 17 18 19 20 "
}

@test "kafka: --group copies share the partitions and each ends with available-now" {
	seq 1 200 | produce gin
	for i in 1 2; do
		ssrc kafka:gin --bootstrap-servers "$ADDR" --group gg "${GROUP_X[@]}" \
			--starting-offsets earliest --trigger available-now |
			ssink - --format csv --no-header >"out$i.csv" 2>"err$i" &
	done
	status=0
	wait || status=$?
	assert_equal "$status" 0
	run cat err1 err2
	assert_output ""
	run bash -c 'cat out1.csv out2.csv | cut -d, -f2 | sort -n | uniq | wc -l'
	assert_output 200
	run bash -c 'cat out1.csv out2.csv | wc -l'
	assert_output 200
	# a later copy of the group starts at the committed offsets
	run --separate-stderr bash -c 'ssrc kafka:gin --bootstrap-servers "$1" \
		--group gg "${@:2}" --starting-offsets earliest \
		--trigger available-now | ssink - --format csv --no-header' \
		_ "$ADDR" "${GROUP_X[@]}"
	assert_success
	assert_output ""
	run --separate-stderr ssrc kafka:gin --bootstrap-servers "$ADDR" \
		--group gg --starting-offsets '{"gin":{"0":0}}'
	assert_failure 2
}

# tier1 I: a copy of the stateless tier, lines -> words by key.
tier1() {
	ssrc kafka:lines --bootstrap-servers "$ADDR" --group g1 "${GROUP_X[@]}" \
		--starting-offsets earliest --trigger available-now \
		--checkpoint "ck1-$1" |
		ssplit | ssink kafka:words --bootstrap-servers "$ADDR" --key word
}

# tier2 I: a copy of the aggregating tier, reading words.
tier2() {
	ssrc kafka:words --bootstrap-servers "$ADDR" --group g2 "${GROUP_X[@]}" \
		--starting-offsets earliest --trigger available-now \
		--format json --schema 'word STRING' |
		scount word --mode update | ssink - --format csv --no-header
}

@test "scale-out: two copies split lines into words by key, two copies count them, exactly" {
	awk 'BEGIN { srand(7); for (i = 0; i < 3000; i++) { n = 1 + int(rand() * 6);
		l = ""; for (j = 0; j < n; j++) l = l (j ? " " : "") "w" int(rand() * rand() * 60);
		print l } }' >input.txt
	produce lines <input.txt
	tr ' ' '\n' <input.txt | sort | uniq -c | awk '{ print $2 "," $1 }' |
		sort >want.csv
	for i in 1 2; do tier1 "$i" 2>"err1-$i" & done
	status=0
	wait || status=$?
	assert_equal "$status" 0
	run cat err1-1 err1-2
	assert_output ""
	# both copies took part
	for i in 1 2; do
		[ -n "$(ls "ck1-$i/commits")" ] || fail "copy $i committed nothing"
	done
	run bash -c 'kcat -b "$1" -C -t words -o beginning -e -q | wc -l' _ "$ADDR"
	assert_output "$(wc -w <input.txt | tr -d ' ')"
	for i in 1 2; do tier2 >"out2-$i.csv" 2>"err2-$i" & done
	status=0
	wait || status=$?
	assert_equal "$status" 0
	run cat err2-1 err2-2
	assert_output ""
	[ -s out2-1.csv ] && [ -s out2-2.csv ] || fail "a counting copy got no partition"
	# a word is counted in one copy only
	run bash -c 'cut -d, -f1 out2-1.csv | sort -u >w1; cut -d, -f1 out2-2.csv |
		sort -u >w2; comm -12 w1 w2'
	assert_output ""
	# the last count of each word over both outputs is exact
	cat out2-1.csv out2-2.csv |
		awk -F, '{ c[$1] = $2 } END { for (w in c) print w "," c[w] }' |
		sort >got.csv
	run diff want.csv got.csv
	assert_success
	# the first tier again: nothing new, nothing written twice
	for i in 1 2; do tier1 "$i" 2>>"err1-$i" & done
	wait
	run bash -c 'kcat -b "$1" -C -t words -o beginning -e -q | wc -l' _ "$ADDR"
	assert_output "$(wc -w <input.txt | tr -d ' ')"
}

@test "tests/demo-kafka.sh: seed section 13 on the mock, counts add up over runs" {
	run --separate-stderr sh "$RUNNEL_ROOT/tests/demo-kafka.sh" "$RUNNEL_BUILD"
	assert_success
	assert_equal "$stderr" ""
	the=$(tr -cs '[:alpha:]' '\n' <"$RUNNEL_ROOT/tests/fixtures/demo/tide-clock.txt" |
		tr '[:upper:]' '[:lower:]' | grep -cx the)
	# the most frequent word, after the second run and after the third
	assert_equal "$(grep -A1 '^== after the second run' <<<"$output" | tail -n 1)" "$the the"
	assert_equal "$(grep -A1 '^== after a third run' <<<"$output" | tail -n 1)" "$the the"
	# the third run wrote nothing
	run grep -o '^([0-9]* messages in counts)' <<<"$output"
	assert_equal "${lines[1]}" "${lines[2]}"
}
