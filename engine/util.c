/*
 * util.c - list, hash table and SipHash-2-4 (Aumasson & Bernstein, 2012).
 */
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static uint8_t hash_key[16];

void util_init_key(void)
{
	size_t got = 0;
	while (got < sizeof(hash_key)) {
		ssize_t r = getrandom(hash_key + got, sizeof(hash_key) - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                    \
	do {                                                                        \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);           \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                              \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                              \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);           \
	} while (0)

/* One unaligned little-endian load (was a byte loop gcc -O2 did not merge:
 * the hash of every packet's 5-tuple, docs/performance.md history). */
static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* SipHash-2-4 state: init from the key, one message word (2 rounds), and
 * the last word plus finalisation (2 + 4 rounds). */
struct sip {
	uint64_t v0, v1, v2, v3;
};

__attribute__((always_inline)) static inline void sip_init(struct sip *s, const uint8_t key[16])
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	s->v0 = 0x736f6d6570736575ULL ^ k0;
	s->v1 = 0x646f72616e646f6dULL ^ k1;
	s->v2 = 0x6c7967656e657261ULL ^ k0;
	s->v3 = 0x7465646279746573ULL ^ k1;
}

__attribute__((always_inline)) static inline void sip_word(struct sip *s, uint64_t m)
{
	uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3 ^ m;
	SIPROUND;
	SIPROUND;
	s->v0 = v0 ^ m;
	s->v1 = v1;
	s->v2 = v2;
	s->v3 = v3;
}

/* b: the last 0-7 bytes with the total length in the top byte. */
__attribute__((always_inline)) static inline uint64_t sip_final(struct sip *s, uint64_t b)
{
	sip_word(s, b);
	uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2 ^ 0xff, v3 = s->v3;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *p = data;
	struct sip s;
	sip_init(&s, key);
	size_t full = len & ~(size_t)7;
	for (size_t i = 0; i < full; i += 8)
		sip_word(&s, le64(p + i));
	uint64_t b = (uint64_t)len << 56;
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)p[full + i] << (8 * i);
	return sip_final(&s, b);
}

uint64_t rv_hash(const void *p, size_t len)
{
	return siphash24(hash_key, p, len);
}

/* siphash24(hash_key, le64(a) || le32(b), 12) without the byte loop: one
 * message block and the final block (the length and b), 8 rounds instead
 * of the 14 of a 38-byte key. */
uint64_t rv_hash_u64_u32(uint64_t a, uint32_t b)
{
	struct sip s;
	sip_init(&s, hash_key);
	sip_word(&s, a);
	return sip_final(&s, (uint64_t)12 << 56 | b);
}

uint64_t rv_hash2(const void *a, size_t alen, const void *b, size_t blen)
{
	return rv_hash(a, alen) * 0x9e3779b97f4a7c15ULL ^ rv_hash(b, blen);
}

int htab_init(struct htab *t, size_t initial, size_t max_buckets)
{
	size_t n = 16;
	while (n < initial)
		n <<= 1;
	t->b = calloc(n, sizeof(*t->b));
	if (!t->b)
		return -1;
	t->mask = n - 1;
	t->n = 0;
	t->max_buckets = max_buckets < n ? n : max_buckets;
	return 0;
}

void htab_destroy(struct htab *t)
{
	free(t->b);
	t->b = NULL;
}

static void htab_grow(struct htab *t)
{
	size_t nb = (t->mask + 1) * 2;
	if (nb > t->max_buckets)
		return;
	struct hnode **b = calloc(nb, sizeof(*b));
	if (!b)
		return; /* keep working with longer chains */
	for (size_t i = 0; i <= t->mask; i++) {
		struct hnode *n = t->b[i];
		while (n) {
			struct hnode *next = n->next;
			size_t j = n->hash & (nb - 1);
			n->next = b[j];
			b[j] = n;
			n = next;
		}
	}
	free(t->b);
	t->b = b;
	t->mask = nb - 1;
}

void htab_insert(struct htab *t, struct hnode *n, uint64_t hash)
{
	if (t->n >= t->mask + 1)
		htab_grow(t);
	n->hash = hash;
	size_t i = hash & t->mask;
	n->next = t->b[i];
	t->b[i] = n;
	t->n++;
}

void htab_remove(struct htab *t, struct hnode *n)
{
	struct hnode **pp = &t->b[n->hash & t->mask];
	while (*pp) {
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			t->n--;
			return;
		}
		pp = &(*pp)->next;
	}
}

struct hnode *htab_first(const struct htab *t, uint64_t hash)
{
	struct hnode *n = t->b[hash & t->mask];
	while (n && n->hash != hash)
		n = n->next;
	return n;
}

struct hnode *htab_next(const struct hnode *n, uint64_t hash)
{
	struct hnode *m = n->next;
	while (m && m->hash != hash)
		m = m->next;
	return m;
}

uint64_t util_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t util_wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
