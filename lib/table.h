/*
 * table.h: the grouping hash table of stateful stages (scount).
 *
 * A key is a byte string (scount uses the group's raw wire fields joined
 * by TAB, exactly as they are written out).  Each key has a fixed-size
 * value of vsize bytes, zeroed when the key is created, for the caller's
 * accumulators.  The layout is the "compact dict" one:
 *
 *   arena    every key's bytes, stored once, appended in insertion order;
 *   entries  a dense array in insertion (first-seen) order, each a 16-byte
 *            header (key offset, key length, hash) followed by the value;
 *            a key of up to 8 bytes (most words) is stored in the header
 *            in place of its offset, which saves the arena's cache miss
 *            on every lookup and the key's bytes in the arena;
 *   index    open addressing with linear probing: 8-byte slots holding an
 *            entry id and the key's hash, so a probe rarely touches an
 *            entry whose key differs.
 *
 * A short word key with a 16-byte value costs about 32 bytes of entry,
 * 8-16 bytes of index and its own bytes in the arena: well under 100
 * bytes a key.  Nothing is allocated per key: the three arrays grow by
 * doubling.
 *
 * Invariants:
 *   - An entry id (0, 1, 2, ...) is stable until table_compact(): deleting
 *     marks the entry dead and leaves a tombstone in the index, inserting
 *     appends, growing the index rehashes slots but never moves entries.
 *     So iterating ids while deleting is safe, and ids may be kept in side
 *     lists between two compactions.
 *   - Ascending ids are first-seen order, and table_compact() keeps it.
 *   - Pointers from table_value()/table_key() are valid until the next
 *     table_upsert() or table_compact().
 *   - All state is in three flat arrays addressed by offsets and ids, so it
 *     can be written to a checkpoint and read back as is.
 */
#ifndef RUNNEL_TABLE_H
#define RUNNEL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TABLE_NONE	UINT32_MAX	/* "no entry" */

#define TABLE_INLINE	8	/* keys this short live in the entry */

struct table_entry {
	union {
		uint64_t off;	/* key's offset in the arena */
		char bytes[TABLE_INLINE];	/* or the key itself */
	} key;
	uint32_t len;		/* key length; TABLE_NONE when dead */
	uint32_t hash;
};

struct table_slot {
	uint32_t id;		/* 0 empty, TABLE_NONE tombstone, or id + 1 */
	uint32_t hash;
};

struct table {
	size_t vsize;		/* value bytes, as given */
	size_t stride;		/* entry header + value, rounded up to 8 */
	unsigned char *entries;
	uint32_t nentries;	/* ids in use, dead ones included */
	uint32_t entries_cap;
	uint32_t nlive, ndead;
	struct table_slot *index;
	uint32_t index_cap;	/* a power of two */
	uint32_t ntomb;
	char *arena;
	size_t arena_len, arena_cap;
};

/* A table whose values are vsize bytes. */
void table_init(struct table *t, size_t vsize);
void table_free(struct table *t);

/* The hash table_upsert() expects for key [key, key + n). */
uint32_t table_hash(const void *key, size_t n);

/*
 * Find key (hash from table_hash()); create it with a zeroed value when
 * absent, setting *created.  Returns the entry id.  Dies (exit 1) when
 * memory runs out or past 2^32 - 2 entries.
 */
uint32_t table_upsert(struct table *t, const char *key, size_t n,
    uint32_t hash, bool *created);
/* The id of key, or TABLE_NONE. */
uint32_t table_find(const struct table *t, const char *key, size_t n,
    uint32_t hash);

static inline struct table_entry *
table_entry_(const struct table *t, uint32_t id)
{
	return (struct table_entry *)(void *)(t->entries +
	    (size_t)id * t->stride);
}

static inline void *
table_value(const struct table *t, uint32_t id)
{
	return t->entries + (size_t)id * t->stride + sizeof(struct table_entry);
}

static inline const char *
table_key(const struct table *t, uint32_t id, size_t *n)
{
	struct table_entry *e = table_entry_(t, id);

	*n = e->len;
	return e->len <= TABLE_INLINE ? e->key.bytes : t->arena + e->key.off;
}

static inline bool
table_live(const struct table *t, uint32_t id)
{
	return table_entry_(t, id)->len != TABLE_NONE;
}

/* One past the highest id: iterate ids below it, skipping dead ones. */
static inline uint32_t
table_end(const struct table *t)
{
	return t->nentries;
}

/* Number of live keys. */
static inline size_t
table_count(const struct table *t)
{
	return t->nlive;
}

/* Delete a live entry.  Ids stay valid; its memory is reclaimed by
 * table_compact(). */
void table_delete(struct table *t, uint32_t id);

/*
 * Drop dead entries and their key bytes, renumbering live entries in the
 * same order, rebuild the index and give back memory when the table has
 * shrunk a lot.  Invalidates every id and pointer held by the caller.
 */
void table_compact(struct table *t);
/* table_compact() when dead entries outnumber live ones (and are worth
 * it); returns true when it compacted. */
bool table_maybe_compact(struct table *t);

/* Bytes allocated for the table's arrays (its memory footprint). */
size_t table_mem_bytes(const struct table *t);

#endif
