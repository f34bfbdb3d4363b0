/*
 * hivepath.h: Hive-style partition directory names, as Spark writes them.
 *
 * A partitioned data set keeps the rows with FIELD = VALUE in a directory
 * "FIELD=VALUE/" (nested, one level per partition field, in the order
 * given).  Both the name and the value are escaped the way Spark's
 * ExternalCatalogUtils.escapePathName does, so that any value makes one
 * safe path component and Spark, Hive, DuckDB or Trino read it back:
 *
 *   - the bytes 0x01-0x1F, 0x7F and  " # % ' * / : = ? \ { [ ] ^  become
 *     %XX (upper-case hex): "a/b" -> "a%2Fb", "12:00" -> "12%3A00";
 *   - beyond Spark, which works on Java strings: NUL and every byte of an
 *     invalid UTF-8 sequence become %XX too, so a directory name is always
 *     valid UTF-8 (the manifest lists paths as JSON strings);
 *   - a null or an empty value is __HIVE_DEFAULT_PARTITION__, as in Spark.
 *
 * "." and ".." need no escape: the component is always "FIELD=VALUE", never
 * a bare "." or "..", and "/" is escaped, so no value can climb out of the
 * data set's directory.  A component longer than the file system allows
 * (255 bytes) is not shortened: creating it fails with ENAMETOOLONG.
 */
#ifndef RUNNEL_HIVEPATH_H
#define RUNNEL_HIVEPATH_H

#include <stddef.h>

#include "strbuf.h"

#define HIVE_DEFAULT_PARTITION	"__HIVE_DEFAULT_PARTITION__"

/* Append s[0..n) escaped as above (no default-partition rule). */
void hive_escape(struct strbuf *out, const char *s, size_t n);

/*
 * Append one path component "NAME=VALUE", both escaped; value NULL (a
 * null) or of length 0 gives NAME=__HIVE_DEFAULT_PARTITION__.
 */
void hive_component(struct strbuf *out, const char *name, const char *value,
    size_t n);

/*
 * Undo hive_escape() in place (for tests and readers): %XX with two hex
 * digits becomes the byte; anything else stays.  Returns the new length.
 */
size_t hive_unescape(char *s, size_t n);

#endif
