/*
 * sipctl.c - SIP dialogs as a passive observer sees them (RFC 3261 sec. 12,
 * 13, 15; RFC 3262 PRACK; RFC 3311 UPDATE; RFC 6086 INFO) and the media
 * expectations their SDP creates (RFC 3264 offer/answer).
 *
 * A call is keyed by Call-ID.  The caller is the party that sent the
 * initial INVITE (its From tag identifies it later); every other message is
 * attributed to a party by comparing its From tag with the caller's: a
 * request is sent by the From party, a response by the other one.  Each SDP
 * says where its sender will RECEIVE media, so an expectation (address,
 * port -> call, party) is recorded for every RTP m= line.  Hold (sendonly,
 * recvonly, inactive, or c=0.0.0.0) suspends the inactivity timer.
 *
 * What it does not do: forked dialogs are folded into one call (all
 * answers count as the callee), and a re-INVITE for a Call-ID that was
 * never seen starting is only counted (the call's orientation is unknown).
 */
#include "engine_int.h"

#include <stdio.h>
#include <string.h>

static uint64_t tag_hash(struct span tag)
{
	return tag.len ? rv_hash(tag.p, tag.len) : 0;
}

/* Which party sent m on call c. */
static uint8_t msg_sender(const struct rv_call *c, const struct sip_msg *m)
{
	bool from_is_caller;
	if (m->from_tag.len && c->caller_tag_h)
		from_is_caller = tag_hash(m->from_tag) == c->caller_tag_h;
	else
		from_is_caller = m->from_user.len == strlen(c->caller) &&
				 memcmp(m->from_user.p, c->caller, m->from_user.len) == 0;
	uint8_t orig = from_is_caller ? PARTY_CALLER : PARTY_CALLEE;
	return m->is_request ? orig : OTHER_PARTY(orig);
}

static void apply_sdp(struct engine *e, struct rv_call *c, const struct sip_msg *m, uint8_t party, uint64_t ts)
{
	struct span body;
	int r = sip_body_sdp(m, &body);
	if (r < 0) {
		CNT(&e->cnt, sip_sdp_malformed_multipart);
		return;
	}
	if (r == 0)
		return;
	struct sdp *sd = &e->sdp;
	int rc = sdp_parse(body.p, body.len, sd);
	if (rc < 0) {
		counters_err(e->cnt.sdp, SDP_E__COUNT, rc);
		return;
	}
	CNT(&e->cnt, sdp_parsed);
	if (sd->flags)
		CNT(&e->cnt, sdp_flagged);
	bool hold = false, any = false;
	for (unsigned i = 0; i < sd->n_media && i < SDP_MAX_MEDIA; i++) {
		const struct sdp_media *md = &sd->m[i];
		if (!md->rtp || md->port == 0)
			continue;
		any = true;
		pt_map_update(&c->pt[party], md);
		if (md->dir != SDP_SENDRECV)
			hold = true;
		if (!md->has_conn) {
			CNT(&e->cnt, sdp_no_address);
			continue;
		}
		if (ip_addr_is_unspec(&md->conn)) {
			hold = true; /* RFC 2543 hold: c=0.0.0.0 */
			continue;
		}
		expect_add(e, c, &md->conn, md->port, party, EXP_RTP, ts);
		if (!md->rtcp_mux && e->cfg->rtp_rtcp) {
			uint16_t rp = md->rtcp_port ? md->rtcp_port : (uint16_t)(md->port + 1);
			const struct ip_addr *ra = md->rtcp_addr.family ? &md->rtcp_addr : &md->conn;
			if (rp)
				expect_add(e, c, ra, rp, party, EXP_RTCP, ts);
		}
	}
	if (!any)
		return;
	c->hold[party] = hold;
	bool on_hold = c->hold[0] || c->hold[1];
	if (c->phase == PH_ANSWERED && on_hold)
		call_set_phase(e, c, PH_HOLD, ts);
	else if (c->phase == PH_HOLD && !on_hold)
		call_set_phase(e, c, PH_ANSWERED, ts);
}

