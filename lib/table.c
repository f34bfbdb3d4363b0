/*
 * table.c: the compact open-addressing hash table of table.h.
 *
 * Why not chaining: a chained node per key is a malloc per key and a
 * pointer chase per probe; here a key costs one append to each of two
 * arrays.  Why 8-byte index slots holding the hash: most probes that land
 * on another key are rejected without touching the entry or the arena.
 * Linear probing keeps the probe sequence in one or two cache lines; the
 * index is kept at most 3/4 full, tombstones included.
 */
#include <stdlib.h>
#include <string.h>

#include "die.h"
#include "table.h"

#define MIN_INDEX	16u
#define MIN_ENTRIES	16u
#define MIN_ARENA	256u
/* Compaction is worth it only past this many dead entries. */
#define COMPACT_MIN_DEAD	1024u

static inline uint64_t
mix(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
	uint64_t r = a * b;

	return r ^ (r >> 32);
#endif
}

/*
 * A multiply-fold hash over 8-byte words (the idea of wyhash): short keys,
 * the common case, cost two or three multiplications.
 */
uint32_t
table_hash(const void *key, size_t n)
{
	const unsigned char *p = key;
	uint64_t h = UINT64_C(0x243f6a8885a308d3) ^ (uint64_t)n;
	uint64_t v;

	while (n >= 8) {
		memcpy(&v, p, 8);
		h = mix(h ^ v, UINT64_C(0x9e3779b97f4a7c15));
		p += 8;
		n -= 8;
	}
	if (n > 0) {
		v = 0;
		for (size_t i = 0; i < n; i++)
			v |= (uint64_t)p[i] << (8 * i);
		h = mix(h ^ v, UINT64_C(0xbf58476d1ce4e5b9));
	}
	h = mix(h, UINT64_C(0x94d049bb133111eb));
	return (uint32_t)h ^ (uint32_t)(h >> 32);
}

void
table_init(struct table *t, size_t vsize)
{
	memset(t, 0, sizeof *t);
	t->vsize = vsize;
	t->stride = (sizeof(struct table_entry) + vsize + 7) & ~(size_t)7;
}

void
table_free(struct table *t)
{
	free(t->entries);
	free(t->index);
	free(t->arena);
	table_init(t, t->vsize);
}

/* Put id (with hash) in the first free slot of its probe sequence; the
 * index has room and holds no entry with this key. */
static void
index_place(struct table *t, uint32_t id, uint32_t hash)
{
	uint32_t mask = t->index_cap - 1;
	uint32_t i = hash & mask;

	while (t->index[i].id != 0)
		i = (i + 1) & mask;
	t->index[i].id = id + 1;
	t->index[i].hash = hash;
}

/* Rebuild the index with cap slots from the live entries, which drops the
 * tombstones. */
static void
index_rebuild(struct table *t, uint32_t cap)
{
	if (cap != t->index_cap) {
		free(t->index);
		t->index = xcalloc(cap, sizeof *t->index);
		t->index_cap = cap;
	} else {
		memset(t->index, 0, (size_t)cap * sizeof *t->index);
	}
	t->ntomb = 0;
	for (uint32_t id = 0; id < t->nentries; id++) {
		struct table_entry *e = table_entry_(t, id);

		if (e->len != TABLE_NONE)
			index_place(t, id, e->hash);
	}
}

/* The smallest index (a power of two) at most half full with n keys. */
static uint32_t
index_size_for(size_t n)
{
	size_t cap = MIN_INDEX;

	while (cap < 2 * n)
		cap *= 2;
	if (cap > (size_t)1 << 31)
		die(EXIT_RUNTIME, "hash table: too many keys (%zu)", n);
	return (uint32_t)cap;
}

/* Compare a key of at most 8 bytes without a call to memcmp(). */
static inline bool
key_eq_short(const char *a, const char *b, size_t n)
{
	uint64_t x = 0, y = 0;

	if (n == TABLE_INLINE) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		return x == y;
	}
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

uint32_t
table_find(const struct table *t, const char *key, size_t n, uint32_t hash)
{
	uint32_t mask, i;

	if (t->index_cap == 0)
		return TABLE_NONE;
	mask = t->index_cap - 1;
	for (i = hash & mask; t->index[i].id != 0; i = (i + 1) & mask) {
		const struct table_slot *s = &t->index[i];
		const struct table_entry *e;

		if (s->hash != hash || s->id == TABLE_NONE)
			continue;
		e = table_entry_(t, s->id - 1);
		if (e->len != n)
			continue;
		if (n <= TABLE_INLINE ? key_eq_short(e->key.bytes, key, n) :
		    memcmp(t->arena + e->key.off, key, n) == 0)
			return s->id - 1;
	}
	return TABLE_NONE;
}

