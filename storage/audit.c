/*
 * audit.c - the tamper-evident audit log (see audit.h for the contract).
 *
 * Entry encoding (the value stored under key = seq, u64 BE), version 1:
 *
 *   "RVA1" | seq u64 BE | time_us u64 BE | uid u32 BE | result u8 |
 *   5 x (u16 BE length | bytes): user, command, purpose, ticket, detail |
 *   mac (32 bytes)
 *
 * mac = HMAC-SHA256(kek->audit_key, "RVAC1" || previous entry's mac || the
 * encoding above without the mac).  The first entry (seq 1) chains from 32
 * zero bytes.  Sequence numbers start at 1 and have no gaps, so verification
 * walks keys in order and expects 1, 2, 3 ...: a changed byte breaks that
 * entry's MAC, a deleted entry leaves a gap, a moved/reordered entry carries
 * a seq that does not match its key (and a MAC chained to another
 * predecessor).  Deleting the newest entries leaves a valid shorter chain:
 * only an anchor ("SEQ:HEXMAC" from audit_head, kept off the machine) detects
 * that.
 *
 * The key is the audit_key of the [storage] key_file KEK (HKDF label
 * "rtpvault audit v1"), the same for every profile.
 *
 * Does NOT: decide what is audited (the commands do), keep entries secret
 * (entries are plaintext and hold no phone numbers), or sign with a
 * public key (whoever can verify can also forge: the KEK holder).
 */
#include "audit.h"
#include "bytes.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUDIT_MAGIC "RVA1"
#define AUDIT_FIXED (4 + 8 + 8 + 4 + 1)
#define AUDIT_MAX_ENC (AUDIT_FIXED + 5 * 2 + 64 + 32 + 256 + 128 + 1024 + 32)




static size_t put_str(uint8_t *p, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap - 1);
	p[0] = (uint8_t)(n >> 8);
	p[1] = (uint8_t)n;
	memcpy(p + 2, s, n);
	return 2 + n;
}

/* Encodes e without the mac; returns the length. */
static size_t encode(const struct audit_entry *e, uint8_t *out)
{
	size_t o = 0;
	memcpy(out, AUDIT_MAGIC, 4);
	o = 4;
	put_be64(out + o, e->seq);
	o += 8;
	put_be64(out + o, e->time_us);
	o += 8;
	put_be32(out + o, e->uid);
	o += 4;
	out[o++] = e->result;
	o += put_str(out + o, e->user, sizeof(e->user));
	o += put_str(out + o, e->command, sizeof(e->command));
	o += put_str(out + o, e->purpose, sizeof(e->purpose));
	o += put_str(out + o, e->ticket, sizeof(e->ticket));
	o += put_str(out + o, e->detail, sizeof(e->detail));
	return o;
}

static int get_str(const uint8_t *p, size_t len, size_t *o, char *dst, size_t cap)
{
	if (*o + 2 > len)
		return -1;
	size_t n = (size_t)p[*o] << 8 | p[*o + 1];
	*o += 2;
	if (n >= cap || *o + n > len)
		return -1;
	memcpy(dst, p + *o, n);
	dst[n] = '\0';
	*o += n;
	return 0;
}

/* Decodes a stored value; *enc_len = bytes covered by the mac. */
static int decode(const uint8_t *p, size_t len, struct audit_entry *e, size_t *enc_len)
{
	memset(e, 0, sizeof(*e));
	if (len < AUDIT_FIXED + 32 || memcmp(p, AUDIT_MAGIC, 4) != 0)
		return -1;
	size_t body = len - 32, o = 4;
	e->seq = get_be64(p + o);
	o += 8;
	e->time_us = get_be64(p + o);
	o += 8;
	e->uid = (uint32_t)p[o] << 24 | (uint32_t)p[o + 1] << 16 | (uint32_t)p[o + 2] << 8 | p[o + 3];
	o += 4;
	e->result = p[o++];
	if (get_str(p, body, &o, e->user, sizeof(e->user)) || get_str(p, body, &o, e->command, sizeof(e->command)) ||
	    get_str(p, body, &o, e->purpose, sizeof(e->purpose)) ||
	    get_str(p, body, &o, e->ticket, sizeof(e->ticket)) || get_str(p, body, &o, e->detail, sizeof(e->detail)))
		return -1;
	if (o != body)
		return -1;
	memcpy(e->mac, p + body, 32);
	*enc_len = body;
	return 0;
}

