#!/usr/bin/env bats
# ssplit: explode a field into tokens.  Frames are written by hand ('|'
# stands for TAB) so these tests do not depend on ssrc.

load test_helper/common
bats_require_minimum_version 1.5.0

setup() {
	IN="$BATS_TEST_TMPDIR/in"
}

frames() {
	tr '|' '\t' >"$IN"
}

expect() {
	tr '|' '\t'
}

# sp ARGS...: ssplit ARGS < $IN, epoch frames shortened to their batch.
sp() {
	set -o pipefail
	ssplit "$@" <"$IN" | sed -E 's/^(\\\.e\t[0-9]+).*/\1/'
}

@test "--help prints the synopsis; bad options are usage errors" {
	run --separate-stderr ssplit --help
	assert_success
	assert_output 'usage: ssplit [FIELD] [--sep STRING | --regex RE] [--as NAME] [--lower]'
	run ssplit --version
	assert_output --regexp '^ssplit \(runnel\) '
	run ssplit --bogus </dev/null
	assert_failure 2
	run ssplit a b </dev/null
	assert_failure 2
	run --separate-stderr ssplit --sep x --regex y </dev/null
	assert_failure 2
	assert_equal "$stderr" "ssplit: --sep and --regex cannot be used together"
	run ssplit --sep '' </dev/null
	assert_failure 2
	run --separate-stderr ssplit --regex '(' </dev/null
	assert_failure 2
	assert_regex "$stderr" "^ssplit: --regex: '\\(': "
	run ssplit --as 'a:b' </dev/null
	assert_failure 2
}

@test "default: split value on runs of white space into word" {
	frames <<'EOF'
\.h|value:STRING
the cat  sat
   on the mat   
\.e|0|ssrc.rows=2
\.x|final
EOF
	run ssplit <"$IN"
	assert_success
	assert_output "$(expect <<'EOF'
\.h|word:STRING
the
cat
sat
on
the
mat
\.e|0|ssrc.rows=2|ssplit.rows_in=2|ssplit.rows_out=6
\.x|final
EOF
)"
}

@test "escaped TAB, LF and CR are white space; escaped backslash and NUL are kept" {
	frames <<'EOF'
\.h|value:STRING
a\tb\nc\rd
x\\y z\0w
\.e|0
\.x|final
EOF
	run sp
	assert_success
	assert_output "$(expect <<'EOF'
\.h|word:STRING
a
b
c
d
x\\y
z\0w
\.e|0
\.x|final
EOF
)"
}

@test "vertical tab and form feed are white space too" {
	printf '\\.h\tvalue:STRING\na\vb\fc\n\\.e\t0\n\\.x\tfinal\n' >"$IN"
	run sp
	assert_output "$(printf '\\.h\tword:STRING\na\nb\nc\n\\.e\t0\n\\.x\tfinal')"
}

@test "other fields are kept in place, the token replaces FIELD" {
	frames <<'EOF'
\.h|@q=7|id:INT|line:STRING|ts:TIMESTAMP
1|x y|100
2|\N|200
3||300
4|   |400
\.e|0
\.x|final
EOF
	run sp line --as token
	assert_success
	assert_output "$(expect <<'EOF'
\.h|@q=7|id:INT|token:STRING|ts:TIMESTAMP
1|x|100
1|y|100
\.e|0
\.x|final
EOF
)"
	run ssplit line <"$IN"
	assert_line --index 3 --regexp 'ssplit\.rows_in=4	ssplit\.rows_out=2$'
}

@test "FIELD first or last: neighbours kept" {
	frames <<'EOF'
\.h|value:STRING|n:INT
a b|1
\.e|0
\.x|final
EOF
	run sp
	assert_output "$(expect <<'EOF'
\.h|word:STRING|n:INT
a|1
b|1
\.e|0
\.x|final
EOF
)"
}

@test "--sep splits on a literal string and drops empty tokens" {
	frames <<'EOF'
\.h|value:STRING
a,,b,c,
.*a.*b
\.e|0
\.x|final
EOF
	run sp --sep ,
	assert_output "$(expect <<'EOF'
\.h|word:STRING
a
b
c
.*a.*b
\.e|0
\.x|final
EOF
)"
	run sp --sep '.*'
	assert_line --index 1 'a,,b,c,'
	assert_line --index 2 'a'
	assert_line --index 3 'b'
}