static void end_call(struct engine *e, struct rv_call *c, enum end_reason why, uint64_t ts)
{
	if (c->phase == PH_ENDED)
		return;
	c->end_reason = why;
	c->end_us = ts;
	call_set_phase(e, c, PH_ENDED, ts);
}

static void handle_info(struct engine *e, struct rv_call *c, const struct sip_msg *m, uint8_t sender, uint64_t ts)
{
	char digit;
	uint32_t dur = 0;
	int r = sip_info_dtmf(m, &digit, &dur);
	if (r < 0)
		CNT(&e->cnt, sip_info_malformed);
	if (r != 1)
		return;
	if (c->info_seen[sender] && c->last_info_cseq[sender] == m->cseq) {
		CNT(&e->cnt, sip_retransmissions);
		return;
	}
	c->info_seen[sender] = true;
	c->last_info_cseq[sender] = m->cseq;
	struct rv_dtmf d = { .digit = digit, .source = DTMF_SIP_INFO, .party = sender, .ts_us = ts,
			     .cseq = m->cseq, .duration_ms = dur };
	CNT(&e->cnt, dtmf_sip_info);
	call_add_dtmf(e, c, &d);
}

static void handle_initial_invite(struct engine *e, struct rv_call **cp, const struct sip_msg *m, uint64_t h,
				  const struct ip_addr *src, uint16_t sport, const struct ip_addr *dst,
				  uint16_t dport, uint64_t ts)
{
	struct rv_call *c = *cp;
	if (c) {
		if (m->cseq == c->invite_cseq) {
			CNT(&e->cnt, sip_retransmissions);
			return;
		}
		if (c->phase == PH_ENDED && !c->answered) {
			/* a new attempt after 401/407 (or any rejection) on the same Call-ID */
			c->final_status = 0;
			c->cancel_seen = false;
			c->end_reason = END_NONE;
			c->end_us = 0;
			c->invite_cseq = m->cseq;
			call_set_phase(e, c, PH_SETUP, ts);
			CNT(&e->cnt, calls_reopened);
			return;
		}
		if (c->phase == PH_SETUP) {
			if (m->cseq > c->invite_cseq) {
				/* a new attempt, e.g. with credentials after 401/407 */
				c->invite_cseq = m->cseq;
				c->final_status = 0;
				c->end_us = 0;
			}
			return;
		}
		if (c->phase != PH_ENDED)
			return; /* INVITE without To tag inside an answered call: ignore */
		/* the Call-ID is reused after a completed call: report the old one */
		call_finalize(e, c);
		c = NULL;
	}
	c = call_create(e, m->call_id.p, m->call_id.len, h, m->from_user, m->to_user, ts);
	*cp = c;
	if (!c)
		return;
	c->caller_tag_h = tag_hash(m->from_tag);
	c->invite_cseq = m->cseq;
	c->sig_src = *src;
	c->sig_dst = *dst;
	c->sig_sport = sport;
	c->sig_dport = dport;
}

