/* hivepath.c: escaping partition directory names as Spark does (hivepath.h). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hivepath.h"
#include "utf8.h"

/* Spark's charToEscape, plus NUL (a C path cannot hold it). */
static bool
needs_escape(unsigned char c)
{
	if (c < 0x20 || c == 0x7f)
		return true;
	return strchr("\"#%'*/:=?\\{[]^", c) != NULL;
}

static void
add_hex(struct strbuf *out, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

	sb_add(out, esc, 3);
}

void
hive_escape(struct strbuf *out, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t run = i;
		int32_t cp;
		size_t len;

		while (run < n && (unsigned char)s[run] < 0x80 &&
		    !needs_escape((unsigned char)s[run]))
			run++;
		if (run > i) {
			sb_add(out, s + i, run - i);
			i = run;
			continue;
		}
		if (c < 0x80) {
			add_hex(out, c);
			i++;
			continue;
		}
		len = utf8_decode(s + i, n - i, &cp);
		if (cp < 0) {
			for (size_t k = 0; k < len; k++)
				add_hex(out, (unsigned char)s[i + k]);
		} else {
			sb_add(out, s + i, len);
		}
		i += len;
	}
}

void
hive_component(struct strbuf *out, const char *name, const char *value,
    size_t n)
{
	hive_escape(out, name, strlen(name));
	sb_addc(out, '=');
	if (value == NULL || n == 0)
		sb_adds(out, HIVE_DEFAULT_PARTITION);
	else
		hive_escape(out, value, n);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t
hive_unescape(char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			s[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	return o;
}
