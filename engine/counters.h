/*
 * counters.h - every packet the engine sees ends up in a counter: processed,
 * ignored as ordinary non-VoIP traffic, or dropped for a named reason.
 * Malformed input is never logged per packet; it is counted here.
 *
 * Named counters come from one X-macro list; parser result codes get one
 * counter each, named after the parser's own *_err_name() table.  The
 * struct is per worker (no sharing on the hot path) and summed for reports.
 */
#ifndef RV_COUNTERS_H
#define RV_COUNTERS_H

#include <stdint.h>
#include <stdio.h>

#include "decode.h"
#include "rtp.h"
#include "sdp.h"
#include "sip.h"

#define RV_COUNTERS(X)                                                                         \
	X(packets, "frames read from the capture")                                              \
	X(bytes, "bytes of those frames (on the wire)")                                         \
	X(frames_truncated, "frames shorter on disk than on the wire (snaplen)")               \
	X(ip_fragments, "IP fragments fed to reassembly")                                      \
	X(ip_reassembled, "IP datagrams rebuilt from fragments")                               \
	X(ip_frag_timeouts, "incomplete datagrams dropped after frag_timeout")                 \
	X(ip_frag_overlaps, "datagrams dropped for overlapping fragments")                     \
	X(ip_frag_oversize, "datagrams dropped for exceeding 64 KiB")                          \
	X(ip_frag_evicted, "datagrams dropped because the reassembly table was full")         \
	X(ip_frag_bad, "malformed fragments")                                                  \
	X(tcp_segments, "TCP segments on SIP connections")                                     \
	X(tcp_messages, "SIP messages cut out of TCP streams")                                 \
	X(tcp_retransmissions, "TCP segments already seen")                                    \
	X(tcp_out_of_order, "TCP segments queued ahead of a gap")                              \
	X(tcp_gaps_skipped, "TCP holes given up on")                                           \
	X(tcp_overflows, "TCP buffers dropped at tcp_buffer")                                  \
	X(tcp_resyncs, "TCP bytes skipped to find a SIP message start")                       \
	X(tcp_evicted, "TCP connections dropped because the table was full")                   \
	X(tcp_expired, "TCP connections dropped after tcp_idle_timeout")                       \
	X(tcp_abandoned, "TCP directions ignored after an invalid Content-Length (smuggling)") \
	X(tcp_non_sip, "TCP segments not on a SIP connection")                                 \
	X(ws_frames, "WebSocket frames decoded")                                               \
	X(ws_bad, "malformed WebSocket frames")                                                \
	X(sctp_messages, "SIP messages in SCTP DATA chunks")                                   \
	X(sctp_bad, "malformed SCTP chunks")                                                   \
	X(sctp_fragmented, "fragmented SCTP messages that could not be joined")                            \
	X(sip_messages, "SIP messages parsed")                                                 \
	X(sip_retransmissions, "SIP requests and responses seen again")                        \
	X(sip_callid_too_long, "SIP messages dropped for a Call-ID above max_callid_len")       \
	X(sip_non_call, "SIP messages outside any call (REGISTER, OPTIONS, ...)")               \
	X(sip_orphan, "in-dialog SIP messages for a call not being tracked")                    \
	X(sip_sdp_malformed_multipart, "SIP bodies whose multipart structure is broken")        \
	X(sdp_parsed, "SDP bodies parsed")                                                     \
	X(sdp_no_address, "SDP media without a usable connection address")                     \
	X(sdp_flagged, "SDP bodies with parts skipped (too many media/formats, bad values)")    \
	X(calls_created, "calls (dialogs by Call-ID) started")                                 \
	X(calls_reopened, "new INVITE on a rejected Call-ID (e.g. after 401/407)")             \
	X(calls_finished, "calls ended and reported")                                          \
	X(calls_evicted_unanswered, "unanswered calls dropped because max_calls was reached") \
	X(calls_evicted_answered, "answered calls ended early because max_calls was reached") \
	X(expectations_added, "media addresses learnt from SDP")                               \
	X(expectations_evicted, "media addresses dropped because max_expectations was reached") \
	X(udp_unmatched, "UDP datagrams that are neither SIP nor expected media")             \
	X(streams_created, "RTP streams attached to calls")                                    \
	X(streams_table_full, "RTP packets dropped because max_streams was reached")           \
	X(rtp_packets, "RTP packets accepted on streams (audio and events)")                   \
	X(rtp_malformed_on_call, "malformed RTP on a known stream's 5-tuple, dropped")         \
	X(rtp_probation_failed, "RTP packets of sources that never passed probation")         \
	X(rtp_source_rejected, "RTP to a call's port from a source its party never announced (hijack attempt)") \
	X(rtp_port_only_matches, "RTP streams matched to a call by port alone (NAT)")          \
	X(rtp_events, "RFC 4733 telephone-event packets")                                      \
	X(rtp_non_dtmf_events, "RFC 4733 events that are not DTMF digits")                     \
	X(dtmf_rfc4733, "DTMF digits from RFC 4733 events")                                    \
	X(dtmf_sip_info, "DTMF digits from SIP INFO")                                          \
	X(dtmf_inband, "DTMF digits detected in G.711 audio")                                  \
	X(dtmf_inband_suppressed, "in-band digits already reported as RFC 4733 events")        \
	X(dtmf_dropped, "DTMF digits above the per-call limit")                                \
	X(sip_info_malformed, "SIP INFO DTMF bodies that could not be read")                   \
	X(rtcp_packets, "RTCP packets on calls")                                                \
	X(rtcp_malformed, "malformed RTCP on a call's RTCP port")

enum rv_counter {
#define RV_C_ENUM(name, doc) C_##name,
	RV_COUNTERS(RV_C_ENUM)
#undef RV_C_ENUM
	C__COUNT
};

struct rv_counters {
	uint64_t c[C__COUNT];
	uint64_t dec[DEC_E__COUNT];   /* index -code */
	uint64_t sip[SIP_E__COUNT];
	uint64_t sdp[SDP_E__COUNT];
	uint64_t rtp[RTP_E__COUNT];
	uint64_t rtcp[RTCP_E__COUNT];
};

#define CNT(cs, name) ((cs)->c[C_##name]++)
#define CNT_ADD(cs, name, n) ((cs)->c[C_##name] += (n))

static inline void counters_err(uint64_t *arr, int n, int code)
{
	if (code < 0 && -code < n)
		arr[-code]++;
}

struct json;
/* Writes every counter as "name": value pairs into an open JSON object. */
void counters_json(const struct rv_counters *c, struct json *j);
/* "name value" lines, zero counters omitted unless all is set. */
void counters_print(const struct rv_counters *c, FILE *f, int all);

#endif