void sip_handle(struct engine *e, const uint8_t *p, size_t len, const struct ip_addr *src, uint16_t sport,
		const struct ip_addr *dst, uint16_t dport, uint64_t ts)
{
	struct sip_msg *m = &e->sipmsg;
	int rc = sip_parse(p, len, m);
	if (rc < 0) {
		counters_err(e->cnt.sip, SIP_E__COUNT, rc);
		return;
	}
	CNT(&e->cnt, sip_messages);
	if (m->call_id.len > (size_t)e->cfg->sip_max_callid_len) {
		CNT(&e->cnt, sip_callid_too_long);
		return;
	}
	uint64_t h = rv_hash(m->call_id.p, m->call_id.len);
	if (e->router)
		e->router->sip(e->router_ctx, h, p, len, src, sport, dst, dport, ts);
	struct rv_call *c = call_find(e, m->call_id.p, m->call_id.len, h);

	if (m->is_request && m->method == SIP_M_INVITE && m->to_tag.len == 0) {
		handle_initial_invite(e, &c, m, h, src, sport, dst, dport, ts);
		if (!c)
			return;
		c->invites++;
	}
	if (!c) {
		if (m->is_request && (m->method == SIP_M_REGISTER || m->method == SIP_M_OPTIONS ||
				      m->method == SIP_M_SUBSCRIBE || m->method == SIP_M_PUBLISH ||
				      m->method == SIP_M_NOTIFY || m->method == SIP_M_MESSAGE))
			CNT(&e->cnt, sip_non_call);
		else if (!m->is_request && m->cseq_method != SIP_M_INVITE && m->cseq_method != SIP_M_BYE &&
			 m->cseq_method != SIP_M_CANCEL && m->cseq_method != SIP_M_ACK &&
			 m->cseq_method != SIP_M_INFO && m->cseq_method != SIP_M_UPDATE &&
			 m->cseq_method != SIP_M_PRACK)
			CNT(&e->cnt, sip_non_call);
		else
			CNT(&e->cnt, sip_orphan);
		return;
	}

	c->sip_messages++;
	uint8_t sender = msg_sender(c, m);
	call_touch(e, c, ts);

	if (m->is_request) {
		switch (m->method) {
		case SIP_M_INVITE:
			if (m->to_tag.len)
				c->reinvites++;
			apply_sdp(e, c, m, sender, ts);
			break;
		case SIP_M_ACK:
		case SIP_M_PRACK:
		case SIP_M_UPDATE:
			apply_sdp(e, c, m, sender, ts);
			break;
		case SIP_M_BYE:
			c->bye_seen = true;
			end_call(e, c, END_BYE, ts);
			break;
		case SIP_M_CANCEL:
			if (!c->answered && c->phase == PH_SETUP) {
				c->cancel_seen = true;
				end_call(e, c, END_CANCEL, ts);
			}
			break;
		case SIP_M_INFO:
			handle_info(e, c, m, sender, ts);
			break;
		default:
			break;
		}
	} else if (m->cseq_method == SIP_M_INVITE) {
		bool initial = sender == PARTY_CALLEE && m->cseq >= c->invite_cseq && !c->answered;
		if (sender == PARTY_CALLEE && !c->callee_tag_set && m->to_tag.len) {
			c->callee_tag_h = tag_hash(m->to_tag);
			c->callee_tag_set = true;
		}
		if (m->status >= 200 && m->status < 300) {
			if (initial) {
				c->answered = true;
				c->answer_us = ts;
				c->final_status = m->status;
				if (c->phase == PH_ENDED && c->end_reason == END_CANCEL) {
					/* the 200 won the race against CANCEL */
					c->cancel_seen = false;
					c->end_reason = END_NONE;
					c->end_us = 0;
				}
				call_set_phase(e, c, (c->hold[0] || c->hold[1]) ? PH_HOLD : PH_ANSWERED, ts);
				apply_sdp(e, c, m, sender, ts);
				if (e->sink->call_answered)
					e->sink->call_answered(e->sink_ctx, c);
			} else {
				apply_sdp(e, c, m, sender, ts);
			}
		} else if (m->status >= 300) {
			if (initial) {
				bool first = c->final_status == 0;
				c->final_status = m->status;
				if (c->phase == PH_ENDED && c->end_reason == END_CANCEL) {
					/* 487 after our CANCEL: keep the CANCEL as the end */
				} else if (m->status == 401 || m->status == 407) {
					/* an authentication challenge: the caller usually
					 * retries on the same Call-ID, so the call stays in
					 * setup; if no retry comes within invite_timeout it
					 * ends as rejected at the challenge's time */
					c->end_us = ts;
				} else if (first || c->phase != PH_ENDED) {
					end_call(e, c, END_REJECTED, ts);
				}
			}
		} else {
			apply_sdp(e, c, m, sender, ts); /* 183 with early media */
		}
	} else if (m->cseq_method == SIP_M_UPDATE || m->cseq_method == SIP_M_PRACK) {
		if (m->status >= 200 && m->status < 300)
			apply_sdp(e, c, m, sender, ts);
	}

	if (e->sink->call_sip)
		e->sink->call_sip(e->sink_ctx, c, m, sender, ts);
}
