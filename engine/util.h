/*
 * util.h - small engine-wide building blocks: an intrusive doubly linked
 * list, an intrusive chained hash table keyed by 64-bit SipHash values, and
 * SipHash-2-4 itself (keyed per process so that an attacker who controls
 * Call-IDs or addresses cannot aim them at one bucket).
 *
 * The hash table never compares keys: callers walk the nodes with an equal
 * hash and compare their own keys.  It grows by doubling while it is below
 * its configured bucket ceiling; the number of entries is bounded by the
 * owner (max calls, max streams), not by the table.
 */
#ifndef RV_UTIL_H
#define RV_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct list {
	struct list *prev, *next;
};

static inline void list_init(struct list *l)
{
	l->prev = l->next = l;
}

static inline bool list_empty(const struct list *l)
{
	return l->next == l;
}

static inline bool list_linked(const struct list *n)
{
	return n->next != NULL && n->next != n;
}

static inline void list_add_tail(struct list *head, struct list *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static inline void list_del(struct list *n)
{
	if (n->next) {
		n->prev->next = n->next;
		n->next->prev = n->prev;
	}
	n->next = n->prev = NULL;
}

static inline void list_move_tail(struct list *head, struct list *n)
{
	list_del(n);
	list_add_tail(head, n);
}

struct hnode {
	struct hnode *next;
	uint64_t hash;
};

struct htab {
	struct hnode **b;
	size_t mask;
	size_t n;
	size_t max_buckets;
};

int htab_init(struct htab *t, size_t initial, size_t max_buckets);
void htab_destroy(struct htab *t);
void htab_insert(struct htab *t, struct hnode *n, uint64_t hash);
void htab_remove(struct htab *t, struct hnode *n);
/* First / next node whose hash equals hash, NULL at the end. */
struct hnode *htab_first(const struct htab *t, uint64_t hash);
struct hnode *htab_next(const struct hnode *n, uint64_t hash);

/* SipHash-2-4 with the process key (util_init_key() must run first). */
uint64_t rv_hash(const void *p, size_t len);
uint64_t rv_hash2(const void *a, size_t alen, const void *b, size_t blen);
/* rv_hash of the 12 bytes le64(a) || le32(b) (the same value), for keys
 * that fit: an IPv4 5-tuple of the stream table, once per packet. */
uint64_t rv_hash_u64_u32(uint64_t a, uint32_t b);
void util_init_key(void);
uint64_t siphash24(const uint8_t key[16], const void *p, size_t len);

/* Monotonic wall clock in microseconds (for progress and rates, never for
 * protocol timers, which run on capture time). */
uint64_t util_mono_us(void);
uint64_t util_wall_us(void);

#endif
