/*
 * ipreasm.h - IPv4 (RFC 791/815) and IPv6 (RFC 8200 sec. 4.5) fragment
 * reassembly with bounded memory.
 *
 * Fragments are keyed by (version, src, dst, protocol, id).  They may arrive
 * in any order.  Limits: number of datagrams in progress, total buffered
 * bytes, per-datagram size (65535 for IPv4, 65535 payload for IPv6), and a
 * timeout measured in capture time.  Overlapping fragments (RFC 5722: the
 * whole datagram is dropped), oversize datagrams, and table-full evictions
 * are dropped and counted; nothing is ever written outside its buffer.
 *
 * The rebuilt datagram is a normal unfragmented IP packet (v4: MF/offset
 * cleared, total length and checksum fixed; v6: Fragment header removed and
 * the preceding Next Header fixed) that decode_ip() accepts.
 *
 * Not thread-safe: one instance per thread.  Depends on libc only.
 */
#ifndef RV_PARSERS_IPREASM_H
#define RV_PARSERS_IPREASM_H

#include "decode.h"

struct ipreasm;

struct ipreasm_limits {
	uint32_t max_datagrams; /* in progress at once */
	size_t max_bytes;       /* fragment payload bytes buffered in total */
	uint64_t timeout_us;    /* capture-time age after which an incomplete datagram is dropped */
};

struct ipreasm_stats {
	uint64_t fragments;   /* fragments fed */
	uint64_t reassembled; /* datagrams completed */
	uint64_t timeouts;    /* datagrams dropped incomplete after timeout */
	uint64_t overlaps;    /* datagrams dropped for overlapping fragments */
	uint64_t oversize;    /* datagrams dropped for exceeding the maximum size */
	uint64_t evicted;     /* datagrams dropped to make room (count or bytes limit) */
	uint64_t bad;         /* malformed fragments (zero length, misaligned offset, ...) */
};

enum ipreasm_result {
	IPR_MORE = 0,       /* kept, datagram not complete yet */
	IPR_DONE = 1,       /* *out holds the rebuilt datagram */
	IPR_DROPPED = -1,   /* fragment or datagram dropped; stats say why */
};

/* returns owned (NULL on allocation failure) */
struct ipreasm *ipreasm_new(const struct ipreasm_limits *lim);
void ipreasm_free(struct ipreasm *r);

/* Feeds a fragment (pkt->is_frag).  On IPR_DONE, *out / *out_len borrow an
 * internal buffer valid until the next call on r. */
int ipreasm_feed(struct ipreasm *r, const struct pkt *frag, uint64_t now_us,
		 const uint8_t **out, size_t *out_len);

/* Drops datagrams older than the timeout.  Cheap when nothing expires. */
void ipreasm_expire(struct ipreasm *r, uint64_t now_us);

const struct ipreasm_stats *ipreasm_stats(const struct ipreasm *r);
/* Current buffered bytes and datagrams (for bounds tests). */
size_t ipreasm_bytes(const struct ipreasm *r);
uint32_t ipreasm_count(const struct ipreasm *r);

#endif
