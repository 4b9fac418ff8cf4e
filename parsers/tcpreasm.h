/*
 * tcpreasm.h - per-direction TCP byte-stream reassembly for message
 * protocols (SIP over TCP, RFC 3261 sec. 18.3; SIP over WebSocket, RFC 7118).
 *
 * Each direction of a connection (src ip:port -> dst ip:port) has a buffer.
 * Segments are placed by sequence number: retransmissions (already-seen
 * bytes) are trimmed, segments ahead of the next expected byte wait in an
 * out-of-order queue (bounded window and count), gaps that never fill are
 * skipped after the queue is full (counted).  A connection first seen
 * mid-stream (no SYN) starts at its first segment.  A FIN/RST or idle
 * timeout frees the direction.
 *
 * Contiguous bytes are cut into messages by a caller-supplied framer (e.g.
 * sip_frame()); each message is delivered through a callback.  When one
 * direction carries an HTTP "Upgrade: websocket" request and the other a
 * "101" answer, the connection switches to WebSocket framing (RFC 6455):
 * frames are unmasked into a private buffer and each complete text/binary
 * message (continuations joined, bounded) is delivered whole.
 *
 * Bounded: max connections (least recently used evicted, counted), bytes per
 * direction (overflow drops the buffer and resynchronises on the next
 * message start, counted).  Depends on libc only.  Not thread-safe.
 */
#ifndef RV_PARSERS_TCPREASM_H
#define RV_PARSERS_TCPREASM_H

#include "decode.h"

struct tcpreasm;

/* A message framer: given contiguous bytes p[0..len), returns
 *   1  a message of *msg_len bytes starts at p (deliver it, consume it),
 *   0  need more bytes,
 *  -1  p does not start a message: consume *skip (>= 1) bytes and retry,
 *  -2  the framing is lost for good (e.g. an invalid Content-Length): the
 *      direction is abandoned, as a peer would close the connection; its
 *      later bytes are ignored until a new SYN (counted in abandoned). */
typedef int (*tcpreasm_frame_fn)(const uint8_t *p, size_t len, size_t *msg_len, size_t *skip);

/* One delivered message.  msg borrows memory valid only during the call. */
struct tcp_msg {
	struct ip_addr src, dst;
	uint16_t sport, dport;
	uint64_t ts_us;       /* capture time of the segment that completed it */
	bool websocket;       /* came out of a WebSocket frame */
	const uint8_t *msg;
	size_t len;
};
typedef void (*tcpreasm_msg_fn)(void *ctx, const struct tcp_msg *m);

struct tcpreasm_limits {
	uint32_t max_conns;    /* directions tracked at once */
	size_t max_buf;        /* bytes buffered per direction (in order + out of order) */
	uint32_t max_ooo_segs; /* out-of-order segments kept per direction */
	uint64_t idle_us;      /* capture-time idle timeout */
};

struct tcpreasm_stats {
	uint64_t segments;
	uint64_t messages;
	uint64_t retransmissions; /* segments wholly or partly already seen */
	uint64_t out_of_order;    /* segments queued ahead of a gap */
	uint64_t gaps_skipped;    /* holes given up on */
	uint64_t overflows;       /* buffer limit hit, buffer dropped */
	uint64_t resyncs;         /* bytes skipped by the framer to find a message start */
	uint64_t evicted;         /* directions dropped to make room */
	uint64_t expired;         /* directions dropped by idle timeout */
	uint64_t ws_frames;       /* WebSocket frames decoded */
	uint64_t ws_bad;          /* malformed WebSocket frames */
	uint64_t abandoned;       /* directions whose framing was lost (framer -2): ignored until a new SYN */
};

/* returns owned.  NULL when frame or cb is NULL, max_conns or max_buf is 0,
 * or out of memory.  idle_us 0 disables tcpreasm_expire().  Memory held is
 * at most about max_conns * 3 * max_buf (stream buffer, out-of-order queue,
 * one fragmented WebSocket message) plus a small struct per direction, as
 * reported by tcpreasm_bytes().  The callback must not call back into t. */
struct tcpreasm *tcpreasm_new(const struct tcpreasm_limits *lim, tcpreasm_frame_fn frame,
			      tcpreasm_msg_fn cb, void *ctx);
void tcpreasm_free(struct tcpreasm *t);

/* Feeds one decoded TCP segment (p->proto == TCP).  Messages completed by
 * it are delivered before it returns. */
void tcpreasm_feed(struct tcpreasm *t, const struct pkt *p, uint64_t ts_us);

/* Frees directions idle for >= idle_us, oldest first, stopping at the first
 * direction still active (feed order approximates capture-time order). */
void tcpreasm_expire(struct tcpreasm *t, uint64_t now_us);
const struct tcpreasm_stats *tcpreasm_stats(const struct tcpreasm *t);
uint32_t tcpreasm_conns(const struct tcpreasm *t);
size_t tcpreasm_bytes(const struct tcpreasm *t);

/* true when the direction of p (or its reverse) is being tracked, so a
 * caller can keep feeding a connection it accepted earlier on content. */
bool tcpreasm_tracks(const struct tcpreasm *t, const struct pkt *p);

#endif