@test "--sep matches unescaped values: a TAB separator, escapes kept in tokens" {
	frames <<'EOF'
\.h|value:STRING
a\tb\\tc
\.e|0
\.x|final
EOF
	run sp --sep "$(printf '\t')"
	assert_output "$(expect <<'EOF'
\.h|word:STRING
a
b\\tc
\.e|0
\.x|final
EOF
)"
	# "t" must not match the letter of an escape.
	run sp --sep t
	assert_output "$(expect <<'EOF'
\.h|word:STRING
a\tb\\
c
\.e|0
\.x|final
EOF
)"
}

@test "--regex splits on an extended regular expression" {
	frames <<'EOF'
\.h|value:STRING
one1two22three
\.e|0
\.x|final
EOF
	run sp --regex '[0-9]+'
	assert_output "$(expect <<'EOF'
\.h|word:STRING
one
two
three
\.e|0
\.x|final
EOF
)"
	run sp --regex '^o'
	assert_line --index 1 'ne1two22three'
	assert_line --index 2 '\.e	0'
}

@test "--regex with an empty match splits between characters, as Java" {
	frames <<'EOF'
\.h|value:STRING
abc
\.e|0
\.x|final
EOF
	run sp --regex ''
	assert_output "$(expect <<'EOF'
\.h|word:STRING
a
b
c
\.e|0
\.x|final
EOF
)"
}

@test "--regex sees escaped bytes unescaped" {
	frames <<'EOF'
\.h|value:STRING
a\tb c
\.e|0
\.x|final
EOF
	run sp --regex '[[:cntrl:]]'
	assert_output "$(expect <<'EOF'
\.h|word:STRING
a
b c
\.e|0
\.x|final
EOF
)"
}

@test "--lower lowercases ASCII letters, not escapes or other bytes" {
	printf '\\.h\tvalue:STRING\nHeLLo W\\tORLD \xc3\x89t\xc3\xa9\n\\.e\t0\n\\.x\tfinal\n' >"$IN"
	run sp --lower
	assert_output "$(printf '\\.h\tword:STRING\nhello\nw\norld\n\xc3\x89t\xc3\xa9\n\\.e\t0\n\\.x\tfinal')"
	run sp --lower --sep W
	assert_line --index 1 "$(printf 'hello w\\torld \xc3\x89t\xc3\xa9')"
}

@test "a null FIELD gives no rows; a bad escape is an error naming the line" {
	frames <<'EOF'
\.h|value:STRING
\N
a \q
\.e|0
\.x|final
EOF
	run --separate-stderr ssplit <"$IN"
	assert_failure 1
	assert_equal "$stderr" "ssplit: stdin:3: bad escape '\\q' in field 'value'"
}

@test "FIELD missing from the header: exit 2 naming it and listing the fields" {
	frames <<'EOF'
\.h|id:INT|text:STRING
\.e|0
\.x|final
EOF
	run --separate-stderr ssplit <"$IN"
	assert_failure 2
	assert_equal "$stderr" "ssplit: no field 'value' in the input (fields: id, text)"
	run --separate-stderr ssplit id <"$IN"
	assert_failure 2
	assert_equal "$stderr" "ssplit: field 'id' is an INT, not a STRING"
	run --separate-stderr ssplit text --as id <"$IN"
	assert_failure 2
}

@test "watermark and end frames are forwarded; counters are per batch" {
	frames <<'EOF'
\.h|value:STRING
a b
\.e|0
\.w|1000
c
\.e|1|nodata=0
\.x|pause
EOF
	run ssplit <"$IN"
	assert_success
	assert_output "$(expect <<'EOF'
\.h|word:STRING
a
b
\.e|0|ssplit.rows_in=1|ssplit.rows_out=2
\.w|1000
c
\.e|1|nodata=0|ssplit.rows_in=1|ssplit.rows_out=1
\.x|pause
EOF
)"
}

@test "malformed input and a missing end are errors (exit 1)" {
	frames <<'EOF'
\.h|value:STRING|n:INT
a b
\.e|0
\.x|final
EOF
	run --separate-stderr ssplit <"$IN"
	assert_failure 1
	assert_equal "$stderr" "ssplit: stdin:2: record has 1 fields, header says 2"
	frames <<'EOF'
\.h|value:STRING
a b
\.e|0
EOF
	run --separate-stderr ssplit <"$IN"
	assert_failure 1
	refute_line --partial '\.x'
}

@test "ssplit | scount counts words" {
	frames <<'EOF'
\.h|value:STRING
to be or not to be
\.e|0
\.x|final
EOF
	run sh -c 'ssplit < "$1" | scount --mode update' sh "$IN"
	assert_success
	assert_output --partial "$(expect <<'EOF'
to|2
be|2
or|1
not|1
EOF
)"
}
