/*
 * test_util.c - SipHash-2-4 reference vectors, the intrusive hash table and
 * the JSON writer's escaping (every output must be valid JSON).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "util.h"

static void test_siphash_vectors(void **state)
{
	(void)state;
	/* Aumasson & Bernstein reference: key 00..0f, messages 00..(n-1) */
	uint8_t key[16], msg[64];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	assert_int_equal(siphash24(key, msg, 0), 0x726fdb47dd0e0e31ULL);
	assert_int_equal(siphash24(key, msg, 1), 0x74f839c593dc67fdULL);
	assert_int_equal(siphash24(key, msg, 8), 0x93f5f5799a932462ULL);
	assert_int_equal(siphash24(key, msg, 15), 0xa129ca6149be45e5ULL);
	assert_int_equal(siphash24(key, msg, 63), 0x958a324ceb064572ULL);
}

/* rv_hash_u64_u32 is rv_hash of le64(a) || le32(b): the same keyed
 * SipHash-2-4, only without the byte loop. */
static void test_hash_u64_u32(void **state)
{
	(void)state;
	util_init_key();
	uint64_t x = 0x0123456789abcdefULL;
	for (int i = 0; i < 1000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t a = x;
		uint32_t b = (uint32_t)(x >> 21) ^ (uint32_t)i;
		uint8_t m[12];
		for (int k = 0; k < 8; k++)
			m[k] = (uint8_t)(a >> (8 * k));
		for (int k = 0; k < 4; k++)
			m[8 + k] = (uint8_t)(b >> (8 * k));
		assert_int_equal(rv_hash_u64_u32(a, b), rv_hash(m, sizeof(m)));
	}
	assert_int_equal(rv_hash_u64_u32(0, 0), rv_hash("\0\0\0\0\0\0\0\0\0\0\0\0", 12));
}

struct item {
	struct hnode hn;
	int key;
};

static void test_htab(void **state)
{
	(void)state;
	util_init_key();
	struct htab t;
	assert_int_equal(htab_init(&t, 16, 1 << 20), 0);
	enum { N = 5000 };
	struct item *items = calloc(N, sizeof(*items));
	for (int i = 0; i < N; i++) {
		items[i].key = i;
		htab_insert(&t, &items[i].hn, rv_hash(&i, sizeof(i)));
	}
	assert_int_equal(t.n, N);
	for (int i = 0; i < N; i += 7) {
		uint64_t h = rv_hash(&i, sizeof(i));
		struct hnode *n = htab_first(&t, h);
		while (n && container_of(n, struct item, hn)->key != i)
			n = htab_next(n, h);
		assert_non_null(n);
		htab_remove(&t, n);
	}
	for (int i = 0; i < N; i++) {
		uint64_t h = rv_hash(&i, sizeof(i));
		struct hnode *n = htab_first(&t, h);
		while (n && container_of(n, struct item, hn)->key != i)
			n = htab_next(n, h);
		if (i % 7 == 0)
			assert_null(n);
		else
			assert_non_null(n);
	}
	htab_destroy(&t);
	free(items);
}

static void test_json_escape(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;
	json_init(&j, f, false);
	json_obj_open(&j, NULL);
	json_strn(&j, "a", "q\"b\\\n\x01\xff\xc3\xa9", 9);
	json_u64(&j, "n", 42);
	json_time(&j, "t", 1767225600123456ULL);
	json_time(&j, "z", 0);
	json_arr_open(&j, "l");
	json_u64(&j, NULL, 1);
	json_u64(&j, NULL, 2);
	json_arr_close(&j);
	json_obj_close(&j);
	fclose(f);
	assert_string_equal(buf, "{\"a\":\"q\\\"b\\\\\\n\\u0001\\u00ff\xc3\xa9\",\"n\":42,"
				 "\"t\":1767225600.123456,\"z\":null,\"l\":[1,2]}");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_hash_u64_u32),
		cmocka_unit_test(test_htab),
		cmocka_unit_test(test_json_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
