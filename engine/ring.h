/*
 * ring.h - the hand-off ring between the threads of a pipeline: fixed-size
 * elements copied in and out, one producer and one consumer.  It is DPDK's
 * rte_ring (the _elem API), initialised on memory of our own so that it
 * works with or without the EAL (the in-process benchmark and the tests run
 * without one).  Only built with DPDK (RV_HAVE_DPDK).
 */
#ifndef RV_RING_H
#define RV_RING_H

#include <stdbool.h>
#include <stddef.h>

struct rv_ring;

/* count is rounded up to a power of two; esize must be a multiple of 4.
 * Returns NULL when out of memory or the sizes are invalid. */
struct rv_ring *rv_ring_new(const char *name, size_t esize, unsigned count);
void rv_ring_free(struct rv_ring *r);
/* Copies one element in; false when the ring is full. */
bool rv_ring_put(struct rv_ring *r, const void *elem);
/* Copies up to max elements out into out[]; returns how many. */
unsigned rv_ring_get(struct rv_ring *r, void *out, unsigned max);
unsigned rv_ring_count(const struct rv_ring *r);

#endif
