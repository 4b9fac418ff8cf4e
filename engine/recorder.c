/*
 * recorder.c - consent gate, RAM-only holding, chunk sealing (see
 * recorder.h).
 *
 * Invariant: bytes reach recorder_persist() only in state granted or
 * exempt, outside a pause, before a withdrawal.  The check is repeated there
 * and a violation is counted (pending_bytes_persisted_without_consent) and refused,
 * so the counter proves the invariant in every test run.
 *
 * Profiles (profile.h) are chosen at the initial INVITE: the call's data key
 * is wrapped with its profile's KEK (loaded in recorder_new, fail closed),
 * its deadline is invite + the profile's retention (0s: no expiry entry),
 * the metadata carries "profile" and "retention_deadline".  Index HMACs always
 * use the [storage] KEK.  For a minor (the profile's minor_header on the
 * INVITE) only the guardian's signal grants (guardian_sequence digits from the
 * consent party, or guardian_header: granted); the minor's own grant is
 * ignored and counted in signals_ignored_digit; the evidence has "minor" and
 * "guardian".
 */
#include "recorder.h"

#include <inttypes.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "engine_int.h"
#include "json.h"
#include "profile.h"
#include "log.h"
#include "record.h"
#include "store.h"

#define ID_BLOCK 256
#define MAX_PAUSES 32

static const char *const state_names[] = { "pending", "granted", "denied", "timeout", "withdrawn", "exempt", "none" };
static const char *const method_names[] = { NULL, "rfc4733", "sip-info", "inband", "sip-header", "exempt" };
static const char *const rc_names[] = {
#define RC_NAME(n, d) #n,
	RECORDER_COUNTERS(RC_NAME)
#undef RC_NAME
};

const char *consent_state_name(int s)
{
	return s >= 0 && s < CONSENT__COUNT ? state_names[s] : "unknown";
}

int consent_state_parse(const char *name)
{
	for (int i = 0; i < CONSENT__COUNT; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

const char *consent_method_name(int m)
{
	return m > 0 && m <= CM_EXEMPT ? method_names[m] : NULL;
}

const char *recorder_counter_name(int i)
{
	return i >= 0 && i < RC__COUNT ? rc_names[i] : "?";
}

/* Audio held before a decision: packets appended to blocks of HOLD_BLOCK
 * bytes (one allocation per block, not per packet), in arrival order. */
#define HOLD_BLOCK 16384

struct held {
	struct rstream *st;
	uint64_t ts;
	uint32_t len;
	uint32_t pad;
	uint8_t data[];
};

struct hblock {
	struct hblock *next;
	size_t used, cap;
	size_t payload;    /* packet bytes in the block (for the RAM bounds) */
	uint32_t packets;
	uint32_t pad;
	uint8_t mem[];
};

#define HELD_SIZE(len) ((sizeof(struct held) + (len) + 7) & ~(size_t)7)

struct rstream {
	struct rcall *rc;
	struct rv_stream *s;   /* NULL once the engine freed it */
	uint16_t idx;
	struct rec_stream desc;
	uint8_t *buf;          /* chunk plaintext being filled */
	size_t len;
};

struct pause_span {
	uint64_t start, end;
};

struct rcall {
	struct rv_call *c;
	struct list pend;      /* on recorder.pending while it holds audio */
	uint8_t state, method, sig_party;
	bool exempt_checked;
	char value[48];
	uint64_t t_decision;
	uint32_t ssrc, cseq;
	uint16_t seq;
	char sip_method[16];
	const char *basis;
	bool paused;
	unsigned n_pauses;
	struct pause_span pauses[MAX_PAUSES];
	uint64_t withdraw_us;

	struct hblock *head, *tail;
	size_t held_bytes;

	bool persisting, truncated;
	uint64_t record_id;
	struct rv_dek dek;
	uint32_t meta_version;
	struct rstream **streams;
	uint16_t n_streams, cap_streams;
	char digits[2][16];
	uint64_t kept;
	size_t profile;        /* index into recorder.prof, chosen at the initial INVITE */
	bool profile_chosen, minor, guardian;
	char gdigits[16];      /* recent digits of the consent party (guardian sequence) */
};

struct recorder {
	const struct rv_config *cfg;
	struct aead *aead;       /* one sealing context, re-keyed per chunk */
	const struct rv_kek *kek;
	struct writer *w;
	uint64_t cnt[RC__COUNT];
	uint64_t states[CONSENT__COUNT];
	uint64_t next_id, ids_left;
	size_t pending_total;
	struct list pending;
	bool m_rfc4733, m_info, m_inband, m_header;
	regex_t callee_re, caller_re;
	bool has_callee_re, has_caller_re;
	char ex_hname[128], ex_hvalue[256];
	struct profiles prof;
	bool prof_ok;
	const struct rv_kek *pkek[RV_CONFIG_MAX_PROFILES + 1]; /* wrapping key per profile */
	struct rv_kek own[RV_CONFIG_MAX_PROFILES + 1];         /* profile key files other than [storage] */
	bool own_loaded[RV_CONFIG_MAX_PROFILES + 1];
};

/* ---------------------------------------------------------------- setup */

static bool list_has(const struct rv_config_list *l, const char *word)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcasecmp(l->items[i], word) == 0)
			return true;
	return false;
}

