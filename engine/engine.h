/*
 * engine.h - the correlation core: packets in, calls out.
 *
 * One struct engine owns everything one worker needs: decoders' state (IP
 * and TCP reassembly), the call table (SIP dialogs keyed by Call-ID), the
 * media expectations learnt from SDP (ip:port -> call and party), and the
 * RTP streams (5-tuple -> stream).  It runs on capture time: every timer
 * (INVITE timeout, RTP inactivity, linger after BYE) is measured with the
 * packets' timestamps, so an offline file gives the same result however
 * fast it is read.
 *
 * What happens to calls is reported through a sink (struct engine_sink):
 * `analyze` prints them, the recorder (consent gate, storage) keeps them.
 * The engine does not know which sink it feeds, nor which capture backend
 * feeds it.
 *
 * Bounded state: max_calls, max_streams, max_expectations, TCP and IP
 * reassembly limits come from the config.  When the call table is full the
 * oldest call that was never answered is dropped (counted); answered calls
 * are only ended early when no unanswered call is left to drop.
 */
#ifndef RV_ENGINE_H
#define RV_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "counters.h"
#include "decode.h"
#include "rtp.h"
#include "sip.h"
#include "util.h"

enum party { PARTY_CALLER = 0, PARTY_CALLEE = 1 };
#define OTHER_PARTY(p) ((uint8_t)(1 - (p)))

enum call_phase { PH_SETUP = 0, PH_ANSWERED, PH_HOLD, PH_ENDED };

enum end_reason {
	END_NONE = 0,
	END_BYE,
	END_CANCEL,
	END_REJECTED,
	END_RTP_INACTIVITY,
	END_CAPTURE_END,
	END_TIMEOUT,
	END_EVICTED,
};

enum call_outcome { OUT_ANSWERED, OUT_CANCELLED, OUT_REJECTED, OUT_FAILED, OUT_UNANSWERED };

enum dtmf_source { DTMF_RFC4733 = 0, DTMF_SIP_INFO, DTMF_INBAND };

struct rv_dtmf {
	char digit;
	uint8_t source; /* enum dtmf_source */
	uint8_t party;  /* sender */
	uint64_t ts_us;
	uint32_t ssrc;     /* rfc4733 / inband */
	uint16_t seq;      /* RTP sequence of the packet that carried it */
	uint32_t cseq;     /* sip-info */
	uint32_t duration_ms;
};

/*
 * Payload types learnt from one party's SDP (a=rtpmap): at most RV_PT_MAP
 * per party, encoding names cut to RV_PT_ENC_MAX characters.  The map is
 * one allocation sized to its entries (engine-private, media.c); read it
 * through call_pt() (engine_int.h) and stream_codec().  A name read from it
 * stays valid until that party's next SDP changes the map.
 */
#define RV_PT_MAP 16
#define RV_PT_ENC_MAX 23
struct pt_map;
struct pt_info {
	uint8_t pt;
	uint32_t rate;
	const char *enc; /* as written in the SDP, NUL-terminated */
};

#define RV_MAX_SSRCS 8
#define RV_MAX_HELD 9

struct held_pkt {
	uint64_t ts_us;
	uint32_t len;
	uint8_t *data; /* the RTP packet (header + payload), owned */
};

struct rv_call;

/* Fields are ordered by alignment (8, 4, then 2 and 1 byte) so the struct
 * has no holes: one is allocated per stream, two per call. */
struct rv_stream {
	struct hnode hn;         /* streams table, by 5-tuple */
	struct list call_link;   /* call->streams, in order of creation */
	struct rv_call *call;
	uint64_t first_us, last_us;

	uint64_t packets;        /* audio packets (incl. duplicates) */
	uint64_t event_packets;  /* telephone-event packets */
	uint64_t dups;
	uint64_t lost_closed;    /* loss of finished segments */
	uint64_t pt_bits[2];

	/* active segment: RFC 3550 A.1 bookkeeping with a duplicate window
	 * (with active, ssrc and bad_seq below) */
	uint64_t base_ext, max_ext, unique;
	uint64_t win[2];

