/*
 * dpdk_ring.c - struct rv_ring on rte_ring (see ring.h).
 *
 * rte_ring_init() on cache-aligned memory from aligned_alloc() needs no
 * EAL memzone; the enqueue/dequeue functions are header-inline and need no
 * EAL either, so the same ring serves DPDK lcores and plain threads.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "ring.h"

struct rv_ring {
	size_t esize;
	struct rte_ring *r;
};

struct rv_ring *rv_ring_new(const char *name, size_t esize, unsigned count)
{
	if (esize == 0 || esize % 4 || count == 0 || count > (1u << 24))
		return NULL;
	unsigned n = (unsigned)rte_align32pow2(count + 1);
	ssize_t sz = rte_ring_get_memsize_elem((unsigned)esize, n);
	if (sz < 0)
		return NULL;
	struct rv_ring *rr = calloc(1, sizeof(*rr));
	size_t bytes = ((size_t)sz + RTE_CACHE_LINE_SIZE - 1) & ~(size_t)(RTE_CACHE_LINE_SIZE - 1);
	void *mem = rr ? aligned_alloc(RTE_CACHE_LINE_SIZE, bytes) : NULL;
	if (!mem) {
		free(rr);
		return NULL;
	}
	memset(mem, 0, bytes);
	rr->r = mem;
	rr->esize = esize;
	if (rte_ring_init(rr->r, name, n, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0) {
		free(mem);
		free(rr);
		return NULL;
	}
	return rr;
}

void rv_ring_free(struct rv_ring *r)
{
	if (!r)
		return;
	free(r->r);
	free(r);
}

bool rv_ring_put(struct rv_ring *r, const void *elem)
{
	return rte_ring_sp_enqueue_elem(r->r, (void *)(uintptr_t)elem, (unsigned)r->esize) == 0;
}

unsigned rv_ring_get(struct rv_ring *r, void *out, unsigned max)
{
	return rte_ring_sc_dequeue_burst_elem(r->r, out, (unsigned)r->esize, max, NULL);
}

unsigned rv_ring_count(const struct rv_ring *r)
{
	return rte_ring_count(r->r);
}