struct recorder *recorder_new(const struct rv_config *cfg, const struct rv_kek *kek, struct writer *w, char *err,
			      size_t errlen)
{
	struct recorder *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->cfg = cfg;
	r->kek = kek;
	r->w = w;
	list_init(&r->pending);
	r->aead = aead_new();
	if (!r->aead) {
		snprintf(err, errlen, "cannot set up AES-256-GCM (OpenSSL)");
		free(r);
		return NULL;
	}
	r->m_rfc4733 = list_has(&cfg->consent_methods, "rfc4733");
	r->m_info = list_has(&cfg->consent_methods, "sip-info");
	r->m_inband = list_has(&cfg->consent_methods, "inband");
	r->m_header = list_has(&cfg->consent_methods, "sip-header");
	if (cfg->exempt_callee_regex[0]) {
		if (regcomp(&r->callee_re, cfg->exempt_callee_regex, REG_EXTENDED | REG_NOSUB) != 0) {
			snprintf(err, errlen, "[exempt] callee_regex does not compile");
			free(r);
			return NULL;
		}
		r->has_callee_re = true;
	}
	if (cfg->exempt_caller_regex[0]) {
		if (regcomp(&r->caller_re, cfg->exempt_caller_regex, REG_EXTENDED | REG_NOSUB) != 0) {
			snprintf(err, errlen, "[exempt] caller_regex does not compile");
			recorder_free(r);
			return NULL;
		}
		r->has_caller_re = true;
	}
	const char *h = cfg->exempt_header;
	if (h[0]) {
		const char *colon = strchr(h, ':');
		if (!colon || colon == h) {
			snprintf(err, errlen, "[exempt] header must be \"Name: value\"");
			recorder_free(r);
			return NULL;
		}
		snprintf(r->ex_hname, sizeof(r->ex_hname), "%.*s", (int)(colon - h), h);
		const char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		snprintf(r->ex_hvalue, sizeof(r->ex_hvalue), "%s", v);
	}
	if (profiles_init(&r->prof, cfg, err, errlen) != 0) {
		recorder_free(r);
		return NULL;
	}
	r->prof_ok = true;
	/* each profile's KEK: loaded now (before any privilege drop), fail closed */
	for (size_t i = 0; i < r->prof.n; i++) {
		const char *kf = r->prof.p[i].key_file;
		if (strcmp(kf, cfg->storage_key_file) == 0) {
			r->pkek[i] = kek;
			continue;
		}
		int rc = kek_load(kf, &r->own[i]);
		if (rc) {
			snprintf(err, errlen, "[profile %s] key file %s: %s", r->prof.p[i].name, kf, crypto_strerror(rc));
			recorder_free(r);
			return NULL;
		}
		r->own_loaded[i] = true;
		r->pkek[i] = &r->own[i];
	}
	return r;
}

void recorder_free(struct recorder *r)
{
	if (!r)
		return;
	aead_free(r->aead);
	if (r->has_callee_re)
		regfree(&r->callee_re);
	if (r->has_caller_re)
		regfree(&r->caller_re);
	if (r->prof_ok)
		profiles_free(&r->prof);
	for (size_t i = 0; i < RV_CONFIG_MAX_PROFILES + 1; i++)
		if (r->own_loaded[i])
			kek_wipe(&r->own[i]);
	free(r);
}

void recorder_counters(const struct recorder *r, uint64_t out[RC__COUNT])
{
	memcpy(out, r->cnt, sizeof(r->cnt));
}

void recorder_state_counts(const struct recorder *r, uint64_t out[CONSENT__COUNT])
{
	memcpy(out, r->states, sizeof(r->states));
}

/* ---------------------------------------------------------------- holding */

/* Wipes and frees the oldest block of held audio; counts what it held. */
static void hblock_drop(struct recorder *r, struct rcall *rc, bool count_discarded)
{
	struct hblock *b = rc->head;
	rc->head = b->next;
	if (!rc->head)
		rc->tail = NULL;
	rc->held_bytes -= b->payload;
	r->pending_total -= b->payload;
	r->cnt[RC_pending_bytes_wiped] += b->payload;
	if (count_discarded)
		r->cnt[RC_packets_discarded] += b->packets;
	else
		r->cnt[RC_pending_dropped_per_call] += b->packets;
	secure_wipe(b->mem, b->used);
	free(b);
}

/* Wipes every packet held for the call (refusal, timeout, end, eviction). */
static void held_wipe(struct recorder *r, struct rcall *rc)
{
	while (rc->head)
		hblock_drop(r, rc, true);
	list_del(&rc->pend);
}