int audit_chain_mac(const struct rv_kek *kek, const uint8_t prev[32], const uint8_t *enc, size_t len,
		     uint8_t out[32])
{
	uint8_t *buf = malloc(5 + 32 + len);
	unsigned int ol = 0;
	if (!buf)
		return STORE_E_NOMEM;
	memcpy(buf, "RVAC1", 5);
	memcpy(buf + 5, prev, 32);
	memcpy(buf + 37, enc, len);
	const unsigned char *r = HMAC(EVP_sha256(), kek->audit_key, RV_KEY_LEN, buf, 37 + len, out, &ol);
	free(buf);
	return r && ol == 32 ? 0 : STORE_E_ARG;
}

int audit_append(struct store_txn *t, const struct rv_kek *kek, struct audit_entry *e)
{
	uint64_t last = 0;
	const uint8_t *lv = NULL;
	size_t ll = 0;
	uint8_t prev[32] = { 0 };
	if (!t || !kek || !e)
		return STORE_E_ARG;
	int rc = store_last_audit(t, &last, &lv, &ll);
	if (rc)
		return rc;
	if (lv) {
		/* chain from the stored mac (the last 32 bytes) without trusting
		 * the rest: a broken predecessor still gets a well-chained
		 * successor, and verify names the broken one */
		if (ll < 32)
			return STORE_E_CORRUPT;
		/* refuse to extend a chain this key did not write (wrong key, or
		 * the newest entry was changed): the entry would never verify */
		uint8_t pprev[32] = { 0 }, mac[32];
		const uint8_t *pv;
		size_t pl, el;
		struct audit_entry le;
		if (last > 1) {
			if (store_get_audit(t, last - 1, &pv, &pl) != 0 || pl < 32)
				return STORE_E_CORRUPT;
			memcpy(pprev, pv + pl - 32, 32);
		}
		if (decode(lv, ll, &le, &el) != 0 || le.seq != last || audit_chain_mac(kek, pprev, lv, el, mac) != 0 ||
		    CRYPTO_memcmp(mac, le.mac, 32) != 0)
			return STORE_E_CORRUPT;
		memcpy(prev, le.mac, 32);
	}
	e->seq = last + 1;
	if (!e->time_us) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		e->time_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	}
	uint8_t buf[AUDIT_MAX_ENC];
	size_t n = encode(e, buf);
	rc = audit_chain_mac(kek, prev, buf, n, e->mac);
	if (rc)
		return rc;
	memcpy(buf + n, e->mac, 32);
	return store_put_audit(t, e->seq, buf, n + 32);
}

struct each_ctx {
	int (*cb)(void *ctx, const struct audit_entry *e);
	void *ctx;
};

static int each_one(void *ctx, uint64_t seq, size_t key_len, const uint8_t *val, size_t len)
{
	struct each_ctx *x = ctx;
	struct audit_entry e;
	size_t el;
	(void)seq;
	if (key_len != 8 || decode(val, len, &e, &el) != 0)
		return 0; /* undecodable entries are skipped here; audit_verify names them */
	return x->cb(x->ctx, &e);
}

int audit_each(struct store_rtxn *r, uint64_t from, int (*cb)(void *ctx, const struct audit_entry *e), void *ctx)
{
	struct each_ctx x = { cb, ctx };
	if (!cb)
		return STORE_E_ARG;
	return store_each_audit(r, from, each_one, &x);
}

struct verify_ctx {
	const struct rv_kek *kek;
	uint64_t expect;      /* next seq expected */
	uint8_t prev[32];
	bool has_anchor, anchor_seen, anchor_ok;
	uint64_t anchor_seq;
	uint8_t anchor_mac[32];
	uint64_t bad;
	char *msg;
	size_t msglen;
	int err;
};

