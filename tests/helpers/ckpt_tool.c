/*
 * ckpt_tool: drive a checkpoint directory by hand, as ssrc and ssink
 * would, so that the stateful stages can be tested on hand-written frames
 * (tests/checkpoint_stages.bats).
 *
 *   ckpt_tool run DIR               ssrc's start: ckpt_create (a new run,
 *                                   the lock released at exit) and
 *                                   ckpt_resume; prints "RUN_ID C"
 *   ckpt_tool commit DIR RUN N [SINK]
 *                                   ssink: commits/N (and offsets/N when
 *                                   absent: ssrc would have written it),
 *                                   with SINK as the sink's position
 *   ckpt_tool offsets DIR RUN N     ssrc: offsets/N (a dummy body)
 *   ckpt_tool states DIR            every state file, "STAGE/N" per line
 *   ckpt_tool show DIR STAGE N      the body of state/STAGE/N
 *
 * Exit 0, or 1 with the library's message.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomicfile.h"
#include "checkpoint.h"
#include "die.h"
#include "strbuf.h"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Print STAGE/N for each state file, sorted by stage, then batch. */
static void
list_states(const char *dir)
{
	struct strbuf path;
	char **names = NULL;
	size_t n = 0;
	DIR *top, *d;
	struct dirent *e, *f;

	sb_init(&path);
	sb_addf(&path, "%s/state", dir);
	if ((top = opendir(path.buf)) == NULL) {
		sb_free(&path);
		return;
	}
	while ((e = readdir(top)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		sb_reset(&path);
		sb_addf(&path, "%s/state/%s", dir, e->d_name);
		if ((d = opendir(path.buf)) == NULL)
			continue;
		while ((f = readdir(d)) != NULL) {
			char *s;

			if (f->d_name[0] == '.')
				continue;
			/* Zero-pad the batch for sorting; printed without. */
			if (asprintf(&s, "%s/%020lld", e->d_name,
			    atoll(f->d_name)) < 0)
				die(EXIT_RUNTIME, "out of memory");
			names = xrealloc(names, (n + 1) * sizeof *names);
			names[n++] = s;
		}
		closedir(d);
	}
	closedir(top);
	qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		char *slash = strrchr(names[i], '/');

		printf("%.*s/%lld\n", (int)(slash - names[i]), names[i],
		    atoll(slash + 1));
		free(names[i]);
	}
	free(names);
	sb_free(&path);
}

int
main(int argc, char **argv)
{
	char err[ERRBUF_SIZE];
	struct checkpoint *ck;

	prog_init(argv[0]);
	if (argc == 3 && strcmp(argv[1], "run") == 0) {
		struct ckpt_resume r;

		if ((ck = ckpt_create(argv[2], "ckpt_tool", 0, err)) == NULL ||
		    ckpt_resume(ck, &r, err) < 0)
			die(EXIT_RUNTIME, "%s", err);
		printf("%s %lld\n", ckpt_run_id(ck), (long long)r.commit);
		ckpt_resume_free(&r);
		ckpt_close(ck);
	} else if ((argc == 5 && (strcmp(argv[1], "commit") == 0 ||
	    strcmp(argv[1], "offsets") == 0)) ||
	    (argc == 6 && strcmp(argv[1], "commit") == 0)) {
		long long n = atoll(argv[4]);
		int rc;

		if ((ck = ckpt_join(argv[2], argv[3], err)) == NULL)
			die(EXIT_RUNTIME, "%s", err);
		char *body = NULL;
		size_t len;

		rc = ckpt_read_offsets(ck, n, &body, &len, err);
		free(body);
		if (rc == 0 || (rc > 0 && argv[1][0] == 'o'))
			rc = ckpt_write_offsets(ck, n, "{}\n", 3, err);
		if (rc >= 0 && argv[1][0] == 'c')
			rc = ckpt_commit(ck, n, argc == 6 ? argv[5] : NULL,
			    err);
		if (rc < 0)
			die(EXIT_RUNTIME, "%s", err);
		ckpt_close(ck);
	} else if (argc == 3 && strcmp(argv[1], "states") == 0) {
		list_states(argv[2]);
	} else if (argc == 5 && strcmp(argv[1], "show") == 0) {
		struct strbuf path;
		char *body;
		size_t len;

		sb_init(&path);
		sb_addf(&path, "%s/state/%s/%s", argv[2], argv[3], argv[4]);
		if (af_read(path.buf, "state", &body, &len, err) <= 0)
			die(EXIT_RUNTIME, "%s", err[0] ? err : "no such state");
		fwrite(body, 1, len, stdout);
		free(body);
		sb_free(&path);
	} else {
		fprintf(stderr, "usage: ckpt_tool run DIR | commit DIR RUN N [SINK] | "
		    "offsets DIR RUN N | states DIR | show DIR STAGE N\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}
