#!/usr/bin/env bats
# The documentation keeps its promises: man pages lint clean, each
# command's --help is its man page's SYNOPSIS, every ssrc/ssink option of
# the user contract (CLI.md) is documented and accepted, the README shows
# how to start, `make install` installs commands and pages, the pages'
# examples hold, and the demo runs.
# Every check loops over what exists (man/*, cmd/*.c), so a new command is
# covered without editing this file.

load test_helper/common
bats_require_minimum_version 1.5.0

setup() {
	cd "$RUNNEL_ROOT"
}

# synopsis_of PAGE: the SYNOPSIS section as mandoc renders it, one line
# (no wrapping at width 1000; col -b strips overstrike bold).
synopsis_of() {
	mandoc -Tascii -Owidth=1000 "$1" | col -b |
	    awk '/^[A-Z]/ { in_syn = ($0 == "SYNOPSIS"); next } in_syn' |
	    tr -s ' \t\n' ' ' | sed 's/^ //; s/ $//'
}

# usage_of CMD: CMD --help without "usage:", one line.
usage_of() {
	"$1" --help | sed 's/^usage://' | tr -s ' \t\n' ' ' | sed 's/^ //; s/ $//'
}

nospace() {
	printf '%s' "$1" | tr -d ' '
}

@test "every man page is mandoc -Tlint -Wwarning clean" {
	pages=(man/*.[157])
	[ -e "${pages[0]}" ] || fail "no man pages in man/"
	bad=""
	for page in "${pages[@]}"; do
		out=$(mandoc -Tlint -Wwarning "$page" 2>&1) && [ -z "$out" ] ||
		    bad+="$out"$'\n'
	done
	[ -z "$bad" ] || fail "lint: $bad"
}

@test "every man page has the literal date, NAME, DESCRIPTION, SEE ALSO and STANDARDS or HISTORY" {
	bad=""
	for page in man/*.[157]; do
		grep -qx '\.Dd November 30, 2026' "$page" || bad+="$page: .Dd"$'\n'
		for sh in NAME DESCRIPTION 'SEE ALSO'; do
			grep -qx "\.Sh $sh" "$page" || bad+="$page: no $sh"$'\n'
		done
		grep -qEx '\.Sh (STANDARDS|HISTORY)' "$page" ||
		    bad+="$page: no STANDARDS or HISTORY"$'\n'
	done
	[ -z "$bad" ] || fail "$bad"
}

@test "cross-references to runnel's own pages point at pages that exist" {
	bad=""
	while read -r page name sec; do
		[ -e "man/$name.$sec" ] || bad+="$page: .Xr $name $sec"$'\n'
	done < <(awk '$1 == ".Xr" && $2 ~ /^(runnel|ss[a-z]*|sw[a-z]*|sc[a-z]*)$/ {
		print FILENAME, $2, $3 }' man/*.[157] | sort -u)
	[ -z "$bad" ] || fail "missing pages: $bad"
}

@test "runnel(5) and runnel(7) exist, with the right section" {
	grep -qx '\.Dt RUNNEL 5' man/runnel.5
	grep -qx '\.Dt RUNNEL 7' man/runnel.7
}

@test "every command has a man page and every section 1 page a command" {
	bad=""
	for src in cmd/*.c; do
		[ -e "$src" ] || continue
		name=$(basename "$src" .c)
		[ -e "man/$name.1" ] || bad+="$src has no man/$name.1"$'\n'
	done
	for page in man/*.1; do
		[ -e "$page" ] || continue
		name=$(basename "$page" .1)
		[ -e "cmd/$name.c" ] || bad+="$page has no cmd/$name.c"$'\n'
	done
	[ -z "$bad" ] || fail "$bad"
}

@test "each command's --help prints its man page's SYNOPSIS, on stdout, exit 0" {
	bad=""
	n=0
	for page in man/*.1; do
		[ -e "$page" ] || continue
		name=$(basename "$page" .1)
		bin="$RUNNEL_BUILD/bin/$name"
		if [ ! -x "$bin" ]; then
			bad+="$name: $bin not built"$'\n'
			continue
		fi
		run --separate-stderr "$bin" --help
		if [ "$status" -ne 0 ] || [ -n "$stderr" ]; then
			bad+="$name --help: status $status, stderr '$stderr'"$'\n'
			continue
		fi
		man=$(synopsis_of "$page")
		help=$(usage_of "$bin")
		# Whitespace is layout: mandoc puts spaces around '|' and wraps
		# lines, a usage() string may align continuation lines.
		if [ "$(nospace "$man")" != "$(nospace "$help")" ]; then
			bad+="$name:"$'\n'"  man:  $man"$'\n'"  help: $help"$'\n'
		fi
		n=$((n + 1))
	done
	[ -z "$bad" ] || fail "SYNOPSIS and --help differ:"$'\n'"$bad"
	[ "$n" -gt 0 ] || skip "no section 1 pages yet"
}

@test "each command's --version names the command and runnel" {
	for page in man/*.1; do
		[ -e "$page" ] || continue
		name=$(basename "$page" .1)
		run "$RUNNEL_BUILD/bin/$name" --version
		assert_success
		assert_output --regexp "^$name \(runnel\) [0-9]+\.[0-9]+"
	done
}

@test "README shows make demo and make check, and its links resolve" {
	grep -q 'make demo' README.md
	grep -q 'make check' README.md
	grep -q 'make install PREFIX=' README.md
	bad=""
	for link in $(grep -o '](man/[^)]*)' README.md | sed 's/^](//; s/)$//' | sort -u); do
		[ -e "$link" ] || bad+="$link "
	done
	[ -z "$bad" ] || fail "README links to missing files: $bad"
}

@test "make install DESTDIR=... PREFIX=/usr installs bin/* and man1, man5, man7" {
	dest="$BATS_TEST_TMPDIR/dest"
	old=()	# never rebuild here: the binaries under test are installed
	for src in cmd/*.c; do
		[ -e "$src" ] && old+=(-o "$RUNNEL_BUILD/bin/$(basename "$src" .c)")
	done
	run make --no-print-directory -C "$RUNNEL_ROOT" "${old[@]}" install \
	    DESTDIR="$dest" PREFIX=/usr BUILD="$RUNNEL_BUILD"
	assert_success
	for src in cmd/*.c; do
		[ -e "$src" ] || continue
		name=$(basename "$src" .c)
		[ -x "$dest/usr/bin/$name" ] || fail "$name not installed"
		"$dest/usr/bin/$name" --version >/dev/null ||
		    fail "installed $name does not run"
	done
	for page in man/*.[157]; do
		sec=${page##*.}
		cmp "$page" "$dest/usr/share/man/man$sec/$(basename "$page")" ||
		    fail "$page not installed in man$sec"
	done
	[ -e "$dest/usr/share/man/man5/runnel.5" ]
	[ -e "$dest/usr/share/man/man7/runnel.7" ]
	# Nothing outside DESTDIR/PREFIX.
	[ -z "$(find "$dest" -mindepth 1 -maxdepth 1 ! -name usr)" ]
}

# --- CLI.md's options exist -----------------------------------------------

# The user contract (/work/shared/CLI.md, beside the repository); RUNNEL_CLI
# names another copy.
cli_md() {
	printf '%s\n' "${RUNNEL_CLI:-$RUNNEL_ROOT/../shared/CLI.md}"
}

# cli_options CMD: the options CLI.md names in CMD's section ("## CMD ..."),
# one a line: --long-name, or -X for a short option written as `-X ...`.
cli_options() {
	awk -v cmd="$1" '/^## / { in_cmd = ($2 == cmd); next } in_cmd' "$(cli_md)" |
	    grep -oE '(^|[^[:alnum:]-])--[a-z][a-z0-9-]*[a-z0-9]|`-[A-Za-z][ `]' |
	    sed -E 's/^[^-]*//; s/[ `]$//' | sort -u
}

# unknown_option CMD OPT: true when CMD says it does not know OPT.  OPT is
# the last argument, so an option that takes a value complains about the
# missing value instead (it was recognized); one that takes none runs on
# an empty stdin and ends at once.  ssrc gets SOURCE "-" first.
unknown_option() {
	local operand=()
	[ "$1" = ssrc ] && operand=(-)
	timeout 10 "$RUNNEL_BUILD/bin/$1" "${operand[@]}" "$2" </dev/null 2>&1 >/dev/null |
	    grep -qiE '(unrecognized|unknown|invalid|ambiguous) option|not recognized'
}

# man_mentions PAGE OPT: the rendered page names OPT as a whole word.
man_mentions() {
	mandoc -Tascii "$1" | col -b |
	    grep -qE -- "(^|[^[:alnum:]-])$2([^[:alnum:]-]|\$)"
}

# Options CLI.md promises that are not built yet (reported to the lead).
# Remove an entry when it lands; the test then holds it to the contract.
PENDING_OPTIONS="
"

@test "every ssrc and ssink option in CLI.md is in the man page and known to the command" {
	[ -r "$(cli_md)" ] || skip "no CLI.md at $(cli_md) (set RUNNEL_CLI)"
	bad="" pending="" n=0
	for cmd in ssrc ssink; do
		# The detection works: a made-up option is reported as unknown.
		unknown_option "$cmd" --runnel-no-such-option ||
		    fail "$cmd: an unknown long option is not reported as such"
		unknown_option "$cmd" -Q ||
		    fail "$cmd: an unknown short option is not reported as such"
		opts=$(cli_options "$cmd")
		[ -n "$opts" ] || fail "no options found for $cmd in $(cli_md)"
		for opt in $opts; do
			n=$((n + 1))
			why=""
			man_mentions "man/$cmd.1" "$opt" ||
			    why+=" not in man/$cmd.1;"
			if unknown_option "$cmd" "$opt"; then
				why+=" '$cmd $opt' is an unknown option;"
			elif [[ $opt == --* ]] &&
			    ! grep -qF "\"${opt#--}\"" "cmd/$cmd.c" lib/*.c; then
				# getopt_long takes a unique prefix: the name
				# must be the option's own, not a longer one's.
				why+=" no option named exactly '${opt#--}' in the source;"
			fi
			[ -n "$why" ] || continue
			if grep -qx "$cmd $opt" <<<"$PENDING_OPTIONS"; then
				pending+=" $cmd $opt,"
			else
				bad+="$cmd $opt:$why"$'\n'
			fi
		done
	done
	[ -z "$bad" ] || fail "options of CLI.md:"$'\n'"$bad"
	[ "$n" -ge 10 ] || fail "only $n options found in $(cli_md)"
	[ -z "$pending" ] || skip "not built yet:${pending%,}"
}

# --- The examples in the pages hold -------------------------------------

# Frame taps (runnel(5)): rows ssrc read, epochs, late rows dropped.
sum_item() {	# sum_item KEY FILE
	awk -F'\t' -v key="$1=" '/^\\\.e\t/ {
		for (i = 3; i <= NF; i++)
			if (index($i, key) == 1)
				n += substr($i, length(key) + 1)
	} END { print n + 0 }' "$2"
}
epochs() {
	awk '/^\\\.e\t/ { n++ } END { print n + 0 }' "$1"
}
last_is_nodata() {
	awk '/^\\\.e\t/ { last = $0 } END { exit !(last ~ /\tnodata=1(\t|$)/) }' "$1"
}
# settled ROWS: ssrc has read ROWS rows, found its input dry (a no-data
# batch last), and scount has finished every batch ssrc cut.
settled() {
	[ "$(sum_item ssrc.rows src)" -ge "$1" ] && last_is_nodata src &&
	    [ "$(epochs counted)" -eq "$(epochs src)" ]
}
# burst LINE...: write the lines to the query's input in one write(2).
burst() {
	printf '%s\n' "$@" >burst.tmp
	cat burst.tmp >&4
	sent=$((sent + $#))
	wait_for settled "$sent"
}
# The data lines scount has emitted so far, timestamps as HH:MM.
emitted() {
	awk -F'\t' '!/^\\\./ {
		printf "%s-%s %s %s\n", hm($1), hm($2), $3, $4 }
	function hm(us,  m) { m = int(us / 60000000) % 1440
		return sprintf("%02d:%02d", int(m / 60), m % 60) }' counted | sort
}

@test "runnel(7): the watermark example (dog, owl, cat, donkey) holds" {
	cd "$BATS_TEST_TMPDIR"
	mkfifo in
	: >src
	: >counted
	{ ssrc - --format csv --schema 'word STRING, time TIMESTAMP' <in |
	    tee src |
	    swindow --time time --size 10m --slide 5m --watermark 10m |
	    scount --mode append | tee counted | ssink - --format csv >out; } 3>&- &
	sink=$!
	exec 4>in
	sent=0
	d=2026-11-24T
	burst "dog,${d}12:07:00Z" "owl,${d}12:08:00Z"
	burst "dog,${d}12:14:00Z"
	[ -z "$(emitted)" ] || fail "emitted before the watermark passed 12:10: $(emitted)"
	burst "cat,${d}12:09:00Z" "owl,${d}12:21:00Z"
	# The watermark is 12:11: [12:00, 12:10) is final, with the late cat.
	run emitted
	assert_output "12:00-12:10 cat 1
12:00-12:10 dog 1
12:00-12:10 owl 1"
	burst "donkey,${d}12:04:00Z"
	[ "$(sum_item swindow.dropped counted)" -eq 2 ] ||
	    fail "swindow.dropped: $(sum_item swindow.dropped counted), not 2"
	exec 4>&-
	wait "$sink"
	run emitted
	assert_output "12:00-12:10 cat 1
12:00-12:10 dog 1
12:00-12:10 owl 1
12:05-12:15 cat 1
12:05-12:15 dog 2
12:05-12:15 owl 1
12:10-12:20 dog 1
12:15-12:25 owl 1
12:20-12:30 owl 1"
	[ "$(wc -l <out)" -eq 10 ]	# the csv header and the 9 rows
	grep -qx '2026-11-24T12:05:00.000Z,2026-11-24T12:15:00.000Z,dog,2' out
}

@test "runnel(5): the example stream has the frames the page shows" {
	run bash -c "printf 'dog,2026-11-24T12:07:00Z\ncat,2026-11-24T12:14:00Z\n' |
	    ssrc - --format csv --schema 'word STRING, time TIMESTAMP' |
	    swindow --time time --size 10m --watermark 10m"
	assert_success
	# The header: metadata, then the fields in order.
	header=$(head -n 1 <<<"$output")
	[[ $header == '\.h	@v=1	@query='*'	@run='*'	@source=-	'* ]]
	[[ $header == *'	@watermark=600000000	'* ]]
	[[ $header == *'	@event_time=time	'* ]]
	[[ $header == *'	@window=tumbling	'* ]]
	[[ $header == *'	word:STRING	time:TIMESTAMP	window_start:TIMESTAMP	window_end:TIMESTAMP' ]]
	# Rows, the watermark after batch 0, \.w inf before the final batch.
	run awk -F'\t' 'NR > 1 && $1 == "\\.e" {
		print $1 "\t" $2 (/\tfinal=1(\t|$)/ ? " final" : ""); next }
	    NR > 1 { print }' <<<"$output"
	assert_line --index 0 'dog	1795522020000000	1795521600000000	1795522200000000'
	assert_line --index 1 'cat	1795522440000000	1795522200000000	1795522800000000'
	assert_line --index 2 '\.e	0'
	assert_line --index 3 '\.w	1795521840000000'
	[[ $output == *'\.w	inf'$'\n''\.e	'[0-9]' final'$'\n''\.x	final' ]] ||
	    fail "no '\\.w inf' right before the final epoch: $output"
}

@test "make demo: word count batches grow, windows close, the late row is dropped, cron runs add up" {
	run sh tests/demo.sh "$RUNNEL_BUILD/bin"
	assert_success
	# Three word-count batches; "the" grows with each part of the story.
	assert_line --regexp '^ +\| +the\| +46\|$'
	assert_line --regexp '^ +\| +the\| +75\|$'
	assert_line --regexp '^ +\| +the\| +105\|$'
	# Each window appears once, in the right order, the kitchen's late
	# 12:07:30 reading dropped.
	w() { grep -nE "12:$1:00\|2026-11-24 12:$2:00\| *$3\| *$4\|" <<<"$output" | cut -d: -f1; }
	a=$(w 00 10 kitchen 4) b=$(w 10 20 garage 2) c=$(w 20 30 attic 2)
	e=$(w 30 40 kitchen 2)
	[ -n "$a" ] && [ -n "$b" ] && [ -n "$c" ] && [ -n "$e" ] ||
	    fail "missing windows: '$a' '$b' '$c' '$e'"
	[ "$a" -lt "$b" ] && [ "$b" -lt "$c" ] && [ "$c" -lt "$e" ]
	[ "$(grep -c 'kitchen|' <<<"$output")" -eq 4 ]
	assert_line -- '--- late rows dropped in all: 1 (swindow.dropped in the epoch frames)'
	# The cron mode: each run reads only the new file, counts go on from
	# the checkpoint, one part file per data batch; a run with nothing
	# new adds none.
	assert_line '    committed up to batch 1; part files in out/: 1 (+1)'
	assert_line '    newest part file, top words: the 46, and 14, a 10, of 9, it 6'
	assert_line '    newest part file, top words: the 75, and 24, a 18, of 11, in 10'
	assert_line '    committed up to batch 5; part files in out/: 3 (+1)'
	assert_line '    committed up to batch 6; part files in out/: 3 (+0)'
	[ "$(grep -c 'top words: the 105, and 34, a 28, it 18, of 16$' <<<"$output")" -eq 2 ]
}
