/*
 * orphan.h - RTP seen without any signalling: what Wireshark's heuristic RTP
 * decoder would show, reported by `analyze` (never recorded: without SIP
 * there is no call, no party, no consent).
 *
 * A UDP flow that no SDP announced becomes an orphan stream once two of its
 * packets carry RTP version 2 with one SSRC and consecutive sequence numbers
 * (RFC 3550 A.1 probation), so random UDP traffic does not qualify.  Packets
 * of payload type 101 (the customary telephone-event type, as tshark
 * assumes) count as RFC 4733 events, one digit per (SSRC, timestamp).
 * Bounded: at most ORPHAN_MAX flows are followed; the oldest is dropped
 * (counted) to make room.  Engine-internal; enabled by engine_set_orphans().
 */
#ifndef RV_ORPHAN_H
#define RV_ORPHAN_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "util.h"

#define ORPHAN_MAX 4096
#define ORPHAN_MAX_DIGITS 64

struct orphan {
	struct hnode hn;
	struct list fifo;
	struct ip_addr src, dst;
	uint16_t sport, dport;
	bool accepted;
	uint32_t ssrc;           /* of the probation run */
	uint16_t last_seq;
	uint8_t run;             /* in-sequence packets of the probation run */
	uint32_t pre_audio, pre_events; /* packets seen before acceptance (counted once accepted) */
	uint64_t pre_first_us;
	uint32_t ssrcs[8];
	uint8_t n_ssrcs;
	uint64_t pt_bits[2];
	uint64_t packets, event_packets;
	uint64_t first_us, last_us;
	bool ev_valid;
	uint32_t ev_ssrc, ev_ts;
	uint8_t n_digits;
	char digits[ORPHAN_MAX_DIGITS];
	uint64_t digit_us[ORPHAN_MAX_DIGITS];
};

struct orphans {
	struct htab tab;
	struct list fifo;
	uint32_t n;
	uint64_t evicted;
};

int orphans_init(struct orphans *o);
void orphans_free(struct orphans *o);
/* A UDP datagram that matched no stream, expectation or SIP. */
void orphans_udp(struct orphans *o, const struct pkt *p, uint64_t ts);
/* Calls cb for every accepted orphan stream, in order of first packet. */
void orphans_each(struct orphans *o, void (*cb)(void *ctx, const struct orphan *s), void *ctx);

#endif