static int verify_one(void *ctx, uint64_t seq, size_t key_len, const uint8_t *val, size_t len)
{
	struct verify_ctx *v = ctx;
	struct audit_entry e;
	size_t el;
	uint8_t mac[32];
	if (key_len != 8) {
		v->bad = v->expect;
		snprintf(v->msg, v->msglen, "entry %llu: a key of %zu bytes stands where it should be (edited key)",
			 (unsigned long long)v->expect, key_len);
		return 1;
	}
	if (seq != v->expect) {
		v->bad = v->expect;
		snprintf(v->msg, v->msglen, "entry %llu is missing (the next stored entry is %llu): deleted", 
			 (unsigned long long)v->expect, (unsigned long long)seq);
		return 1;
	}
	if (decode(val, len, &e, &el) != 0) {
		v->bad = seq;
		snprintf(v->msg, v->msglen, "entry %llu does not decode: changed", (unsigned long long)seq);
		return 1;
	}
	if (e.seq != seq) {
		v->bad = seq;
		snprintf(v->msg, v->msglen, "entry %llu holds entry %llu: moved or reordered", (unsigned long long)seq,
			 (unsigned long long)e.seq);
		return 1;
	}
	if (audit_chain_mac(v->kek, v->prev, val, el, mac) != 0) {
		v->err = STORE_E_ARG;
		v->bad = seq;
		snprintf(v->msg, v->msglen, "entry %llu: HMAC computation failed", (unsigned long long)seq);
		return 1;
	}
	if (CRYPTO_memcmp(mac, e.mac, 32) != 0) {
		v->bad = seq;
		snprintf(v->msg, v->msglen,
			 "entry %llu: chain MAC does not verify: the entry was changed, or replaced/reordered with "
			 "another, or the log was written with another key",
			 (unsigned long long)seq);
		return 1;
	}
	if (v->has_anchor && seq == v->anchor_seq) {
		v->anchor_seen = true;
		v->anchor_ok = memcmp(e.mac, v->anchor_mac, 32) == 0;
		if (!v->anchor_ok) {
			v->bad = seq;
			snprintf(v->msg, v->msglen,
				 "entry %llu does not match the anchor: the log was rewritten from there on",
				 (unsigned long long)seq);
			return 1;
		}
	}
	memcpy(v->prev, e.mac, 32);
	v->expect = seq + 1;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int audit_verify(struct store_rtxn *r, const struct rv_kek *kek, uint64_t *bad_seq, const char *anchor, char *msg,
		 size_t msglen)
{
	static char dummy[1];
	struct verify_ctx v;
	memset(&v, 0, sizeof(v));
	v.kek = kek;
	v.expect = 1;
	v.msg = msg ? msg : dummy;
	v.msglen = msg ? msglen : sizeof(dummy);
	if (v.msglen)
		v.msg[0] = '\0';
	*bad_seq = 0;
	if (!r || !kek)
		return STORE_E_ARG;
	if (anchor) {
		char *end;
		unsigned long long as = strtoull(anchor, &end, 10);
		if (end == anchor || *end != ':' || strlen(end + 1) != 64) {
			snprintf(v.msg, v.msglen, "anchor %s: not SEQ:HEXMAC (64 hex digits)", anchor);
			return -3;
		}
		for (int i = 0; i < 32; i++) {
			int hi = hexval(end[1 + 2 * i]), lo = hexval(end[2 + 2 * i]);
			if (hi < 0 || lo < 0) {
				snprintf(v.msg, v.msglen, "anchor %s: not SEQ:HEXMAC (64 hex digits)", anchor);
				return -3;
			}
			v.anchor_mac[i] = (uint8_t)(hi << 4 | lo);
		}
		v.has_anchor = as > 0;
		v.anchor_seq = as;
	}
	int rc = store_each_audit(r, 0, verify_one, &v);
	if (rc)
		return rc;
	if (v.err)
		return v.err;
	if (v.bad) {
		*bad_seq = v.bad;
		return -1;
	}
	if (v.has_anchor && !v.anchor_seen) {
		*bad_seq = v.expect;
		snprintf(v.msg, v.msglen,
			 "the log ends at entry %llu but the anchor names entry %llu: the newest entries were removed",
			 (unsigned long long)(v.expect - 1), (unsigned long long)v.anchor_seq);
		return -2;
	}
	return 0;
}

struct head_ctx {
	uint64_t seq;
	uint8_t mac[32];
};

static int head_one(void *ctx, uint64_t seq, size_t key_len, const uint8_t *val, size_t len)
{
	struct head_ctx *h = ctx;
	if (key_len == 8 && len >= 32) {
		h->seq = seq;
		memcpy(h->mac, val + len - 32, 32);
	}
	return 0;
}

int audit_head(struct store_rtxn *r, char *out, size_t n)
{
	struct head_ctx h;
	memset(&h, 0, sizeof(h));
	int rc = store_each_audit(r, 0, head_one, &h);
	if (rc)
		return rc;
	char hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", h.mac[i]);
	if ((size_t)snprintf(out, n, "%llu:%s", (unsigned long long)h.seq, hex) >= n)
		return STORE_E_ARG;
	return 0;
}
