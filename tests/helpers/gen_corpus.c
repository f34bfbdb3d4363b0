/*
 * gen_corpus: deterministic benchmark corpora for make bench.
 *
 *   gen_corpus words MEGABYTES [SEED]    Zipf(1.0) words over a 100k vocabulary,
 *                                        8 words a line
 *   gen_corpus events MEGABYTES [SEED]   csv "ts,word": ISO-8601 timestamps
 *                                        advancing ~1 s a line with up to 60 s
 *                                        of disorder, Zipf words
 *   gen_corpus keys COUNT                COUNT distinct words, one a line
 *
 * The same arguments always give the same bytes (xorshift64*, fixed seed),
 * so runs on different days compare.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtime.h"

#define VOCABULARY 100000

static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static double
rng_unit(void)
{
	return (double)(rng_next() >> 11) / 9007199254740992.0;
}

/* Word number i: a pronounceable-ish string, 2 to 9 letters. */
static int
word_of(long i, char *out)
{
	static const char *syl[] = { "ka", "lo", "mi", "ne", "ru", "sa", "ti",
		"vo", "be", "da", "fu", "gi", "ho", "ja", "pe", "zu" };
	int n = 0;

	do {
		memcpy(out + n, syl[i % 16], 2);
		n += 2;
		i /= 16;
	} while (i > 0);
	out[n] = '\0';
	return n;
}

static double *
zipf_cdf(void)
{
	double *cdf = malloc(VOCABULARY * sizeof *cdf), sum = 0;

	for (long i = 0; i < VOCABULARY; i++)
		cdf[i] = (sum += 1.0 / (double)(i + 1));
	for (long i = 0; i < VOCABULARY; i++)
		cdf[i] /= sum;
	return cdf;
}

static long
zipf_draw(const double *cdf)
{
	double u = rng_unit();
	long lo = 0, hi = VOCABULARY - 1;

	while (lo < hi) {
		long mid = (lo + hi) / 2;

		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
main(int argc, char **argv)
{
	static char buf[1 << 16];
	char word[32];
	double *cdf;
	long long target, written = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: gen_corpus words|events|keys N [SEED]\n");
		return 2;
	}
	setvbuf(stdout, buf, _IOFBF, sizeof buf);
	rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : 20261130;
	if (rng_state == 0)
		rng_state = 1;
	if (strcmp(argv[1], "keys") == 0) {
		long long n = atoll(argv[2]);

		for (long long i = 0; i < n; i++)
			printf("k%llx\n", (unsigned long long)(i * 2654435761ULL));
		return 0;
	}
	target = atoll(argv[2]) * 1000000LL;
	cdf = zipf_cdf();
	if (strcmp(argv[1], "words") == 0) {
		while (written < target) {
			for (int j = 0; j < 8; j++) {
				int n = word_of(zipf_draw(cdf), word);

				fwrite(word, 1, (size_t)n, stdout);
				putchar(j == 7 ? '\n' : ' ');
				written += n + 1;
			}
		}
	} else if (strcmp(argv[1], "events") == 0) {
		int64_t t = INT64_C(1795521600) * MICROS_PER_SECOND;
		char ts[TIMESTAMP_BUFSIZE];

		while (written < target) {
			int64_t jitter = (int64_t)(rng_next() % 60) *
			    MICROS_PER_SECOND;
			size_t n = timestamp_format_iso(t - jitter, ts);
			int w = word_of(zipf_draw(cdf), word);

			printf("%s,%s\n", ts, word);
			written += (long long)n + w + 2;
			t += MICROS_PER_SECOND / 4;
		}
	} else {
		fprintf(stderr, "gen_corpus: unknown corpus '%s'\n", argv[1]);
		return 2;
	}
	free(cdf);
	return fflush(stdout) == 0 ? 0 : 1;
}
