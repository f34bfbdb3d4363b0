/* test_table.c: unit tests of lib/table (the grouping hash table). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "table.h"
#include "unit.h"

struct val {
	int64_t count;
	int64_t tag;
};

static size_t
mkkey(char *buf, int i)
{
	return (size_t)snprintf(buf, 32, "key%d", i);
}

static uint32_t
put(struct table *t, const char *k, size_t n, bool *created)
{
	return table_upsert(t, k, n, table_hash(k, n), created);
}

static uint32_t
get(struct table *t, const char *k, size_t n)
{
	return table_find(t, k, n, table_hash(k, n));
}

static void
test_basic(void)
{
	struct table t;
	bool created;
	uint32_t a, b, a2;
	struct val *v;
	size_t n;
	const char *k;

	table_init(&t, sizeof(struct val));
	CHECK(get(&t, "x", 1) == TABLE_NONE, "find in an empty table");
	a = put(&t, "apple", 5, &created);
	CHECK(created && a == 0, "first key gets id 0");
	v = table_value(&t, a);
	CHECK(v->count == 0 && v->tag == 0, "a new value is zeroed");
	v->count = 41;
	b = put(&t, "banana", 6, &created);
	CHECK(created && b == 1, "second key gets id 1");
	a2 = put(&t, "apple", 5, &created);
	CHECK(!created && a2 == a, "an existing key is found, not created");
	CHECK(((struct val *)table_value(&t, a))->count == 41,
	    "its value is kept");
	k = table_key(&t, b, &n);
	CHECK(n == 6 && memcmp(k, "banana", 6) == 0, "table_key gives the key");
	CHECK(get(&t, "appl", 4) == TABLE_NONE, "a prefix is another key");
	CHECK(get(&t, "apples", 6) == TABLE_NONE, "a longer key is another");
	CHECK(table_count(&t) == 2, "two live keys");
	table_free(&t);
}

static void
test_binary_keys(void)
{
	struct table t;
	bool created;
	uint32_t e, z, tab;

	table_init(&t, 8);
	e = put(&t, "", 0, &created);
	CHECK(created, "the empty key can be stored");
	z = put(&t, "a\0b", 3, &created);
	CHECK(created && z != e, "a key with a NUL byte");
	tab = put(&t, "a\tb", 3, &created);
	CHECK(created && tab != z, "a key with a TAB is distinct");
	CHECK(get(&t, "a\0b", 3) == z && get(&t, "", 0) == e,
	    "binary keys are found again");
	CHECK(get(&t, "a", 1) == TABLE_NONE, "NUL does not end a key");
	table_free(&t);
}

static void
test_many(void)
{
	struct table t;
	char k[32];
	bool created, ok = true, order = true;
	int N = 200000;

	table_init(&t, sizeof(struct val));
	for (int i = 0; i < N; i++) {
		size_t n = mkkey(k, i);
		uint32_t id = put(&t, k, n, &created);

		ok = ok && created;
		order = order && id == (uint32_t)i;
		((struct val *)table_value(&t, id))->tag = i;
	}
	CHECK(ok, "200000 distinct keys are all created");
	CHECK(order, "ids follow first-seen order");
	ok = true;
	for (int i = 0; i < N; i++) {
		size_t n = mkkey(k, i);
		uint32_t id = get(&t, k, n);

		ok = ok && id != TABLE_NONE &&
		    ((struct val *)table_value(&t, id))->tag == i;
	}
	CHECK(ok, "every key is found with its value after growth");
	CHECK(table_mem_bytes(&t) / (size_t)N < 100,
	    "under 100 bytes a key for short keys");
	CHECK(t.nlive * 4 <= (size_t)t.index_cap * 3,
	    "the index is at most 3/4 full");
	table_free(&t);
}

static void
test_delete(void)
{
	struct table t;
	char k[32];
	bool created, ok = true;
	int N = 5000;
	uint32_t id, live = 0, prev = 0;
	bool first = true, sorted = true;

	table_init(&t, sizeof(struct val));
	for (int i = 0; i < N; i++) {
		size_t n = mkkey(k, i);

		id = put(&t, k, n, &created);
		((struct val *)table_value(&t, id))->tag = i;
	}
	/* Delete every other key while iterating: ids must stay valid. */
	for (id = 0; id < table_end(&t); id++)
		if (table_live(&t, id) && id % 2 == 0)
			table_delete(&t, id);
	CHECK(table_count(&t) == (size_t)N / 2, "half the keys are left");
	for (int i = 0; i < N; i++) {
		size_t n = mkkey(k, i);

		id = get(&t, k, n);
		ok = ok && ((i % 2 == 0) == (id == TABLE_NONE));
		if (id != TABLE_NONE)
			ok = ok &&
			    ((struct val *)table_value(&t, id))->tag == i;
	}
	CHECK(ok, "deleted keys are gone, the others found (probe chains "
	    "survive tombstones)");
	for (id = 0; id < table_end(&t); id++)
		if (table_live(&t, id))
			live++;
	CHECK(live == (uint32_t)N / 2, "iteration skips dead entries");

	id = put(&t, "key0", 4, &created);
	CHECK(created && id == (uint32_t)N, "a deleted key comes back as new, "
	    "last in order");

	table_compact(&t);
	CHECK(table_end(&t) == (uint32_t)N / 2 + 1,
	    "compaction drops dead ids");
	ok = true;
	for (id = 0; id < table_end(&t); id++) {
		int64_t tag = ((struct val *)table_value(&t, id))->tag;

		ok = ok && table_live(&t, id);
		if (!first && tag != 0)
			sorted = sorted && (uint32_t)tag > prev;
		prev = (uint32_t)tag;
		first = false;
	}
	CHECK(ok && sorted, "compaction keeps first-seen order");
	ok = true;
	for (int i = 1; i < N; i += 2) {
		size_t n = mkkey(k, i), kn;
		const char *kp;

		id = get(&t, k, n);
		kp = id == TABLE_NONE ? NULL : table_key(&t, id, &kn);
		ok = ok && kp && kn == n && memcmp(kp, k, n) == 0 &&
		    ((struct val *)table_value(&t, id))->tag == i;
	}
	CHECK(ok, "keys and values survive compaction");
	CHECK(get(&t, "key0", 4) == table_end(&t) - 1,
	    "the re-added key is last");
	table_free(&t);
}