static void
grow_entries(struct table *t)
{
	uint32_t cap;

	if (t->nentries < t->entries_cap)
		return;
	if (t->entries_cap >= TABLE_NONE / 2)
		die(EXIT_RUNTIME, "hash table: too many keys");
	cap = t->entries_cap ? 2 * t->entries_cap : MIN_ENTRIES;
	t->entries = xrealloc(t->entries, (size_t)cap * t->stride);
	t->entries_cap = cap;
}

static void
grow_arena(struct table *t, size_t n)
{
	size_t cap = t->arena_cap ? t->arena_cap : MIN_ARENA;

	if (t->arena_len + n <= t->arena_cap)
		return;
	while (cap < t->arena_len + n)
		cap *= 2;
	t->arena = xrealloc(t->arena, cap);
	t->arena_cap = cap;
}

uint32_t
table_upsert(struct table *t, const char *key, size_t n, uint32_t hash,
    bool *created)
{
	uint32_t id = table_find(t, key, n, hash);
	struct table_entry *e;

	*created = false;
	if (id != TABLE_NONE)
		return id;
	if (n >= TABLE_NONE)
		die(EXIT_RUNTIME, "hash table: key of %zu bytes", n);
	/* Keep the index at most 3/4 full, counting tombstones. */
	if (((size_t)t->nlive + t->ntomb + 1) * 4 > (size_t)t->index_cap * 3)
		index_rebuild(t, index_size_for((size_t)t->nlive + 1));
	grow_entries(t);
	id = t->nentries++;
	e = table_entry_(t, id);
	e->len = (uint32_t)n;
	e->hash = hash;
	memset(table_value(t, id), 0, t->stride - sizeof *e);
	if (n <= TABLE_INLINE) {
		e->key.off = 0;
		if (n > 0)
			memcpy(e->key.bytes, key, n);
	} else {
		grow_arena(t, n);
		e->key.off = t->arena_len;
		memcpy(t->arena + t->arena_len, key, n);
		t->arena_len += n;
	}
	t->nlive++;
	index_place(t, id, hash);
	*created = true;
	return id;
}

void
table_delete(struct table *t, uint32_t id)
{
	struct table_entry *e = table_entry_(t, id);
	uint32_t mask = t->index_cap - 1;
	uint32_t i;

	if (e->len == TABLE_NONE)
		return;
	for (i = e->hash & mask; t->index[i].id != id + 1; i = (i + 1) & mask)
		;
	/* A tombstone keeps later keys of the probe sequence reachable;
	 * a slot followed by an empty one can be emptied outright. */
	if (t->index[(i + 1) & mask].id == 0) {
		t->index[i].id = 0;
	} else {
		t->index[i].id = TABLE_NONE;
		t->ntomb++;
	}
	e->len = TABLE_NONE;
	t->nlive--;
	t->ndead++;
}

void
table_compact(struct table *t)
{
	uint32_t j = 0;
	size_t alen = 0;

	/* Live entries and their keys only move down, in order, so both
	 * arrays compact in place. */
	for (uint32_t id = 0; id < t->nentries; id++) {
		struct table_entry *e = table_entry_(t, id);

		if (e->len == TABLE_NONE)
			continue;
		if (e->len > TABLE_INLINE) {
			if (e->key.off != alen)
				memmove(t->arena + alen, t->arena + e->key.off,
				    e->len);
			e->key.off = alen;
			alen += e->len;
		}
		if (j != id)
			memcpy(table_entry_(t, j), e, t->stride);
		j++;
	}
	t->nentries = j;
	t->ndead = 0;
	t->arena_len = alen;
	/* Give memory back when the table is a quarter of its capacity. */
	if (t->entries_cap > MIN_ENTRIES && (size_t)j * 4 < t->entries_cap) {
		uint32_t cap = MIN_ENTRIES;

		while (cap < 2 * j)
			cap *= 2;
		t->entries = xrealloc(t->entries, (size_t)cap * t->stride);
		t->entries_cap = cap;
	}
	if (t->arena_cap > MIN_ARENA && alen * 4 < t->arena_cap) {
		size_t cap = MIN_ARENA;

		while (cap < 2 * alen)
			cap *= 2;
		t->arena = xrealloc(t->arena, cap);
		t->arena_cap = cap;
	}
	if (t->index_cap > 0)
		index_rebuild(t, index_size_for(t->nlive));
}

bool
table_maybe_compact(struct table *t)
{
	if (t->ndead < COMPACT_MIN_DEAD || t->ndead < t->nlive)
		return false;
	table_compact(t);
	return true;
}

size_t
table_mem_bytes(const struct table *t)
{
	return (size_t)t->entries_cap * t->stride +
	    (size_t)t->index_cap * sizeof *t->index + t->arena_cap;
}
