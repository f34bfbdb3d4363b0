/*
 * replay_main.c: run a fuzz target without libFuzzer, once per file.
 *
 * Usage: PROG FILE|DIR...  Each FILE, and each regular file in each DIR
 * (not recursively, hidden files skipped), goes through the target's
 * LLVMFuzzerTestOneInput() once, in the order given (a DIR's files in
 * name order).  Exit 0 when every input ran; a finding aborts (a
 * property) or trips the sanitizers the program was built with, as in
 * the fuzzer.  A missing argument path is an error (exit 2), so a typo
 * in a test cannot pass by running nothing; an empty DIR is fine.
 *
 * This is what turns the seed corpora and the reproducers of fixed
 * findings (tests/fuzz/corpus/TARGET, tests/fuzz/regress/TARGET) into
 * regression tests in every build, including build-san.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path, int verbose)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (fp == NULL) {
		fprintf(stderr, "replay: cannot open '%s'\n", path);
		return -1;
	}
	do {
		if (cap - len < 65536) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap);
			if (buf == NULL) {
				fprintf(stderr, "replay: out of memory\n");
				exit(1);
			}
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	fclose(fp);
	if (verbose)
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	/* A copy of exactly len bytes, so ASan sees a read past the end. */
	{
		uint8_t *exact = malloc(len ? len : 1);

		if (exact == NULL) {
			fprintf(stderr, "replay: out of memory\n");
			exit(1);
		}
		memcpy(exact, buf, len);
		free(buf);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_dir(const char *dir, int verbose, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (d == NULL) {
		fprintf(stderr, "replay: cannot open '%s'\n", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		if (names == NULL || (names[n] = strdup(de->d_name)) == NULL) {
			fprintf(stderr, "replay: out of memory\n");
			exit(1);
		}
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		size_t plen = strlen(dir) + strlen(names[i]) + 2;
		char *path = malloc(plen);
		struct stat st;

		if (path == NULL) {
			fprintf(stderr, "replay: out of memory\n");
			exit(1);
		}
		snprintf(path, plen, "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(path, verbose) < 0)
				rc = -1;
			else
				(*count)++;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	int verbose = getenv("FUZZ_REPLAY_VERBOSE") != NULL;
	size_t count = 0;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: '%s': no such file or "
			    "directory\n", argv[i]);
			return 2;
		}
		if (S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], verbose, &count) < 0)
				rc = 1;
		} else if (run_file(argv[i], verbose) < 0) {
			rc = 1;
		} else {
			count++;
		}
	}
	printf("replayed %zu inputs\n", count);
	return rc;
}