	/* probation candidate for a new SSRC (with cand_ssrc, cand_last_seq,
	 * cand_n below): RV_MAX_HELD slots, allocated only while a candidate
	 * holds packets, else NULL */
	struct held_pkt *cand;

	/* in-band DTMF (engine/inband.h), allocated on the first G.711 packet
	 * the detector is wanted for, freed when it no longer is */
	void *dtmf_rx;

	void *sink_data;         /* owned by the sink */

	uint32_t ssrcs[RV_MAX_SSRCS];
	uint32_t ssrc;           /* of the active segment */
	uint32_t bad_seq;
	uint32_t cand_ssrc;
	/* RFC 4733 de-duplication: the (ssrc, timestamp) of the last event */
	uint32_t ev_ssrc, ev_ts;

	struct ip_addr src, dst;
	uint16_t sport, dport;
	uint16_t cand_last_seq;

	uint8_t party;           /* who sends */
	bool port_only;          /* matched by port alone */
	uint8_t n_ssrcs;
	bool has_audio_pt;
	uint8_t audio_pt;
	bool g711;               /* audio is PCMU/PCMA: in-band DTMF possible */
	bool alaw;
	bool active;
	uint8_t cand_n;
	bool ev_valid;
	bool inband_off;         /* the sink's want_inband said no: never again */
};

struct rv_expect;

/* Ordered by alignment like struct rv_stream (one per tracked call). */
struct rv_call {
	struct hnode hn;         /* calls table, by Call-ID */
	struct list tl;          /* timer list of its phase */
	uint64_t tl_since;       /* time it was put on / touched on that list */
	uint64_t id;             /* record id, monotonic */
	/* One allocation holds the Call-ID, then the caller and callee user
	 * parts of the first INVITE's From and To (each cut to 63 bytes), each
	 * NUL-terminated; caller and callee point into it. */
	char *call_id;
	const char *caller, *callee;
	uint64_t cid_hash;       /* rv_hash of the Call-ID (also picks the pipeline worker) */
	uint64_t caller_tag_h;   /* hash of the caller's From tag */
	uint64_t callee_tag_h;
	uint64_t invite_us, answer_us, end_us, last_us;

	struct pt_map *pt[2];    /* payload types from each party's SDP, NULL if none */

	struct list streams;
	struct list expects;

	struct rv_dtmf *dtmf;

	uint64_t rtcp_packets;
	uint64_t sip_messages;

	void *sink_data;

	uint32_t call_id_len;    /* <= sip.max_callid_len */
	enum call_phase phase;
	int final_status;
	uint32_t invite_cseq;
	enum end_reason end_reason;
	unsigned n_streams;
	unsigned n_expects;
	unsigned n_dtmf, cap_dtmf;
	uint32_t last_info_cseq[2];
	uint32_t invites, reinvites;

	/* trunk and signalling endpoints of the first INVITE */
	struct ip_addr sig_src, sig_dst;
	uint16_t sig_sport, sig_dport;

	bool callee_tag_set;
	bool answered, cancel_seen, bye_seen;
	bool hold[2];            /* party's latest SDP says sendonly/inactive/recvonly */
	bool info_seen[2];
};

/* A packet accepted on a stream, as the sink sees it. */
struct rtp_view {
	const struct rtp_hdr *h;
	const uint8_t *pkt;  /* RTP header + payload as captured */
	size_t len;
	uint64_t ts_us;
	bool dup;            /* a copy of a packet already seen */
	bool event;          /* telephone-event packet */
};

