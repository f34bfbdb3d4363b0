/* Unit tests for hivepath.c: Spark's partition directory escaping. */
#include <string.h>

#include "hivepath.h"
#include "unit.h"

static const char *
esc(struct strbuf *sb, const char *s, size_t n)
{
	sb_reset(sb);
	hive_escape(sb, s, n);
	return sb->buf ? sb->buf : "";
}

static const char *
comp(struct strbuf *sb, const char *name, const char *v)
{
	sb_reset(sb);
	hive_component(sb, name, v, v ? strlen(v) : 0);
	return sb->buf;
}

int
main(void)
{
	struct strbuf sb;
	char buf[64];
	size_t n;

	sb_init(&sb);
	CHECK_STR(esc(&sb, "plain-text_1.5 x", 16), "plain-text_1.5 x",
	    "ordinary characters, space and dot pass");
	CHECK_STR(esc(&sb, "a/b", 3), "a%2Fb", "slash");
	CHECK_STR(esc(&sb, "..", 2), "..", "dots pass: the component is F=..");
	CHECK_STR(esc(&sb, "\"#%'*/:=?\\{[]^", 14),
	    "%22%23%25%27%2A%2F%3A%3D%3F%5C%7B%5B%5D%5E", "Spark's set");
	CHECK_STR(esc(&sb, "\x01\t\n\x1f\x7f", 5), "%01%09%0A%1F%7F",
	    "control characters, upper-case hex");
	CHECK_STR(esc(&sb, "a\0b", 3), "a%00b", "NUL, beyond Spark");
	CHECK_STR(esc(&sb, "\xc3\xa9\xe6\x97\xa5", 5), "\xc3\xa9\xe6\x97\xa5",
	    "valid UTF-8 passes");
	CHECK_STR(esc(&sb, "x\xff\xc3", 3), "x%FF%C3", "invalid UTF-8 escaped");
	CHECK_STR(esc(&sb, "<>|", 3), "<>|", "Windows-only set passes");
	CHECK_STR(comp(&sb, "word", "a/b"), "word=a%2Fb", "component");
	CHECK_STR(comp(&sb, "word", NULL), "word=__HIVE_DEFAULT_PARTITION__",
	    "null");
	CHECK_STR(comp(&sb, "word", ""), "word=__HIVE_DEFAULT_PARTITION__",
	    "empty string");
	CHECK_STR(comp(&sb, "a=b", "c"), "a%3Db=c", "names are escaped");

	strcpy(buf, "a%2Fb%3a%zz%4");
	n = hive_unescape(buf, strlen(buf));
	buf[n] = '\0';
	CHECK_STR(buf, "a/b:%zz%4", "unescape, bad escapes kept");
	sb_free(&sb);
	return unit_done();
}
