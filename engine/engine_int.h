/*
 * engine_int.h - the engine's private state, shared by engine.c (pipeline,
 * timers, call table), sipctl.c (SIP dialogs, SDP) and media.c
 * (expectations, RTP streams, DTMF).  Not for use outside engine/.
 */
#ifndef RV_ENGINE_INT_H
#define RV_ENGINE_INT_H

#include "engine.h"
#include "orphan.h"
#include "ipreasm.h"
#include "sdp.h"
#include "tcpreasm.h"

#define RV_MAX_DTMF_PER_CALL 256
#define RV_MAX_EXPECTS_PER_CALL 32

enum expect_kind { EXP_RTP = 0, EXP_RTCP = 1 };

struct rv_expect {
	struct hnode hn_addr;   /* by (addr, port) */
	struct hnode hn_port;   /* by port alone (NAT fallback) */
	struct list call_link;
	struct list fifo;       /* global age order */
	struct rv_call *call;
	struct ip_addr addr;
	uint16_t port;
	uint8_t party;          /* whose SDP announced it: that party receives here */
	uint8_t kind;
	uint64_t created_us;
};

/* SIP messages split over several SCTP DATA chunks are joined here: a few
 * slots, each one message in progress per (addresses, ports, stream). */
#define RV_SCTP_SLOTS 32
#define RV_SCTP_MAX_MSG (64 * 1024)
struct sctp_slot {
	bool used;
	struct ip_addr src, dst;
	uint16_t sport, dport, stream;
	uint32_t next_tsn;
	uint64_t last_us;
	uint8_t *buf;
	size_t len;
};

struct engine {
	const struct rv_config *cfg;
	const struct engine_sink *sink;
	void *sink_ctx;
	const struct engine_router *router; /* call control of a pipeline, else NULL */
	void *router_ctx;
	struct rv_counters cnt;
	enum dec_link link;

	uint64_t now_us;
	uint64_t last_tick_us;
	uint64_t next_id;

	struct htab calls;
	uint64_t n_calls;
	struct list l_phase[4];   /* timer lists by enum call_phase */

	struct htab streams;
	uint64_t n_streams;

	struct htab exp_addr, exp_port;
	struct list exp_fifo;
	uint64_t n_expects;

	struct ipreasm *ipr;
	struct tcpreasm *tcp;

	struct sctp_slot sctp[RV_SCTP_SLOTS];

	bool want_orphans;        /* analyze: follow RTP without signalling */
	struct orphans orphans;

	struct sip_msg sipmsg;    /* scratch, reused per message */
	struct sdp sdp;
};

/* engine.c */
struct rv_call *call_find(struct engine *e, const uint8_t *cid, size_t len, uint64_t h);
/* caller, callee: user parts of the INVITE's From and To (cut to 63 bytes) */
struct rv_call *call_create(struct engine *e, const uint8_t *cid, size_t len, uint64_t h, struct span caller,
			    struct span callee, uint64_t ts);
void call_set_phase(struct engine *e, struct rv_call *c, enum call_phase ph, uint64_t ts);
void call_touch(struct engine *e, struct rv_call *c, uint64_t ts);
void call_finalize(struct engine *e, struct rv_call *c);
void call_add_dtmf(struct engine *e, struct rv_call *c, const struct rv_dtmf *d);

/* sipctl.c */
void sip_handle(struct engine *e, const uint8_t *p, size_t len, const struct ip_addr *src, uint16_t sport,
		const struct ip_addr *dst, uint16_t dport, uint64_t ts);

/* media.c */
void expect_add(struct engine *e, struct rv_call *c, const struct ip_addr *a, uint16_t port, uint8_t party,
		uint8_t kind, uint64_t ts);
void expect_free_call(struct engine *e, struct rv_call *c);
/* Returns true when the datagram belonged to a stream or expectation. */
bool media_udp(struct engine *e, const struct pkt *p, uint64_t ts, bool known_only);
void stream_free_call(struct engine *e, struct rv_call *c);
/* The a=rtpmap entry for pt that receiver announced (else the other
 * party's); false if neither has one.  out->enc: see struct pt_map. */
bool call_pt(const struct rv_call *c, uint8_t receiver, uint8_t pt, struct pt_info *out);
/* Applies one m= section's a=rtpmap lines to a party's map (*pm, NULL when
 * empty): an entry per payload type, first come, at most RV_PT_MAP; a
 * later rtpmap for a known pt replaces its name and rate.  The map is
 * reallocated to its new size; on allocation failure it is left as it was. */
void pt_map_update(struct pt_map **pm, const struct sdp_media *md);
void pt_map_free(struct pt_map *pm);

#endif
