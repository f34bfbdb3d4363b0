/*
 * test_badrec.c: the bad-record policy (lib/badrec.c) through the csv and
 * json readers and record_out: what is skipped, counted, kept, what the
 * messages and the kept lines say, the Kafka origin hook, and that the
 * csv reader goes on after malformed quoting.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "badrec.h"
#include "csv_in.h"
#include "die.h"
#include "frame.h"
#include "json_in.h"
#include "reader_fixture.h"
#include "record_out.h"
#include "schema.h"
#include "unit.h"

static void
setup(struct fixture *f, const char *ddl, enum badrec_mode mode,
    const char *dir)
{
	fixture_setup(f, ddl, false);
	fixture_policy(f, mode, dir);
}

/* The one file under dir/<stamp>/bad_records, read into buf. */
static int
read_kept(const char *dir, char *buf, size_t size)
{
	char path[1024];
	struct dirent *de;
	DIR *d;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof path, "%s", dir);
	for (int depth = 0; depth < 3; depth++) {
		if ((d = opendir(path)) == NULL)
			return -1;
		while ((de = readdir(d)) != NULL && de->d_name[0] == '.')
			;
		if (de == NULL) {
			closedir(d);
			return -1;
		}
		strncat(path, "/", sizeof path - strlen(path) - 1);
		strncat(path, de->d_name, sizeof path - strlen(path) - 1);
		closedir(d);
	}
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, size - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return 0;
}

static void
test_skip_csv(void)
{
	struct fixture f;
	struct csv_in *c;
	char sum[2 * ERRBUF_SIZE];

	setup(&f, "id INT, name STRING", BADREC_SKIP, NULL);
	c = csv_in_new(&f.s, false, "stdin", 1 << 20);
	CHECK(csv_feed(c, &f, "1,a\nx,b\n2,b,c\n\"q\nr\",d\na\"b,e\n3,f\n"
	    "\"open\n") == 0, "skip: csv goes on past every kind of bad "
	    "record");
	CHECK_STR(output(&f), "1\ta\n3\tf\n", "skip: only good records "
	    "written");
	CHECK(f.o.rows == 7 && f.o.bad == 5, "skip: rows count records "
	    "taken, bad the skipped ones");
	badrec_summary(&f.b, sum, sizeof sum);
	CHECK_STR(sum, "skipped 5 bad records (first: stdin:2: id: 'x' is "
	    "not an INT)", "skip: the summary names the first");
	csv_in_free(c);
	teardown(&f);
}

static void
test_fail(void)
{
	struct fixture f;
	struct json_in *j;

	setup(&f, "id INT", BADREC_FAIL, NULL);
	j = json_in_new(&f.s, "in/a.json");
	CHECK(json_in_line(j, "{\"id\":1.5}", 10, 4, &f.o, f.err) < 0,
	    "fail: a bad line is an error");
	CHECK_STR(f.err, "in/a.json:4: id: '1.5' is not an INT",
	    "fail: the message names file, line, field");
	json_in_free(j);
	teardown(&f);
}

static void
test_keep(const char *tmp)
{
	struct fixture f;
	struct csv_in *c;
	struct json_in *j;
	static const char want[] =
	    "{\"path\":\"in/a.csv\",\"line\":2,\"record\":\"\\\"x\\ny\\\",b\","
	    "\"reason\":\"id: 'x\\ny' is not an INT\"}\n"
	    "{\"path\":\"in/b.json\",\"line\":2,\"record\":\"{\\\"id\\\":"
	    "\\\"\\ufffd\\\"}\",\"reason\":\"invalid JSON at column ";
	char dir[512], got[4096], err[ERRBUF_SIZE];

	snprintf(dir, sizeof dir, "%s/bad", tmp);
	setup(&f, "id INT, name STRING", BADREC_KEEP, dir);
	c = csv_in_new(&f.s, false, "in/a.csv", 1 << 20);
	CHECK(csv_feed(c, &f, "1,a\n\"x\ny\",b\r\n") == 0,
	    "keep: csv skipped");
	j = json_in_new(&f.s, "in/b.json");
	CHECK(json_in_line(j, "{\"id\":\"\xff\"}", 10, 2, &f.o, f.err) == 0,
	    "keep: invalid UTF-8 skipped");
	ro_origin_kafka(&f.o, "t", 3, 41);
	CHECK(json_in_line(j, "[]", 2, 41, &f.o, f.err) == 0,
	    "keep: a Kafka value skipped");
	ro_origin_clear(&f.o);
	CHECK(badrec_end_batch(&f.b, 0, err) == 0, "keep: batch committed");
	CHECK(read_kept(dir, got, sizeof got) == 0, "keep: one file");
	CHECK(strncmp(got, want, sizeof want - 1) == 0,
	    "keep: origin, raw record (CRLF dropped), reason; invalid UTF-8 "
	    "as U+FFFD");
	CHECK(strstr(got, "\n{\"topic\":\"t\",\"partition\":3,\"offset\":41,"
	    "\"record\":\"[]\",\"reason\":\"expected a JSON object, one per "
	    "line\"}\n") != NULL, "keep: a Kafka origin");
	json_in_free(j);
	csv_in_free(c);
	teardown(&f);
}

static void
test_kafka_fail(void)
{
	struct fixture f;
	struct json_in *j;

	setup(&f, "id INT", BADREC_FAIL, NULL);
	j = json_in_new(&f.s, "kafka");
	ro_origin_kafka(&f.o, "events", 0, 7);
	CHECK(json_in_line(j, "{\"id\":\"x\"}", 10, 7, &f.o, f.err) < 0,
	    "kafka fail: an error");
	CHECK_STR(f.err, "topic 'events' partition 0 offset 7: id: 'x' is "
	    "not an INT", "kafka fail: the message names the message");
	json_in_free(j);
	teardown(&f);
}

int
main(void)
{
	char tmp[] = "/tmp/test_badrec.XXXXXX";
	char cmd[128];

	if (mkdtemp(tmp) == NULL)
		return 1;
	test_skip_csv();
	test_fail();
	test_keep(tmp);
	test_kafka_fail();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmp);
	return unit_done();
}