static void hold(struct recorder *r, struct rcall *rc, struct rstream *st, uint64_t ts, const uint8_t *p, size_t len)
{
	const struct rv_config *cfg = r->cfg;
	if (len > cfg->consent_max_pending_per_call)
		return;
	/* per call: the oldest held audio makes room (a block at a time) */
	while (rc->head && rc->held_bytes + len > cfg->consent_max_pending_per_call)
		hblock_drop(r, rc, false);
	/* in total: the call that started holding first is wiped */
	while (r->pending_total + len > cfg->consent_max_pending_total && !list_empty(&r->pending)) {
		struct rcall *old = container_of(r->pending.next, struct rcall, pend);
		r->cnt[RC_pending_evicted_total]++;
		held_wipe(r, old);
		if (old == rc)
			break;
	}
	size_t need = HELD_SIZE(len);
	struct hblock *b = rc->tail;
	if (!b || b->cap - b->used < need) {
		size_t cap = need > HOLD_BLOCK ? need : HOLD_BLOCK;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return;
		b->next = NULL;
		b->used = 0;
		b->cap = cap;
		b->payload = 0;
		b->packets = 0;
		if (rc->tail)
			rc->tail->next = b;
		else
			rc->head = b;
		rc->tail = b;
	}
	struct held *h = (struct held *)(void *)(b->mem + b->used);
	h->st = st;
	h->ts = ts;
	h->len = (uint32_t)len;
	memcpy(h->data, p, len);
	b->used += need;
	b->payload += len;
	b->packets++;
	rc->held_bytes += len;
	r->pending_total += len;
	r->cnt[RC_packets_held]++;
	if (!list_linked(&rc->pend))
		list_add_tail(&r->pending, &rc->pend);
}

/* ---------------------------------------------------------------- sealing */

static int next_record_id(struct recorder *r, uint64_t *id)
{
	if (r->ids_left == 0) {
		uint64_t first;
		int rc = writer_reserve_ids(r->w, ID_BLOCK, &first);
		if (rc)
			return rc;
		r->next_id = first;
		r->ids_left = ID_BLOCK;
	}
	*id = r->next_id++;
	r->ids_left--;
	return 0;
}

static void fmt_ep(char *b, size_t n, uint8_t fam, const uint8_t *a, uint16_t port)
{
	struct ip_addr x;
	memset(&x, 0, sizeof(x));
	x.family = fam;
	memcpy(x.b, a, 16);
	ip_addr_format(&x, port, true, b, n);
}

static void stream_desc_update(struct rstream *st)
{
	struct rv_stream *s = st->s;
	if (!s)
		return;
	struct rec_stream *d = &st->desc;
	d->party = s->party;
	d->src_family = s->src.family;
	d->dst_family = s->dst.family;
	memcpy(d->src, s->src.b, 16);
	memcpy(d->dst, s->dst.b, 16);
	d->sport = s->sport;
	d->dport = s->dport;
	d->audio_pt = s->has_audio_pt ? s->audio_pt : 255;
	snprintf(d->codec, sizeof(d->codec), "%s", stream_codec(s));
	d->rate = 8000;
	struct pt_info pi;
	if (s->has_audio_pt && call_pt(s->call, OTHER_PARTY(s->party), s->audio_pt, &pi) && pi.rate)
		d->rate = pi.rate;
	d->event_pt = 255;
	for (unsigned pt = 96; pt < 128; pt++) {
		if (!(s->pt_bits[pt >> 6] & (1ULL << (pt & 63))))
			continue;
		if (call_pt(s->call, OTHER_PARTY(s->party), (uint8_t)pt, &pi) && strcasecmp(pi.enc, "telephone-event") == 0)
			d->event_pt = (uint8_t)pt;
	}
}

/* The call as `calls --json` shows it (without record_id and complete,
 * which come from the plaintext header). */