static void
test_churn(void)
{
	struct table t;
	char k[32];
	bool created, ok = true;
	size_t peak = 0;

	/* A sliding set of 1000 live keys, as windows come and go: memory
	 * must stay bounded when the caller compacts. */
	table_init(&t, sizeof(struct val));
	for (int i = 0; i < 200000; i++) {
		size_t n = mkkey(k, i);

		put(&t, k, n, &created);
		if (i >= 1000) {
			n = mkkey(k, i - 1000);
			table_delete(&t, get(&t, k, n));
		}
		if (i % 1000 == 999)
			table_maybe_compact(&t);
		if (i > 20000 && table_mem_bytes(&t) > peak)
			peak = table_mem_bytes(&t);
	}
	for (int i = 199000; i < 200000; i++) {
		size_t n = mkkey(k, i);

		ok = ok && get(&t, k, n) != TABLE_NONE;
	}
	CHECK(ok && table_count(&t) == 1000, "the last 1000 keys are live");
	CHECK(peak < 400000, "memory stays bounded under churn");
	CHECK(t.ntomb < t.index_cap, "tombstones are cleared");
	for (uint32_t id = 0; id < table_end(&t); id++)
		table_delete(&t, id);
	table_compact(&t);
	CHECK(table_count(&t) == 0 && table_end(&t) == 0,
	    "deleting everything then compacting empties the table");
	CHECK(get(&t, "key5", 4) == TABLE_NONE,
	    "an emptied table finds nothing");
	put(&t, "again", 5, &created);
	CHECK(created && get(&t, "again", 5) == 0,
	    "an emptied table is usable");
	table_free(&t);
}

static void
test_mixed_lengths(void)
{
	struct table t;
	char k[64];
	bool created, ok = true;

	/* Keys of up to 8 bytes live in the entry, longer ones in the arena:
	 * both must survive deletion and compaction. */
	table_init(&t, 8);
	for (int i = 0; i < 3000; i++) {
		size_t n = (size_t)snprintf(k, sizeof k, "%.*s%d", i % 12,
		    "abcdefghijkl", i);

		put(&t, k, n, &created);
		ok = ok && created;
	}
	CHECK(ok, "3000 keys of 1 to 16 bytes are created");
	for (uint32_t id = 0; id < table_end(&t); id += 3)
		table_delete(&t, id);
	table_compact(&t);
	ok = true;
	for (int i = 0; i < 3000; i++) {
		size_t n = (size_t)snprintf(k, sizeof k, "%.*s%d", i % 12,
		    "abcdefghijkl", i), kn;
		uint32_t id = get(&t, k, n);
		const char *kp = id == TABLE_NONE ? NULL :
		    table_key(&t, id, &kn);

		if (i % 3 == 0)
			ok = ok && id == TABLE_NONE;
		else
			ok = ok && kp && kn == n && memcmp(kp, k, n) == 0;
	}
	CHECK(ok, "short and long keys survive compaction");
	CHECK(get(&t, "abcdefgh", 8) == TABLE_NONE &&
	    get(&t, "abcdefgh8", 9) != TABLE_NONE,
	    "an 8-byte prefix of a long key is another key");
	table_free(&t);
}

static void
test_hash(void)
{
	uint32_t a = table_hash("hello", 5), b = table_hash("hello", 5);
	uint32_t c = table_hash("hellp", 5), d = table_hash("hello world!", 12);

	CHECK(a == b, "the hash is deterministic");
	CHECK(a != c && a != d, "nearby keys hash apart");
	CHECK(table_hash("", 0) != table_hash("\0", 1),
	    "the length is part of the hash");
}

int
main(void)
{
	test_basic();
	test_binary_keys();
	test_many();
	test_delete();
	test_churn();
	test_mixed_lengths();
	test_hash();
	return unit_done();
}