struct engine_sink {
	void (*call_new)(void *ctx, struct rv_call *c);
	/* every SIP message on a call, after the engine has applied it */
	void (*call_sip)(void *ctx, struct rv_call *c, const struct sip_msg *m, uint8_t sender, uint64_t ts_us);
	void (*call_answered)(void *ctx, struct rv_call *c);
	void (*rtp)(void *ctx, struct rv_call *c, struct rv_stream *s, const struct rtp_view *v);
	void (*dtmf)(void *ctx, struct rv_call *c, const struct rv_dtmf *d);
	/* Is the in-band DTMF detector wanted on this G.711 stream?  NULL:
	 * always detect.  Asked before each packet the detector would read; a
	 * false answer is final for the stream: its detector is freed and the
	 * question is not asked again.  The recorder answers false where no
	 * in-band digit could change anything (decided calls, the other party). */
	bool (*want_inband)(void *ctx, struct rv_call *c, struct rv_stream *s);
	/* the call is over: last chance to read it; freed after return */
	void (*call_end)(void *ctx, struct rv_call *c);
	void (*stream_free)(void *ctx, struct rv_stream *s);
};

/*
 * Router: set on the call-control engine of a multi-worker pipeline
 * (pipeline.c).  That engine tracks every dialog, expectation and stream as
 * usual (so its timers and its choice of call for each datagram are the
 * single-threaded engine's) but runs no in-band DTMF detector and has an
 * empty sink; every parsed SIP message and every datagram that it ties to a
 * call is handed to the router, which passes it to the worker that owns the
 * Call-ID.  Payload pointers are valid only during the call.
 */
struct engine_router {
	void (*sip)(void *ctx, uint64_t cid_hash, const uint8_t *msg, size_t len, const struct ip_addr *src,
		    uint16_t sport, const struct ip_addr *dst, uint16_t dport, uint64_t ts);
	void (*media)(void *ctx, uint64_t cid_hash, const struct pkt *p, uint64_t ts);
};

struct engine;

/* returns owned; cfg and sink are borrowed for the engine's lifetime */
struct engine *engine_new(const struct rv_config *cfg, const struct engine_sink *sink, void *ctx);
void engine_free(struct engine *e);
void engine_set_link(struct engine *e, enum dec_link link);
/* One captured frame. */
void engine_packet(struct engine *e, uint64_t ts_us, const uint8_t *frame, uint32_t caplen, uint32_t wirelen);
/* Call control of a pipeline: see struct engine_router (r borrowed). */
void engine_set_router(struct engine *e, const struct engine_router *r, void *ctx);
/* A worker of a pipeline: one SIP message or one UDP datagram that the
 * call-control engine routed here, processed exactly as engine_packet would
 * after decoding (no timers run: the pipeline ticks the worker first). */
void engine_sip_unit(struct engine *e, uint64_t ts, const uint8_t *msg, size_t len, const struct ip_addr *src,
		     uint16_t sport, const struct ip_addr *dst, uint16_t dport);
void engine_media_unit(struct engine *e, uint64_t ts, const struct pkt *p);
/* Capture time of the latest packet or tick. */
uint64_t engine_now(const struct engine *e);
/* Advances capture time without a packet (live capture idle) and runs timers. */
void engine_tick(struct engine *e, uint64_t now_us);
/* End of capture: every call still open is ended (capture_end) and reported. */
void engine_finish(struct engine *e);
/* Counters including the reassemblers' statistics. */
void engine_counters(const struct engine *e, struct rv_counters *out);
/* Follow RTP flows that no signalling announced (analyze reports them as
 * streams without a call; the recorder never keeps them). */
void engine_set_orphans(struct engine *e, bool on);
struct orphan;
void engine_each_orphan(struct engine *e, void (*cb)(void *ctx, const struct orphan *s), void *ctx);

/* Current live object counts, for bounds tests and stats. */
void engine_sizes(const struct engine *e, uint64_t *calls, uint64_t *streams, uint64_t *expects);

enum call_outcome call_outcome(const struct rv_call *c);
const char *call_outcome_name(enum call_outcome o);
const char *end_reason_name(enum end_reason r);
const char *party_name(uint8_t p);
const char *dtmf_source_name(uint8_t s);
/* Codec name of the stream's audio payload type ("PCMU"...), "" if none;
 * valid until the call's next SDP (see struct pt_map). */
const char *stream_codec(const struct rv_stream *s);
uint64_t stream_lost(const struct rv_stream *s);

#endif