static char *meta_json(struct recorder *r, struct rcall *rc, size_t *len)
{
	const struct rv_config *cfg = r->cfg;
	struct rv_call *c = rc->c;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	struct json j;
	char ep[64];
	json_init(&j, f, false);
	const struct profile_rt *pr = &r->prof.p[rc->profile];
	json_obj_open(&j, NULL);
	json_strn(&j, "call_id", c->call_id, c->call_id_len);
	json_str(&j, "profile", pr->name);
	json_time(&j, "retention_deadline", pr->retention_us ? c->invite_us + pr->retention_us : 0);
	json_str(&j, "caller", c->caller);
	json_str(&j, "callee", c->callee);
	json_time(&j, "invite_time", c->invite_us);
	json_time(&j, "answer_time", c->answer_us);
	json_time(&j, "end_time", c->end_us);
	json_str(&j, "state", call_outcome_name(call_outcome(c)));
	if (c->final_status)
		json_i64(&j, "status", c->final_status);
	else
		json_null(&j, "status");
	json_str(&j, "end_reason", c->end_reason ? end_reason_name(c->end_reason) : NULL);
	json_obj_open(&j, "consent");
	json_str(&j, "state", consent_state_name(rc->state));
	json_str(&j, "method", consent_method_name(rc->method));
	json_str(&j, "party", rc->method && rc->method != CM_EXEMPT ? party_name(rc->sig_party) : NULL);
	json_time(&j, "time", rc->t_decision);
	json_str(&j, "value", rc->value[0] ? rc->value : NULL);
	json_str(&j, "basis", rc->basis);
	json_bool(&j, "minor", rc->minor);
	json_bool(&j, "guardian", rc->guardian);
	if (rc->method == CM_RFC4733 || rc->method == CM_INBAND) {
		char hx[16];
		snprintf(hx, sizeof(hx), "0x%08x", rc->ssrc);
		json_str(&j, "ssrc", hx);
		json_u64(&j, "rtp_seq", rc->seq);
	} else if (rc->method == CM_SIP_INFO || rc->method == CM_SIP_HEADER) {
		json_u64(&j, "sip_cseq", rc->cseq);
		json_str(&j, "sip_method", rc->sip_method);
	}
	json_time(&j, "withdrawn_time", rc->withdraw_us);
	json_obj_open(&j, "policy");
	json_str(&j, "party", config_enum_word("consent", "party", cfg->consent_party));
	json_u64(&j, "window_s", cfg->consent_window / 1000000u);
	json_str(&j, "grant_digit", cfg->consent_grant_digit);
	json_str(&j, "refuse_digit", cfg->consent_refuse_digit);
	json_str(&j, "withdraw_digit", cfg->consent_withdraw_digit);
	json_str(&j, "pre_consent_audio", config_enum_word("consent", "pre_consent_audio", cfg->consent_pre_consent_audio));
	json_arr_open(&j, "methods");
	for (size_t i = 0; i < cfg->consent_methods.count; i++)
		json_str(&j, NULL, cfg->consent_methods.items[i]);
	json_arr_close(&j);
	json_obj_close(&j);
	json_obj_close(&j);
	json_arr_open(&j, "pauses");
	for (unsigned i = 0; i < rc->n_pauses; i++) {
		json_obj_open(&j, NULL);
		json_time(&j, "start", rc->pauses[i].start);
		json_time(&j, "end", rc->pauses[i].end);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_arr_open(&j, "streams");
	for (unsigned i = 0; i < rc->n_streams; i++) {
		struct rstream *st = rc->streams[i];
		json_obj_open(&j, NULL);
		json_str(&j, "party", party_name(st->desc.party));
		fmt_ep(ep, sizeof(ep), st->desc.src_family, st->desc.src, st->desc.sport);
		json_str(&j, "src", ep);
		fmt_ep(ep, sizeof(ep), st->desc.dst_family, st->desc.dst, st->desc.dport);
		json_str(&j, "dst", ep);
		json_str(&j, "codec", st->desc.codec);
		json_u64(&j, "packets_kept", st->desc.packets);
		json_u64(&j, "chunks", st->desc.chunks);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	fclose(f);
	return buf;
}

/* Seals and queues the call's record (header + metadata). */
static void write_record(struct recorder *r, struct rcall *rc, bool complete)
{
	struct rv_call *c = rc->c;
	struct rec_meta *m = calloc(1, sizeof(*m));
	size_t jl = 0;
	char *js = meta_json(r, rc, &jl);
	if (!m || !js) {
		free(m);
		free(js);
		return;
	}
	for (unsigned i = 0; i < rc->n_streams && i < REC_MAX_STREAMS; i++) {
		stream_desc_update(rc->streams[i]);
		m->streams[m->n_streams++] = rc->streams[i]->desc;
	}
	m->json = js;
	m->json_len = jl;
	struct store_rec h;
	memset(&h, 0, sizeof(h));
	h.record_id = rc->record_id;
	h.invite_us = c->invite_us;
	h.end_us = c->end_us;
	const struct profile_rt *pr = &r->prof.p[rc->profile];
	const struct rv_kek *wk = r->pkek[rc->profile];
	h.deadline_us = pr->retention_us ? c->invite_us + pr->retention_us : 0;
	h.flags = (complete ? REC_F_COMPLETE : 0) | (rc->kept ? REC_F_AUDIO : 0) | (rc->truncated ? REC_F_TRUNCATED : 0);
	h.consent_state = rc->state;
	h.kek_id = wk->id;
	h.meta_version = ++rc->meta_version;
	uint8_t *sealed = NULL;
	size_t sl = 0;
	int e1 = dek_wrap(wk, &rc->dek, rc->record_id, h.wrapped_dek);
	int e2 = index_hmac(r->kek, c->caller, strlen(c->caller), h.caller_hmac);
	int e3 = index_hmac(r->kek, c->callee, strlen(c->callee), h.callee_hmac);
	int e4 = e1 || e2 || e3 ? -1 : rec_meta_seal(&rc->dek, rc->record_id, h.meta_version, m, &sealed, &sl);
	secure_wipe(js, jl);
	free(js);
	free(m);
	if (e4) {
		r->cnt[RC_crypto_errors]++;
		return;
	}
	r->cnt[RC_bytes_sealed] += sl;
	writer_put_record(r->w, &h, sealed, sl);
}

/* Allocates the record and its data key and writes the first (incomplete)
 * version of the record, so a crash leaves a visible, incomplete call. */
static bool record_start(struct recorder *r, struct rcall *rc, bool with_initial)
{
	if (rc->record_id)
		return true;
	if (writer_full(r->w)) {
		r->cnt[RC_store_full_calls]++;
		rc->truncated = true;
		return false;
	}
	if (next_record_id(r, &rc->record_id) != 0 || dek_generate(&rc->dek) != 0) {
		r->cnt[RC_crypto_errors]++;
		rc->record_id = 0;
		return false;
	}
	uint8_t hm[RV_HMAC_LEN];
	if (index_hmac(r->kek, rc->c->call_id, rc->c->call_id_len, hm) == 0)
		writer_put_callid(r->w, hm, rc->record_id);
	uint64_t ret = r->prof.p[rc->profile].retention_us;
	if (ret) /* retention 0s: kept until erased, never swept */
		writer_put_expiry(r->w, rc->c->invite_us + ret, rc->record_id);
	if (with_initial)
		write_record(r, rc, false);
	return true;
}

static void seal_chunk(struct recorder *r, struct rstream *st, bool final)
{
	struct rcall *rc = st->rc;
	uint8_t aad[STORE_CHUNK_AAD_LEN], nonce[RV_NONCE_LEN];
	uint32_t seq = st->desc.chunks;
	store_chunk_aad(rc->record_id, st->idx, seq, final, aad);
	store_chunk_nonce(st->idx, seq, nonce);
	uint8_t *ct = malloc(st->len + RV_TAG_LEN);
	if (!ct || aead_seal_ctx(r->aead, rc->dek.key, nonce, aad, sizeof(aad), st->buf, st->len, ct) != 0) {
		free(ct);
		r->cnt[RC_crypto_errors]++;
		rc->truncated = true;
		return;
	}
	secure_wipe(st->buf, st->len);
	r->cnt[RC_bytes_sealed] += st->len + RV_TAG_LEN;
	r->cnt[RC_chunks]++;
	writer_put_chunk(r->w, rc->record_id, st->idx, seq, ct, st->len + RV_TAG_LEN);
	st->desc.chunks++;
	st->len = 0;
}

static void put_entry(struct recorder *r, struct rstream *st, uint64_t ts, uint8_t kind, const uint8_t *p, size_t len)
{
	if (len > STORE_CHUNK_PLAIN_MAX - STORE_ENTRY_HDR)
		return; /* larger than any RTP packet we accept */
	if (!st->buf) {
		st->buf = malloc(STORE_CHUNK_PLAIN_MAX);
		if (!st->buf)
			return;
	}
	if (st->len + STORE_ENTRY_HDR + len > STORE_CHUNK_PLAIN_MAX)
		seal_chunk(r, st, false);
	uint8_t *e = st->buf + st->len;
	for (int i = 0; i < 8; i++)
		e[i] = (uint8_t)(ts >> (56 - 8 * i));
	e[8] = (uint8_t)(len >> 8);
	e[9] = (uint8_t)len;
	e[10] = kind;
	if (len)
		memcpy(e + STORE_ENTRY_HDR, p, len);
	st->len += STORE_ENTRY_HDR + len;
}

static bool may_keep(const struct rcall *rc)
{
	return (rc->state == CONSENT_GRANTED || rc->state == CONSENT_EXEMPT) && !rc->paused && !rc->withdraw_us;
}

static void persist(struct recorder *r, struct rstream *st, uint64_t ts, const uint8_t *p, size_t len)
{
	struct rcall *rc = st->rc;
	if (!may_keep(rc)) {
		/* never reached by design: counted so tests prove it */
		r->cnt[RC_pending_bytes_persisted_without_consent] += len;
		return;
	}
	if (!rc->persisting) {
		if (!record_start(r, rc, true))
			return;
		rc->persisting = true;
	}
	put_entry(r, st, ts, CHUNK_RTP, p, len);
	st->desc.packets++;
	rc->kept++;
	r->cnt[RC_packets_kept]++;
}

/* ---------------------------------------------------------------- decisions */

static void flush_held(struct recorder *r, struct rcall *rc)
{
	while (rc->head) {
		struct hblock *b = rc->head;
		for (size_t off = 0; off < b->used;) {
			struct held *h = (struct held *)(void *)(b->mem + off);
			persist(r, h->st, h->ts, h->data, h->len);
			off += HELD_SIZE(h->len);
		}
		rc->head = b->next;
		if (!rc->head)
			rc->tail = NULL;
		rc->held_bytes -= b->payload;
		r->pending_total -= b->payload;
		secure_wipe(b->mem, b->used);
		free(b);
	}
	list_del(&rc->pend);
}

static void decide(struct recorder *r, struct rcall *rc, uint8_t state, uint8_t method, uint8_t party,
		   const char *value, uint64_t ts)
{
	rc->state = state;
	rc->method = method;
	rc->sig_party = party;
	rc->t_decision = ts;
	snprintf(rc->value, sizeof(rc->value), "%s", value ? value : "");
	if (state == CONSENT_GRANTED && r->cfg->consent_pre_consent_audio == RV_PRE_CONSENT_KEEP)
		flush_held(r, rc);
	else
		held_wipe(r, rc);
}

static bool window_over(const struct recorder *r, const struct rcall *rc, uint64_t ts)
{
	return rc->c->answered && ts > rc->c->answer_us + r->cfg->consent_window;
}

static void check_timeout(struct recorder *r, struct rcall *rc, uint64_t ts)
{
	if (rc->state == CONSENT_PENDING && window_over(r, rc, ts)) {
		rc->state = CONSENT_TIMEOUT;
		held_wipe(r, rc);
	}
}

static void pause_set(struct recorder *r, struct rcall *rc, bool on, uint64_t ts)
{
	if (rc->paused == on)
		return;
	rc->paused = on;
	if (on) {
		r->cnt[RC_pauses]++;
		if (rc->n_pauses < MAX_PAUSES)
			rc->pauses[rc->n_pauses++] = (struct pause_span){ ts, 0 };
	} else if (rc->n_pauses && rc->pauses[rc->n_pauses - 1].end == 0) {
		rc->pauses[rc->n_pauses - 1].end = ts;
	}
	if (!rc->persisting)
		return;
	for (unsigned i = 0; i < rc->n_streams; i++)
		put_entry(r, rc->streams[i], ts, on ? CHUNK_PAUSE_START : CHUNK_PAUSE_END, NULL, 0);
}

static bool party_matches(int cfg_party, uint8_t party)
{
	return cfg_party == RV_PARTY_ANY || (cfg_party == RV_PARTY_CALLEE && party == PARTY_CALLEE) ||
	       (cfg_party == RV_PARTY_CALLER && party == PARTY_CALLER);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return b && a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static void on_dtmf(void *ctx, struct rv_call *c, const struct rv_dtmf *d)
{
	struct recorder *r = ctx;
	struct rcall *rc = c->sink_data;
	const struct rv_config *cfg = r->cfg;
	if (!rc)
		return;
	check_timeout(r, rc, d->ts_us);

	/* pause / resume sequences of the agent */
	int pp = cfg->consent_pause_party;
	if (pp == RV_PAUSE_BY_ANY || (pp == RV_PAUSE_BY_CALLER && d->party == PARTY_CALLER) ||
	    (pp == RV_PAUSE_BY_CALLEE && d->party == PARTY_CALLEE)) {
		char *buf = rc->digits[d->party];
		size_t l = strlen(buf);
		if (l == sizeof(rc->digits[0]) - 1) {
			memmove(buf, buf + 1, l);
			l--;
		}
		buf[l] = d->digit;
		buf[l + 1] = '\0';
		if (ends_with(buf, cfg->consent_pause_sequence)) {
			pause_set(r, rc, true, d->ts_us);
			buf[0] = '\0';
		} else if (ends_with(buf, cfg->consent_resume_sequence)) {
			pause_set(r, rc, false, d->ts_us);
			buf[0] = '\0';
		}
	}

	uint8_t method = d->source == DTMF_RFC4733 ? CM_RFC4733 : d->source == DTMF_SIP_INFO ? CM_SIP_INFO : CM_INBAND;
	bool enabled = (method == CM_RFC4733 && r->m_rfc4733) || (method == CM_SIP_INFO && r->m_info) ||
		       (method == CM_INBAND && r->m_inband);
	char dg[2] = { d->digit, 0 };
	bool grant = strcmp(dg, cfg->consent_grant_digit) == 0;
	bool refuse = strcmp(dg, cfg->consent_refuse_digit) == 0;
	bool withdraw = strcmp(dg, cfg->consent_withdraw_digit) == 0;
	if (!enabled) {
		r->cnt[RC_signals_ignored_method]++;
		return;
	}
	if (!party_matches(cfg->consent_party, d->party)) {
		r->cnt[RC_signals_ignored_party]++;
		return;
	}
	if (rc->state != CONSENT_PENDING) {
		if (rc->state == CONSENT_GRANTED && withdraw && !rc->withdraw_us) {
			/* stop keeping from now on; what was kept stays */
			rc->withdraw_us = d->ts_us;
			rc->state = CONSENT_WITHDRAWN;
		} else {
			r->cnt[RC_signals_ignored_decided]++;
		}
		return;
	}
	if (window_over(r, rc, d->ts_us)) {
		r->cnt[RC_signals_ignored_window]++;
		return;
	}
	if (rc->minor) {
		/* a minor: only the guardian's sequence grants; the minor's own
		 * grant digit is ignored (and counted); a refusal still refuses */
		const char *gs = r->prof.p[rc->profile].cfg ? r->prof.p[rc->profile].cfg->guardian_sequence : "";
		size_t l = strlen(rc->gdigits);
		if (l == sizeof(rc->gdigits) - 1) {
			memmove(rc->gdigits, rc->gdigits + 1, l);
			l--;
		}
		rc->gdigits[l] = d->digit;
		rc->gdigits[l + 1] = '\0';
		if (gs[0] && ends_with(rc->gdigits, gs)) {
			rc->guardian = true;
			rc->ssrc = d->ssrc;
			rc->seq = d->seq;
			rc->cseq = d->cseq;
			if (method == CM_SIP_INFO)
				snprintf(rc->sip_method, sizeof(rc->sip_method), "INFO");
			decide(r, rc, CONSENT_GRANTED, method, d->party, gs, d->ts_us);
			return;
		}
		if (grant || (!refuse && !withdraw)) {
			r->cnt[RC_signals_ignored_digit]++;
			return;
		}
	}
	if (!grant && !refuse && !withdraw) {
		r->cnt[RC_signals_ignored_digit]++;
		return;
	}
	rc->ssrc = d->ssrc;
	rc->seq = d->seq;
	rc->cseq = d->cseq;
	if (method == CM_SIP_INFO)
		snprintf(rc->sip_method, sizeof(rc->sip_method), "INFO");
	decide(r, rc, grant ? CONSENT_GRANTED : CONSENT_DENIED, method, d->party, dg, d->ts_us);
}

static bool header_value_in(struct span v, const struct rv_config_list *l)
{
	v = span_trim(v);
	for (size_t i = 0; i < l->count; i++)
		if (span_eq_ci(v, l->items[i]))
			return true;
	return false;
}



static void check_exempt(struct recorder *r, struct rcall *rc, const struct sip_msg *m)
{
	const struct rv_config *cfg = r->cfg;
	struct rv_call *c = rc->c;
	rc->exempt_checked = true;
	bool ex = match_prefix_in(c->callee, &cfg->exempt_callee_prefixes) || match_prefix_in(c->caller, &cfg->exempt_caller_prefixes) ||
		  (r->has_callee_re && regexec(&r->callee_re, c->callee, 0, NULL, 0) == 0) ||
		  (r->has_caller_re && regexec(&r->caller_re, c->caller, 0, NULL, 0) == 0) ||
		  match_addr_in(&c->sig_src, &cfg->exempt_trunks) || match_addr_in(&c->sig_dst, &cfg->exempt_trunks);
	struct span v;
	if (!ex && r->ex_hname[0] && sip_find_header(m, r->ex_hname, &v) == 1)
		ex = span_eq_ci(span_trim(v), r->ex_hvalue);
	if (ex) {
		rc->basis = cfg->exempt_basis;
		decide(r, rc, CONSENT_EXEMPT, CM_EXEMPT, PARTY_CALLER, NULL, c->invite_us);
	}
}

static void on_sip(void *ctx, struct rv_call *c, const struct sip_msg *m, uint8_t sender, uint64_t ts)
{
	struct recorder *r = ctx;
	struct rcall *rc = c->sink_data;
	const struct rv_config *cfg = r->cfg;
	if (!rc)
		return;
	if (!rc->profile_chosen && m->is_request && m->method == SIP_M_INVITE) {
		rc->profile = profiles_select(&r->prof, c->caller, c->callee, &c->sig_src, &c->sig_dst, m);
		rc->minor = profiles_is_minor(&r->prof, rc->profile, m);
		rc->profile_chosen = true;
	}
	if (!rc->exempt_checked && m->is_request && m->method == SIP_M_INVITE)
		check_exempt(r, rc, m);
	check_timeout(r, rc, ts);
	struct span v;
	const struct rv_config_profile *pc = r->prof.p[rc->profile].cfg;
	if (rc->minor && pc && pc->guardian_header[0] && sip_find_header(m, pc->guardian_header, &v) == 1 &&
	    span_eq_ci(span_trim(v), "granted")) {
		if (rc->state != CONSENT_PENDING) {
			r->cnt[RC_signals_ignored_decided]++;
		} else if (window_over(r, rc, ts)) {
			r->cnt[RC_signals_ignored_window]++;
		} else {
			rc->guardian = true;
			rc->cseq = m->cseq;
			snprintf(rc->sip_method, sizeof(rc->sip_method), "%s",
				 m->is_request ? sip_method_name(m->method) : sip_method_name(m->cseq_method));
			decide(r, rc, CONSENT_GRANTED, CM_SIP_HEADER, sender, "granted", ts);
		}
		return;
	}
	if (cfg->consent_pause_header[0] && sip_find_header(m, cfg->consent_pause_header, &v) == 1) {
		v = span_trim(v);
		if (span_eq_ci(v, "pause"))
			pause_set(r, rc, true, ts);
		else if (span_eq_ci(v, "resume"))
			pause_set(r, rc, false, ts);
	}
	if (!cfg->consent_header[0] || sip_find_header(m, cfg->consent_header, &v) != 1)
		return;
	if (!r->m_header) {
		r->cnt[RC_signals_ignored_method]++;
		return;
	}
	bool grant = header_value_in(v, &cfg->consent_header_grant);
	bool deny = header_value_in(v, &cfg->consent_header_deny);
	if (grant && rc->minor) {
		/* the minor's own consent header does not count */
		r->cnt[RC_signals_ignored_digit]++;
		return;
	}
	if (!grant && !deny) {
		r->cnt[RC_signals_ignored_digit]++;
		return;
	}
	if (rc->state != CONSENT_PENDING) {
		r->cnt[RC_signals_ignored_decided]++;
		return;
	}
	if (window_over(r, rc, ts)) {
		r->cnt[RC_signals_ignored_window]++;
		return;
	}
	struct span tv = span_trim(v);
	char val[48];
	snprintf(val, sizeof(val), "%.*s", (int)(tv.len < 47 ? tv.len : 47), (const char *)tv.p);
	rc->cseq = m->cseq;
	snprintf(rc->sip_method, sizeof(rc->sip_method), "%s",
		 m->is_request ? sip_method_name(m->method) : sip_method_name(m->cseq_method));
	decide(r, rc, grant ? CONSENT_GRANTED : CONSENT_DENIED, CM_SIP_HEADER, sender, val, ts);
}

static struct rstream *rstream_of(struct recorder *r, struct rcall *rc, struct rv_stream *s)
{
	(void)r;
	if (s->sink_data)
		return s->sink_data;
	if (rc->n_streams >= REC_MAX_STREAMS)
		return NULL;
	if (rc->n_streams == rc->cap_streams) {
		uint16_t nc = rc->cap_streams ? (uint16_t)(rc->cap_streams * 2) : 4;
		struct rstream **ns = realloc(rc->streams, nc * sizeof(*ns));
		if (!ns)
			return NULL;
		rc->streams = ns;
		rc->cap_streams = nc;
	}
	struct rstream *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->rc = rc;
	st->s = s;
	st->idx = rc->n_streams;
	rc->streams[rc->n_streams++] = st;
	s->sink_data = st;
	stream_desc_update(st);
	return st;
}

static void on_rtp(void *ctx, struct rv_call *c, struct rv_stream *s, const struct rtp_view *v)
{
	struct recorder *r = ctx;
	struct rcall *rc = c->sink_data;
	if (!rc)
		return;
	struct rstream *st = rstream_of(r, rc, s);
	if (!st || v->dup)
		return;
	check_timeout(r, rc, v->ts_us);
	if (rc->state == CONSENT_PENDING)
		hold(r, rc, st, v->ts_us, v->pkt, v->len);
	else if (may_keep(rc))
		persist(r, st, v->ts_us, v->pkt, v->len);
	else
		r->cnt[RC_packets_discarded]++;
}

static void on_call_new(void *ctx, struct rv_call *c)
{
	struct recorder *r = ctx;
	struct rcall *rc = calloc(1, sizeof(*rc));
	if (!rc)
		return;
	rc->c = c;
	rc->profile = r->prof.def;
	c->sink_data = rc;
	r->cnt[RC_calls]++;
}

static void on_stream_free(void *ctx, struct rv_stream *s)
{
	(void)ctx;
	struct rstream *st = s->sink_data;
	if (st)
		st->s = NULL;
	s->sink_data = NULL;
}

static void on_call_end(void *ctx, struct rv_call *c)
{
	struct recorder *r = ctx;
	struct rcall *rc = c->sink_data;
	if (!rc)
		return;
	if (rc->state == CONSENT_PENDING)
		rc->state = c->answered ? CONSENT_TIMEOUT : CONSENT_NONE;
	held_wipe(r, rc);
	if (rc->paused)
		pause_set(r, rc, false, c->end_us ? c->end_us : c->last_us);
	for (unsigned i = 0; i < rc->n_streams; i++)
		stream_desc_update(rc->streams[i]);
	if (rc->persisting) {
		for (unsigned i = 0; i < rc->n_streams; i++)
			if (rc->streams[i]->buf || rc->streams[i]->desc.chunks)
				seal_chunk(r, rc->streams[i], true);
	}
	if (record_start(r, rc, false)) {
		write_record(r, rc, true);
		/* the decision into the audit log, after the record (queue order) */
		char d[512];
		int dl = snprintf(d, sizeof(d), "{\"record_id\":%" PRIu64 ",\"profile\":\"%s\",\"consent\":\"%s\"",
				  rc->record_id, r->prof.p[rc->profile].name, consent_state_name(rc->state));
		if (rc->method && dl > 0 && (size_t)dl < sizeof(d))
			dl += snprintf(d + dl, sizeof(d) - (size_t)dl, ",\"method\":\"%s\",\"time\":%" PRIu64 ".%06" PRIu64,
				       consent_method_name(rc->method), rc->t_decision / 1000000u, rc->t_decision % 1000000u);
		if (dl > 0 && (size_t)dl < sizeof(d) - 2) {
			d[dl++] = '}';
			d[dl] = '\0';
			writer_put_audit(r->w, "consent", AUDIT_INFO, d);
		}
	}
	r->states[rc->state]++;
	if (log_enabled(RV_LOG_DEBUG)) {
		char a[48], b[48];
		rv_log(RV_LOG_DEBUG, "call %s (%s -> %s): consent %s%s%s, %" PRIu64 " packets kept",
		       c->call_id, log_number(c->caller, a, sizeof(a)), log_number(c->callee, b, sizeof(b)),
		       consent_state_name(rc->state), rc->method ? " via " : "",
		       rc->method ? consent_method_name(rc->method) : "", rc->kept);
	}
	for (unsigned i = 0; i < rc->n_streams; i++) {
		struct rstream *st = rc->streams[i];
		if (st->s)
			st->s->sink_data = NULL;
		if (st->buf) {
			secure_wipe(st->buf, STORE_CHUNK_PLAIN_MAX);
			free(st->buf);
		}
		free(st);
	}
	free(rc->streams);
	dek_wipe(&rc->dek);
	secure_wipe(rc, sizeof(*rc));
	free(rc);
	c->sink_data = NULL;
}

/* In-band digits matter only where they can still change something: the
 * consent party's streams while the decision is pending (grant, refuse) or
 * after a grant (withdraw), and the pause party's streams while audio is
 * being kept.  Elsewhere the detector, the engine's costliest stage, is
 * skipped.  A false answer is final for a stream (the engine frees its
 * detector, engine.h), which holds here: the answer depends only on the
 * stream's party, the config and the consent state, and a state that
 * answers false (denied, timeout, withdrawn, none, or no rcall) is never
 * left again; exempt is decided on the first INVITE, before any stream. */
static bool want_inband(void *ctx, struct rv_call *c, struct rv_stream *s)
{
	struct recorder *r = ctx;
	struct rcall *rc = c->sink_data;
	const struct rv_config *cfg = r->cfg;
	if (!rc)
		return false;
	bool consent_party = r->m_inband && party_matches(cfg->consent_party, s->party);
	int pp = cfg->consent_pause_party;
	bool pause_party = cfg->consent_pause_sequence[0] &&
			   (pp == RV_PAUSE_BY_ANY || (pp == RV_PAUSE_BY_CALLER && s->party == PARTY_CALLER) ||
			    (pp == RV_PAUSE_BY_CALLEE && s->party == PARTY_CALLEE));
	switch (rc->state) {
	case CONSENT_PENDING:
		return consent_party || pause_party;
	case CONSENT_GRANTED:
		return consent_party || pause_party;
	case CONSENT_EXEMPT:
		return pause_party;
	default:
		return false;
	}
}

static const struct engine_sink sink = {
	.call_new = on_call_new,
	.call_sip = on_sip,
	.rtp = on_rtp,
	.dtmf = on_dtmf,
	.call_end = on_call_end,
	.stream_free = on_stream_free,
	.want_inband = want_inband,
};

const struct engine_sink *recorder_sink(void)
{
	return &sink;
}
