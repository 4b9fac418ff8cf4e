/*
 * cli_retention.c - retention and key commands: sweep, hold, unhold, erase,
 * keys rotate, and the running engine's periodic sweep (retention.h).
 *
 * Deletion (sweep, erase) is crypto-shredding first: one write transaction
 * overwrites each call's wrapped data key with zeros, removes its Call-ID
 * index entry and appends the audit deletion receipt (record id, Call-ID,
 * profile, deadline, time); after that commit the audio and metadata can no
 * longer be decrypted by anyone.  A second transaction then removes the
 * chunks, the record and its expiry entry.  A kill between the two leaves
 * records with a zeroed key, which the next sweep removes (phase two only).
 * Calls with REC_F_HOLD are never deleted.  At most [retention] sweep_batch
 * calls per transaction.
 *
 * Rotation (keys rotate) follows the retired-key convention of keyring.c:
 * KEYFILE.next is created, KEYFILE linked to KEYFILE.<id>.retired, then
 * KEYFILE.next renamed over KEYFILE.  Then every record whose data key is
 * wrapped with a retired key of that file is re-wrapped with the new key
 * (sweep_batch records per transaction); when the [storage] key_file was
 * rotated the HMAC indexes (Call-ID entry, caller/callee HMACs) are re-keyed
 * too, since they are derived from it.  Audio and metadata are never
 * re-encrypted.  Each record is done in one transaction, so a rerun after a
 * kill simply continues: records still referring to a retired key are found
 * again.  A rerun while retired keys are still referenced finishes that
 * rotation instead of starting a new one.
 *
 * Audit: entries go through audit_append() (storage/audit.h) in the same
 * write transaction as the change they describe; if the entry cannot be
 * written the change is not committed.
 *
 * Erase rights: access_check_erase() (engine/access.h) against the profile
 * of every record of the Call-ID; one refusal refuses the whole erase.
 *
 * Does NOT: shrink data.mdb (LMDB reuses the freed pages), scrub stale copies
 * of a wrapped key from free pages (retire the key by rotation for that), or
 * coordinate with a concurrently running capture during rotation (stop it,
 * or rerun rotate afterwards: records it wrote with the old key are found).
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access.h"
#include "audit.h"
#include "cli.h"
#include "crypto.h"
#include "keyring.h"
#include "profile.h"
#include "record.h"
#include "retention.h"
#include "store.h"
#include "util.h"


#define MAX_BATCH 100000

static int usage_err(const char *cmd, const char *u)
{
	fprintf(stderr, "usage: rtpvault %s %s\n", cmd, u);
	return 2;
}

/* ---------------------------------------------------------------- context */

struct rctx {
	const struct rv_config *cfg;
	struct store *st;
	struct keyring kr;
	const struct rv_kek *primary; /* current [storage] key: index HMACs, audit chain */
	struct profiles prof;
	bool prof_ok;
	const char *cmd;
};

static int load_keyring(struct rctx *x)
{
	const struct rv_config *cfg = x->cfg;
	keyring_wipe(&x->kr);
	int rc = keyring_add_file(&x->kr, cfg->storage_key_file, -1);
	if (rc) {
		fprintf(stderr, "rtpvault %s: key file %s: %s\n", x->cmd, cfg->storage_key_file, crypto_strerror(rc));
		return -1;
	}
	x->primary = &x->kr.keys[0];
	for (size_t i = 0; i < x->prof.n; i++) {
		const char *kf = x->prof.p[i].key_file;
		if (strcmp(kf, cfg->storage_key_file) == 0)
			continue;
		rc = keyring_add_file(&x->kr, kf, (int)i);
		if (rc) {
			fprintf(stderr, "rtpvault %s: [profile %s] key file %s: %s\n", x->cmd, x->prof.p[i].name, kf,
				crypto_strerror(rc));
			return -1;
		}
	}
	return 0;
}

static int rctx_open(struct rctx *x, const struct rv_config *cfg, const char *cmd, bool open_store)
{
	memset(x, 0, sizeof(*x));
	x->cfg = cfg;
	x->cmd = cmd;
	char err[256];
	if (profiles_init(&x->prof, cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "rtpvault %s: %s\n", cmd, err);
		return -1;
	}
	x->prof_ok = true;
	if (load_keyring(x) != 0)
		return -1;
	if (!open_store)
		return 0;
	struct store_opts o = cli_store_opts(cfg, false);
	int rc = store_open(&o, &x->st);
	if (rc) {
		fprintf(stderr, "rtpvault %s: store %s: %s\n", cmd, cfg->storage_path, store_strerror(rc));
		x->st = NULL;
		return -1;
	}
	return 0;
}

static void rctx_close(struct rctx *x, bool close_store)
{
	if (close_store)
		store_close(x->st);
	x->st = NULL;
	keyring_wipe(&x->kr);
	if (x->prof_ok)
		profiles_free(&x->prof);
	x->prof_ok = false;
}

/* ---------------------------------------------------------------- audit */

static void audit_who(struct audit_entry *e)
{
	e->uid = (uint32_t)getuid();
	struct passwd *pw = getpwuid(getuid());
	snprintf(e->user, sizeof(e->user), "%s", pw ? pw->pw_name : "?");
}

/* Appends an entry in t.  0 when written or when the audit log is not in this
 * build (warned once); otherwise the error (the caller aborts t). */
static int audit_put(struct rctx *x, struct store_txn *t, const char *command, uint8_t result, const char *detail)
{
	struct audit_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return STORE_E_NOMEM;
	e->time_us = util_wall_us();
	audit_who(e);
	snprintf(e->command, sizeof(e->command), "%s", command);
	e->result = result;
	snprintf(e->detail, sizeof(e->detail), "%s", detail);
	int rc = audit_append(t, x->primary, e);
	free(e);
	if (rc)
		fprintf(stderr, "rtpvault %s: audit entry could not be written (%d); nothing changed\n", x->cmd, rc);
	return rc;
}

/* Appends a JSON string value (escaped) to b. */
static void jesc(char *b, size_t n, const char *s)
{
	size_t l = strlen(b);
	if (l + 1 >= n)
		return;
	b[l++] = '"';
	for (; *s && l + 8 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			b[l++] = '\\';
			b[l++] = (char)c;
		} else if (c < 0x20) {
			l += (size_t)snprintf(b + l, n - l, "\\u%04x", c);
		} else {
			b[l++] = (char)c;
		}
	}
	b[l++] = '"';
	b[l] = '\0';
}

/* ---------------------------------------------------------------- records */

/* What deletion and rotation need from the sealed metadata. */
struct recinfo {
	bool ok;          /* metadata opened */
	char call_id[512];
	char caller[64], callee[64];
	char profile[RV_CONFIG_PROFILE_NAME_MAX + 1];
};

/* A string value of a top-level key of the metadata JSON (the keys used here
 * come before any nested object).  Decodes \" \\ \/ and \u00XX. */
static void json_get(const char *js, size_t jl, const char *key, char *out, size_t n)
{
	out[0] = '\0';
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	size_t pl = strlen(pat);
	const char *p = NULL;
	for (size_t i = 0; i + pl <= jl; i++)
		if (memcmp(js + i, pat, pl) == 0) {
			p = js + i + pl;
			break;
		}
	if (!p)
		return;
	const char *end = js + jl;
	size_t o = 0;
	while (p < end && *p != '"' && o + 1 < n) {
		char c = *p++;
		if (c == '\\' && p < end) {
			char e = *p++;
			if (e == 'u' && end - p >= 4) {
				char hx[5] = { p[0], p[1], p[2], p[3], 0 };
				c = (char)strtoul(hx, NULL, 16);
				p += 4;
			} else {
				c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
			}
		}
		out[o++] = c;
	}
	out[o] = '\0';
}

static bool key_shredded(const struct store_rec *h)
{
	for (size_t i = 0; i < RV_WRAPPED_LEN; i++)
		if (h->wrapped_dek[i])
			return false;
	return true;
}

static void rec_info(const struct rctx *x, const struct store_rec *h, const uint8_t *sealed, size_t len,
		     struct recinfo *ri)
{
	memset(ri, 0, sizeof(*ri));
	snprintf(ri->profile, sizeof(ri->profile), "?");
	const struct rv_kek *k = keyring_find(&x->kr, h->kek_id);
	if (!k || key_shredded(h))
		return;
	struct rv_dek dek;
	if (dek_unwrap(k, h->wrapped_dek, h->record_id, &dek) != 0)
		return;
	struct rec_meta *m = calloc(1, sizeof(*m));
	uint8_t *plain = NULL;
	size_t pl = 0;
	if (m && rec_meta_open(&dek, h->record_id, h->meta_version, sealed, len, m, &plain, &pl) == 0) {
		json_get(m->json, m->json_len, "call_id", ri->call_id, sizeof(ri->call_id));
		json_get(m->json, m->json_len, "caller", ri->caller, sizeof(ri->caller));
		json_get(m->json, m->json_len, "callee", ri->callee, sizeof(ri->callee));
		json_get(m->json, m->json_len, "profile", ri->profile, sizeof(ri->profile));
		if (!ri->profile[0])
			snprintf(ri->profile, sizeof(ri->profile), "default");
		ri->ok = true;
	}
	if (plain) {
		secure_wipe(plain, pl);
		free(plain);
	}
	free(m);
	dek_wipe(&dek);
}

/* Removes the Call-ID index entry under every key of the keyring (the index
 * may still be keyed by a retired [storage] key during a rotation). */
static int del_callid_all(const struct rctx *x, struct store_txn *t, const char *call_id, uint64_t id)
{
	for (size_t i = 0; i < x->kr.n; i++) {
		uint8_t hm[RV_HMAC_LEN];
		if (index_hmac(&x->kr.keys[i], call_id, strlen(call_id), hm) != 0)
			continue;
		int rc = store_del_callid(t, hm, id);
		if (rc && rc != STORE_E_NOT_FOUND)
			return rc;
	}
	return 0;
}

/* Record ids stored under a Call-ID, trying every key of the keyring. */
static int find_call(const struct rctx *x, struct store_rtxn *rt, const char *cid, uint64_t *ids, size_t max,
		     size_t *n)
{
	*n = 0;
	for (size_t k = 0; k < x->kr.n && *n == 0; k++) {
		uint8_t hm[RV_HMAC_LEN];
		if (index_hmac(&x->kr.keys[k], cid, strlen(cid), hm) != 0)
			continue;
		int rc = store_find_callid(rt, hm, ids, max, n);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- deletion */

struct victim {
	uint64_t id, deadline;
	bool skip; /* found under hold inside the deleting transaction */
};

struct collect {
	struct store_rtxn *rt;
	uint64_t now;
	struct victim *v;
	size_t n, max;
	uint64_t held, stale;
	uint64_t after_deadline, after_id; /* resume point within this run */
	bool started;
};

static int collect_cb(void *ctx, uint64_t deadline, uint64_t id)
{
	struct collect *c = ctx;
	if (deadline > c->now)
		return 1; /* in deadline order: nothing later is due */
	if (c->started && (deadline < c->after_deadline || (deadline == c->after_deadline && id <= c->after_id)))
		return 0;
	if (c->n >= c->max)
		return 1;
	struct store_rec h;
	const uint8_t *s;
	size_t l;
	int rc = store_get_record(c->rt, id, &h, &s, &l);
	if (rc == 0 && (h.flags & REC_F_HOLD)) {
		c->held++;
		c->after_deadline = deadline;
		c->after_id = id;
		c->started = true;
		return 0;
	}
	if (rc == STORE_E_NOT_FOUND)
		c->stale++;
	c->v[c->n++] = (struct victim){ id, deadline, false };
	return 0;
}

/* A write transaction and a read snapshot of the store, both or neither. */
static int begin_pair(struct rctx *x, struct store_txn **t, struct store_rtxn **rt)
{
	int rc = store_txn_begin(x->st, t);
	if (rc)
		return rc;
	rc = store_read_begin(x->st, rt);
	if (rc)
		store_txn_abort(*t);
	return rc;
}

/* Shreds then deletes the given records (all not held, checked by the
 * caller in the same snapshot).  command: "sweep" or "erase"; reason may be
 * NULL.  Returns 0 or a store/audit error; *done counts deleted calls. */
static int delete_records(struct rctx *x, struct victim *v, size_t n, const char *command, const char *reason,
			  uint64_t now, uint64_t *done)
{
	struct store_txn *t = NULL;
	struct store_rtxn *rt = NULL;
	int rc = begin_pair(x, &t, &rt);
	if (rc)
		return rc;
	/* phase 1: shred the wrapped key, drop the Call-ID index, receipt */
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct store_rec h;
		const uint8_t *sealed;
		size_t len;
		int g = store_get_record(rt, v[i].id, &h, &sealed, &len);
		if (g == STORE_E_NOT_FOUND)
			continue; /* stale expiry entry: phase 2 removes it */
		if (g) {
			rc = g;
			break;
		}
		if (h.flags & REC_F_HOLD) {
			v[i].skip = true; /* held since the caller looked: keep it */
			continue;
		}
		if (key_shredded(&h))
			continue; /* shredded by an interrupted run: receipt exists */
		struct recinfo ri;
		rec_info(x, &h, sealed, len, &ri);
		if (ri.ok && ri.call_id[0])
			rc = del_callid_all(x, t, ri.call_id, h.record_id);
		memset(h.wrapped_dek, 0, sizeof(h.wrapped_dek));
		if (rc == 0)
			rc = store_put_record(t, &h, sealed, len);
		char det[1024];
		snprintf(det, sizeof(det), "{\"record_id\":%" PRIu64 ",\"call_id\":", h.record_id);
		jesc(det, sizeof(det), ri.ok ? ri.call_id : "?");
		size_t dl = strlen(det);
		snprintf(det + dl, sizeof(det) - dl, ",\"profile\":");
		jesc(det, sizeof(det), ri.profile);
		dl = strlen(det);
		snprintf(det + dl, sizeof(det) - dl,
			 ",\"deadline\":%" PRIu64 ".%06" PRIu64 ",\"deleted_at\":%" PRIu64 ".%06" PRIu64
			 ",\"shredded\":true",
			 h.deadline_us / 1000000, h.deadline_us % 1000000, now / 1000000, now % 1000000);
		if (reason) {
			dl = strlen(det);
			snprintf(det + dl, sizeof(det) - dl, ",\"reason\":");
			jesc(det, sizeof(det), reason);
		}
		dl = strlen(det);
		snprintf(det + dl, sizeof(det) - dl, "}");
		if (rc == 0)
			rc = audit_put(x, t, command, AUDIT_INFO, det);
		if (rc == 0)
			printf("%s: deleted record %" PRIu64 " call-id %s profile %s deadline %" PRIu64 "\n", command,
			       h.record_id, ri.ok ? ri.call_id : "?", ri.profile, h.deadline_us / 1000000);
	}
	store_read_end(rt);
	if (rc) {
		store_txn_abort(t);
		return rc;
	}
	rc = store_txn_commit(t);
	if (rc)
		return rc;
	/* phase 2: the bytes */
	rc = store_txn_begin(x->st, &t);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (v[i].skip)
			continue;
		int d = store_del_record(t, v[i].id);
		if (d == 0)
			(*done)++;
		else if (d != STORE_E_NOT_FOUND)
			rc = d;
		if (rc == 0 && v[i].deadline) {
			d = store_del_expiry(t, v[i].deadline, v[i].id);
			if (d && d != STORE_E_NOT_FOUND)
				rc = d;
		}
	}
	if (rc) {
		store_txn_abort(t);
		return rc;
	}
	return store_txn_commit(t);
}

/* One batch of the sweep.  *more = a full batch was found. */
static int sweep_batch(struct rctx *x, uint64_t now, struct collect *c, uint64_t *done, bool *more)
{
	*more = false;
	struct store_rtxn *rt = NULL;
	int rc = store_read_begin(x->st, &rt);
	if (rc)
		return rc;
	c->rt = rt;
	c->now = now;
	c->n = 0;
	rc = store_each_expiry(rt, collect_cb, c);
	c->rt = NULL;
	store_read_end(rt);
	if (rc || c->n == 0)
		return rc;
	*more = c->n == c->max;
	return delete_records(x, c->v, c->n, "sweep", NULL, now, done);
}

static int sweep_all(struct rctx *x, uint64_t now, uint64_t *done, uint64_t *held)
{
	size_t batch = (size_t)x->cfg->retention_sweep_batch;
	if (batch < 1 || batch > MAX_BATCH)
		batch = 100;
	struct collect c = { .max = batch };
	c.v = calloc(batch, sizeof(*c.v));
	if (!c.v)
		return STORE_E_NOMEM;
	int rc = 0;
	bool more = true;
	while (more && rc == 0)
		rc = sweep_batch(x, now, &c, done, &more);
	*held = c.held;
	free(c.v);
	return rc;
}

int cmd_sweep(int argc, char **argv)
{
	const char *conf = NULL;
	uint64_t now = util_wall_us();
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			conf = argv[++i];
		} else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
			if (cli_parse_time(argv[++i], &now) < 0) {
				fprintf(stderr, "rtpvault sweep: --now %s is not a time (ISO 8601 or epoch seconds)\n",
					argv[i]);
				return 2;
			}
		} else {
			return usage_err("sweep", "-c CONF [--now T]");
		}
	}
	struct rv_config *cfg = cli_load_config(conf);
	if (!cfg)
		return 1;
	struct rctx x;
	int status = 1;
	if (rctx_open(&x, cfg, "sweep", true) == 0) {
		uint64_t done = 0, held = 0;
		int rc = sweep_all(&x, now, &done, &held);
		if (rc)
			fprintf(stderr, "rtpvault sweep: %s\n", store_strerror(rc));
		printf("sweep: %" PRIu64 " expired calls deleted, %" PRIu64 " expired calls kept under hold\n", done,
		       held);
		status = rc ? 1 : 0;
	}
	rctx_close(&x, true);
	config_free(cfg);
	return status;
}

/* ---------------------------------------------------------------- hold, erase */

/* Parses "-c CONF CALL-ID --reason TEXT"; 0 or 2 (usage printed). */
static int parse_call_args(int argc, char **argv, const char *cmd, bool need_reason, const char **conf,
			   const char **cid, const char **reason)
{
	*conf = *cid = *reason = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			*conf = argv[++i];
		else if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
			*reason = argv[++i];
		else if (!*cid && argv[i][0] != '-')
			*cid = argv[i];
		else
			return usage_err(cmd, "-c CONF CALL-ID --reason TEXT");
	}
	if (!*cid || (need_reason && (!*reason || !(*reason)[0])))
		return usage_err(cmd, "-c CONF CALL-ID --reason TEXT");
	return 0;
}

static int cmd_hold_set(int argc, char **argv, bool on)
{
	const char *cmd = on ? "hold" : "unhold";
	const char *conf, *cid, *reason;
	int u = parse_call_args(argc, argv, cmd, on, &conf, &cid, &reason);
	if (u)
		return u;
	struct rv_config *cfg = cli_load_config(conf);
	if (!cfg)
		return 1;
	struct rctx x;
	int status = 1;
	if (rctx_open(&x, cfg, cmd, true) != 0)
		goto out;
	struct store_txn *t = NULL;
	struct store_rtxn *rt = NULL;
	if (store_txn_begin(x.st, &t) != 0 || store_read_begin(x.st, &rt) != 0) {
		fprintf(stderr, "rtpvault %s: store error\n", cmd);
		if (t)
			store_txn_abort(t);
		goto out;
	}
	uint64_t ids[64];
	size_t n = 0;
	int rc = find_call(&x, rt, cid, ids, 64, &n);
	if (rc == 0 && n == 0) {
		fprintf(stderr, "rtpvault %s: no call with Call-ID %s\n", cmd, cid);
		status = 1;
		store_read_end(rt);
		store_txn_abort(t);
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct store_rec h;
		const uint8_t *sealed;
		size_t len;
		rc = store_get_record(rt, ids[i], &h, &sealed, &len);
		if (rc)
			break;
		if (on)
			h.flags |= REC_F_HOLD;
		else
			h.flags &= ~REC_F_HOLD;
		rc = store_put_record(t, &h, sealed, len);
		char det[1024];
		snprintf(det, sizeof(det), "{\"record_id\":%" PRIu64 ",\"call_id\":", h.record_id);
		jesc(det, sizeof(det), cid);
		size_t dl = strlen(det);
		snprintf(det + dl, sizeof(det) - dl, ",\"reason\":");
		jesc(det, sizeof(det), reason ? reason : "");
		dl = strlen(det);
		snprintf(det + dl, sizeof(det) - dl, "}");
		if (rc == 0)
			rc = audit_put(&x, t, cmd, AUDIT_ALLOWED, det);
		if (rc == 0)
			printf("%s: record %" PRIu64 " call-id %s %s\n", cmd, h.record_id, cid,
			       on ? "is under hold (never deleted until unhold)" : "is no longer under hold");
	}
	store_read_end(rt);
	if (rc) {
		store_txn_abort(t);
		fprintf(stderr, "rtpvault %s: %s\n", cmd, store_strerror(rc));
		goto out;
	}
	rc = store_txn_commit(t);
	if (rc)
		fprintf(stderr, "rtpvault %s: %s\n", cmd, store_strerror(rc));
	status = rc ? 1 : 0;
out:
	rctx_close(&x, true);
	config_free(cfg);
	return status;
}

int cmd_hold(int argc, char **argv)
{
	return cmd_hold_set(argc, argv, true);
}

int cmd_unhold(int argc, char **argv)
{
	return cmd_hold_set(argc, argv, false);
}

/* Writes a refusal to the audit log in its own transaction. */
static void audit_refusal(struct rctx *x, const char *cmd, const char *cid, const char *why)
{
	struct store_txn *t = NULL;
	if (store_txn_begin(x->st, &t) != 0)
		return;
	char det[1024] = "{\"call_id\":";
	jesc(det, sizeof(det), cid);
	size_t dl = strlen(det);
	snprintf(det + dl, sizeof(det) - dl, ",\"refused\":");
	jesc(det, sizeof(det), why);
	dl = strlen(det);
	snprintf(det + dl, sizeof(det) - dl, "}");
	if (audit_put(x, t, cmd, AUDIT_REFUSED, det) == 0)
		store_txn_commit(t);
	else
		store_txn_abort(t);
}

int cmd_erase(int argc, char **argv)
{
	const char *conf, *cid, *reason;
	int u = parse_call_args(argc, argv, "erase", true, &conf, &cid, &reason);
	if (u)
		return u;
	struct rv_config *cfg = cli_load_config(conf);
	if (!cfg)
		return 1;
	struct rctx x;
	int status = 1;
	if (rctx_open(&x, cfg, "erase", true) != 0)
		goto out;
	struct access_who who;
	access_whoami(cfg, &who);
	struct store_rtxn *rt = NULL;
	if (store_read_begin(x.st, &rt) != 0)
		goto out;
	uint64_t ids[64];
	size_t n = 0;
	struct victim v[64];
	size_t nv = 0;
	bool held = false, denied = false;
	char denied_profile[RV_CONFIG_PROFILE_NAME_MAX + 1] = "";
	int rc = find_call(&x, rt, cid, ids, 64, &n);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct store_rec h;
		const uint8_t *s;
		size_t l;
		if (store_get_record(rt, ids[i], &h, &s, &l) != 0)
			continue;
		if (h.flags & REC_F_HOLD)
			held = true;
		struct recinfo ri;
		rec_info(&x, &h, s, l, &ri);
		if (!access_check_erase(cfg, access_profile_index(cfg, ri.ok ? ri.profile : "?"), &who)) {
			denied = true;
			snprintf(denied_profile, sizeof(denied_profile), "%s", ri.profile);
		}
		secure_wipe(&ri, sizeof(ri));
		v[nv++] = (struct victim){ h.record_id, h.deadline_us, false };
	}
	store_read_end(rt);
	if (rc == 0 && nv == 0) {
		fprintf(stderr, "rtpvault erase: no call with Call-ID %s\n", cid);
		goto out;
	}
	if (denied) {
		fprintf(stderr, "rtpvault erase: refused: %s may not erase calls of profile %s (erase_roles)\n", who.user,
			denied_profile);
		audit_refusal(&x, "erase", cid, "role may not erase this profile");
		goto out;
	}
	if (held) {
		fprintf(stderr, "rtpvault erase: refused: call %s is under hold (unhold it first)\n", cid);
		audit_refusal(&x, "erase", cid, "under hold");
		goto out;
	}
	uint64_t done = 0;
	/* the hold flag is checked again inside delete_records' snapshot */
	rc = rc ? rc : delete_records(&x, v, nv, "erase", reason, util_wall_us(), &done);
	if (rc) {
		fprintf(stderr, "rtpvault erase: %s\n", store_strerror(rc));
		goto out;
	}
	printf("erase: %" PRIu64 " record(s) of %s deleted\n", done, cid);
	status = 0;
out:
	rctx_close(&x, true);
	config_free(cfg);
	return status;
}

/* ---------------------------------------------------------------- periodic */

static struct {
	bool on;
	struct rctx x;
	uint64_t interval, next_due;
	bool due;
	struct collect c;
} g_sweep;

int retention_start(const struct rv_config *cfg, struct store *st)
{
	retention_stop();
	if (rctx_open(&g_sweep.x, cfg, "capture (sweep)", false) != 0) {
		rctx_close(&g_sweep.x, false);
		return -1;
	}
	g_sweep.x.st = st;
	size_t batch = (size_t)cfg->retention_sweep_batch;
	if (batch < 1 || batch > MAX_BATCH)
		batch = 100;
	g_sweep.c = (struct collect){ .max = batch };
	g_sweep.c.v = calloc(batch, sizeof(*g_sweep.c.v));
	if (!g_sweep.c.v) {
		rctx_close(&g_sweep.x, false);
		return -1;
	}
	g_sweep.interval = cfg->retention_sweep_interval ? cfg->retention_sweep_interval : 3600000000ULL;
	g_sweep.next_due = 0; /* first sweep at the first tick */
	g_sweep.due = false;
	g_sweep.on = true;
	return 0;
}

void retention_tick(uint64_t now_us)
{
	if (!g_sweep.on)
		return;
	if (!g_sweep.due) {
		if (now_us < g_sweep.next_due)
			return;
		g_sweep.due = true;
		g_sweep.c.started = false;
		g_sweep.c.held = 0;
	}
	uint64_t done = 0;
	bool more = false;
	int rc = sweep_batch(&g_sweep.x, now_us, &g_sweep.c, &done, &more);
	if (rc)
		fprintf(stderr, "rtpvault capture: retention sweep: %s\n", store_strerror(rc));
	if (rc || !more) {
		g_sweep.due = false;
		g_sweep.next_due = now_us + g_sweep.interval;
	}
}

void retention_stop(void)
{
	if (!g_sweep.on)
		return;
	free(g_sweep.c.v);
	rctx_close(&g_sweep.x, false);
	memset(&g_sweep, 0, sizeof(g_sweep));
}

/* ---------------------------------------------------------------- rotation */

/* Paths of the retired siblings of key file kf present in the keyring. */
static bool is_retired_of(const char *path, const char *kf)
{
	size_t kl = strlen(kf), pl = strlen(path);
	return pl == kl + 17 && strncmp(path, kf, kl) == 0 && path[kl] == '.' && strcmp(path + kl + 9, ".retired") == 0;
}

struct rot_scan {
	struct rctx *x;
	const struct rv_kek *cur;   /* new key of kf */
	uint32_t old_ids[KEYRING_MAX];
	size_t n_old;
	bool rekey_index;           /* kf is the [storage] key_file */
	uint64_t cursor;            /* records <= cursor are done in this run */
	uint64_t ids[MAX_BATCH];
	size_t n, max;
	uint64_t refs[KEYRING_MAX]; /* records still wrapped with old_ids[i] */
};

static bool is_old(const struct rot_scan *r, uint32_t id)
{
	for (size_t i = 0; i < r->n_old; i++)
		if (r->old_ids[i] == id)
			return true;
	return false;
}

/* The index HMACs a record should have under the current [storage] key. */
static bool index_stale(const struct rot_scan *r, const struct store_rec *h, const struct recinfo *ri)
{
	uint8_t a[RV_HMAC_LEN], b[RV_HMAC_LEN];
	if (!ri->ok)
		return false;
	if (index_hmac(r->x->primary, ri->caller, strlen(ri->caller), a) != 0 ||
	    index_hmac(r->x->primary, ri->callee, strlen(ri->callee), b) != 0)
		return false;
	return memcmp(a, h->caller_hmac, RV_HMAC_LEN) != 0 || memcmp(b, h->callee_hmac, RV_HMAC_LEN) != 0;
}

static int rot_collect_cb(void *ctx, const struct store_rec *h, const uint8_t *sealed, size_t len)
{
	struct rot_scan *r = ctx;
	if (h->record_id <= r->cursor)
		return 0;
	if (r->n >= r->max)
		return 1;
	bool need = false;
	if (!key_shredded(h)) {
		need = is_old(r, h->kek_id);
		if (!need && r->rekey_index) {
			struct recinfo ri;
			rec_info(r->x, h, sealed, len, &ri);
			need = index_stale(r, h, &ri);
			secure_wipe(&ri, sizeof(ri));
		}
	}
	if (need)
		r->ids[r->n++] = h->record_id;
	else
		r->cursor = h->record_id;
	return 0;
}

static int rot_count_cb(void *ctx, const struct store_rec *h, const uint8_t *sealed, size_t len)
{
	(void)sealed;
	(void)len;
	struct rot_scan *r = ctx;
	if (key_shredded(h))
		return 0;
	for (size_t i = 0; i < r->n_old; i++)
		if (h->kek_id == r->old_ids[i])
			r->refs[i]++;
	return 0;
}

/* Re-wraps / re-keys the records in r->ids in one transaction. */
static int rot_batch(struct rot_scan *r, uint64_t *rewrapped, uint64_t *rekeyed)
{
	struct rctx *x = r->x;
	struct store_txn *t = NULL;
	struct store_rtxn *rt = NULL;
	int rc = begin_pair(x, &t, &rt);
	if (rc)
		return rc;
	uint64_t nw = 0, nk = 0;
	for (size_t i = 0; i < r->n && rc == 0; i++) {
		struct store_rec h;
		const uint8_t *sealed;
		size_t len;
		rc = store_get_record(rt, r->ids[i], &h, &sealed, &len);
		if (rc == STORE_E_NOT_FOUND) {
			rc = 0;
			continue;
		}
		if (rc)
			break;
		struct recinfo ri;
		rec_info(x, &h, sealed, len, &ri);
		bool changed = false;
		if (is_old(r, h.kek_id)) {
			const struct rv_kek *old = keyring_find(&x->kr, h.kek_id);
			struct rv_dek dek;
			if (!old || dek_unwrap(old, h.wrapped_dek, h.record_id, &dek) != 0) {
				fprintf(stderr, "rtpvault keys rotate: record %" PRIu64 ": data key does not unwrap; left as is\n",
					h.record_id);
			} else {
				rc = dek_wrap(r->cur, &dek, h.record_id, h.wrapped_dek) ? STORE_E_ARG : 0;
				h.kek_id = r->cur->id;
				changed = rc == 0;
				nw += changed;
			}
			dek_wipe(&dek);
		}
		if (rc == 0 && r->rekey_index && index_stale(r, &h, &ri)) {
			uint8_t hm[RV_HMAC_LEN];
			if (ri.call_id[0]) {
				rc = del_callid_all(x, t, ri.call_id, h.record_id);
				if (rc == 0 && index_hmac(x->primary, ri.call_id, strlen(ri.call_id), hm) == 0)
					rc = store_put_callid(t, hm, h.record_id);
			}
			if (rc == 0 && (index_hmac(x->primary, ri.caller, strlen(ri.caller), h.caller_hmac) != 0 ||
					index_hmac(x->primary, ri.callee, strlen(ri.callee), h.callee_hmac) != 0))
				rc = STORE_E_ARG;
			changed = changed || rc == 0;
			nk += rc == 0;
		}
		secure_wipe(&ri, sizeof(ri));
		if (rc == 0 && changed)
			rc = store_put_record(t, &h, sealed, len);
		if (rc == 0)
			r->cursor = h.record_id;
	}
	store_read_end(rt);
	if (rc) {
		store_txn_abort(t);
		return rc;
	}
	rc = store_txn_commit(t);
	if (rc == 0) {
		*rewrapped += nw;
		*rekeyed += nk;
	}
	return rc;
}

/* The audit chain is keyed from the [storage] KEK.  After that key was
 * rotated, the whole chain is verified under the key that wrote it and
 * re-chained under the new key, in the one transaction t (so a kill leaves
 * either chain intact; a rerun finds the chain still under a retired key and
 * does it then).  With write false it only checks that the chain verifies
 * under some key of the keyring.  0, or STORE_E_CORRUPT (message printed,
 * nothing changed) when an entry does not verify: a broken chain is never
 * re-keyed, that would hide the break. */
static int audit_rekey(struct rctx *x, struct store_txn *t, bool write, uint64_t *count)
{
	uint64_t last = 0;
	const uint8_t *lv = NULL;
	size_t ll = 0;
	*count = 0;
	int rc = store_last_audit(t, &last, &lv, &ll);
	if (rc || last == 0)
		return rc;
	uint8_t prev[32] = { 0 }, mac[32];
	if (last > 1) {
		const uint8_t *pv;
		size_t pl;
		if (store_get_audit(t, last - 1, &pv, &pl) != 0 || pl < 32)
			return STORE_E_CORRUPT;
		memcpy(prev, pv + pl - 32, 32);
	}
	if (ll < 32)
		return STORE_E_CORRUPT;
	const struct rv_kek *from = NULL;
	for (size_t i = 0; i < x->kr.n && !from; i++)
		if (audit_chain_mac(&x->kr.keys[i], prev, lv, ll - 32, mac) == 0 && CRYPTO_memcmp(mac, lv + ll - 32, 32) == 0)
			from = &x->kr.keys[i];
	if (!from) {
		fprintf(stderr, "rtpvault keys rotate: the newest audit entry (%" PRIu64 ") verifies under no known key; "
				"run rtpvault audit verify\n",
			last);
		return STORE_E_CORRUPT;
	}
	if (write && from == x->primary)
		return 0;
	uint8_t oprev[32] = { 0 }, nprev[32] = { 0 };
	for (uint64_t seq = 1; seq <= last; seq++) {
		const uint8_t *v;
		size_t l;
		if (store_get_audit(t, seq, &v, &l) != 0 || l < 32) {
			fprintf(stderr, "rtpvault keys rotate: audit entry %" PRIu64 " is missing\n", seq);
			return STORE_E_CORRUPT;
		}
		uint8_t *copy = malloc(l);
		if (!copy)
			return STORE_E_NOMEM;
		memcpy(copy, v, l);
		rc = audit_chain_mac(from, oprev, copy, l - 32, mac);
		if (rc == 0 && CRYPTO_memcmp(mac, copy + l - 32, 32) != 0) {
			fprintf(stderr, "rtpvault keys rotate: audit entry %" PRIu64 " does not verify; not re-keying\n",
				seq);
			rc = STORE_E_CORRUPT;
		}
		memcpy(oprev, copy + l - 32, 32);
		if (rc == 0 && write) {
			rc = audit_chain_mac(x->primary, nprev, copy, l - 32, copy + l - 32);
			memcpy(nprev, copy + l - 32, 32);
			if (rc == 0)
				rc = store_put_audit(t, seq, copy, l);
		}
		free(copy);
		if (rc)
			return rc;
	}
	*count = write ? last : 0;
	return 0;
}

/* Runs audit_rekey in its own transaction. */
static int audit_rekey_txn(struct rctx *x, bool write)
{
	struct store_txn *t = NULL;
	uint64_t n = 0;
	int rc = store_txn_begin(x->st, &t);
	if (rc)
		return rc;
	rc = audit_rekey(x, t, write, &n);
	if (rc) {
		store_txn_abort(t);
		return rc;
	}
	rc = store_txn_commit(t);
	if (rc == 0 && n)
		printf("keys rotate: audit log (%" PRIu64 " entries) verified and re-chained under the new key; "
		       "take a new anchor (rtpvault audit anchor)\n",
		       n);
	return rc;
}

/* Step 1: KEYFILE.next -> KEYFILE, the old key kept as KEYFILE.<id>.retired.
 * Idempotent: a kill at any point leaves a state this finishes. */
static int rot_swap(const char *kf, uint32_t *old_id, uint32_t *new_id)
{
	char next[4200], ret[4200];
	snprintf(next, sizeof(next), "%s.next", kf);
	struct rv_kek cur, nk;
	int rc = kek_load(kf, &cur);
	if (rc) {
		fprintf(stderr, "rtpvault keys rotate: %s: %s\n", kf, crypto_strerror(rc));
		return -1;
	}
	if (access(next, F_OK) != 0) {
		rc = kek_create(next);
		if (rc) {
			fprintf(stderr, "rtpvault keys rotate: %s: %s\n", next, crypto_strerror(rc));
			kek_wipe(&cur);
			return -1;
		}
	}
	rc = kek_load(next, &nk);
	if (rc) {
		fprintf(stderr, "rtpvault keys rotate: %s: %s\n", next, crypto_strerror(rc));
		kek_wipe(&cur);
		return -1;
	}
	snprintf(ret, sizeof(ret), "%s.%08x.retired", kf, cur.id);
	*old_id = cur.id;
	*new_id = nk.id;
	kek_wipe(&cur);
	kek_wipe(&nk);
	if (link(kf, ret) != 0 && errno != EEXIST) {
		fprintf(stderr, "rtpvault keys rotate: link %s: %s\n", ret, strerror(errno));
		return -1;
	}
	if (rename(next, kf) != 0) {
		fprintf(stderr, "rtpvault keys rotate: rename %s: %s\n", next, strerror(errno));
		return -1;
	}
	/* make the new name durable before any record refers to the new key */
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s", kf);
	char *sl = strrchr(dir, '/');
	if (sl)
		*(sl == dir ? sl + 1 : sl) = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	FILE *df = fopen(dir, "r");
	if (df) {
		fsync(fileno(df));
		fclose(df);
	}
	return 0;
}

static int scan_refs(struct rot_scan *r)
{
	struct store_rtxn *rt = NULL;
	int rc = store_read_begin(r->x->st, &rt);
	if (rc)
		return rc;
	memset(r->refs, 0, sizeof(r->refs));
	rc = store_each_record(rt, rot_count_cb, r);
	store_read_end(rt);
	return rc;
}

static void rot_old_ids(struct rot_scan *r, const char *kf)
{
	r->n_old = 0;
	for (size_t i = 0; i < r->x->kr.n; i++)
		if (is_retired_of(r->x->kr.paths[i], kf) && r->x->kr.keys[i].id != r->cur->id)
			r->old_ids[r->n_old++] = r->x->kr.keys[i].id;
}

int cmd_keys_rotate(int argc, char **argv)
{
	const char *conf = NULL, *pname = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc)
			pname = argv[++i];
		else if (strcmp(argv[i], "rotate") == 0)
			continue;
		else
			return usage_err("keys", "rotate -c CONF [--profile P]");
	}
	struct rv_config *cfg = cli_load_config(conf);
	if (!cfg)
		return 1;
	int status = 1;
	struct rctx x;
	struct rot_scan *r = calloc(1, sizeof(*r));
	if (!r || rctx_open(&x, cfg, "keys rotate", true) != 0) {
		if (r)
			rctx_close(&x, true);
		free(r);
		config_free(cfg);
		return 1;
	}
	const char *kf = cfg->storage_key_file;
	if (pname) {
		int pi = profiles_find(&x.prof, pname);
		if (pi < 0) {
			fprintf(stderr, "rtpvault keys rotate: no profile %s\n", pname);
			goto out;
		}
		kf = x.prof.p[pi].key_file;
	}
	if (getuid() != 0 && access(kf, W_OK) != 0 && access(kf, R_OK) != 0) {
		fprintf(stderr, "rtpvault keys rotate: %s is not accessible\n", kf);
		goto out;
	}
	r->x = &x;
	r->rekey_index = strcmp(kf, cfg->storage_key_file) == 0;
	r->max = (size_t)cfg->retention_sweep_batch;
	if (r->max < 1 || r->max > MAX_BATCH)
		r->max = 100;

	/* resume: retired keys of kf still referenced -> finish, no new key */
	struct rv_kek cur;
	if (kek_load(kf, &cur) != 0) {
		fprintf(stderr, "rtpvault keys rotate: %s cannot be loaded\n", kf);
		goto out;
	}
	r->cur = keyring_find(&x.kr, cur.id);
	uint32_t cur_id = cur.id;
	kek_wipe(&cur);
	rot_old_ids(r, kf);
	char next[4200];
	snprintf(next, sizeof(next), "%s.next", kf);
	bool pending = access(next, F_OK) == 0;
	if (!pending && r->n_old && scan_refs(r) == 0)
		for (size_t i = 0; i < r->n_old; i++)
			pending = pending || r->refs[i] > 0;
	uint32_t old_id = cur_id, new_id = cur_id;
	if (pending && access(next, F_OK) != 0) {
		printf("keys rotate: an interrupted rotation of %s is resumed (current key %08x)\n", kf, cur_id);
	} else {
		if (pending)
			printf("keys rotate: an interrupted rotation of %s is resumed\n", kf);
		/* the audit chain must verify before anything changes; the start
		 * entry is written under the current key */
		if (r->rekey_index && audit_rekey_txn(&x, false) != 0)
			goto out;
		struct store_txn *t = NULL;
		if (store_txn_begin(x.st, &t) != 0)
			goto out;
		char det[512];
		snprintf(det, sizeof(det), "{\"key_file\":\"%s\",\"old_kek\":\"%08x\",\"phase\":\"start\"}", kf,
			 cur_id);
		int arc = audit_put(&x, t, "keys-rotate", AUDIT_INFO, det);
		if (arc)
			store_txn_abort(t);
		else
			arc = store_txn_commit(t);
		if (arc) {
			fprintf(stderr, "rtpvault keys rotate: the audit entry could not be written; nothing changed\n");
			goto out;
		}
		if (rot_swap(kf, &old_id, &new_id) != 0)
			goto out;
		printf("keys rotate: %s: new key %08x, previous key %08x retired as %s.%08x.retired\n", kf, new_id,
		       old_id, kf, old_id);
	}
	if (load_keyring(&x) != 0)
		goto out;
	struct rv_kek nowk;
	if (kek_load(kf, &nowk) != 0)
		goto out;
	r->cur = keyring_find(&x.kr, nowk.id);
	new_id = nowk.id;
	kek_wipe(&nowk);
	if (!r->cur)
		goto out;
	rot_old_ids(r, kf);
	if (r->rekey_index && audit_rekey_txn(&x, true) != 0) {
		fprintf(stderr, "rtpvault keys rotate: audit log not re-keyed (rerun to resume)\n");
		goto out;
	}

	uint64_t rewrapped = 0, rekeyed = 0;
	int rc = 0;
	for (;;) {
		struct store_rtxn *rt = NULL;
		rc = store_read_begin(x.st, &rt);
		if (rc)
			break;
		r->n = 0;
		rc = store_each_record(rt, rot_collect_cb, r);
		store_read_end(rt);
		if (rc || r->n == 0)
			break;
		rc = rot_batch(r, &rewrapped, &rekeyed);
		if (rc)
			break;
		fprintf(stderr, "keys rotate: %" PRIu64 " data keys re-wrapped, %" PRIu64 " index entries re-keyed\n",
			rewrapped, rekeyed);
	}
	if (rc) {
		fprintf(stderr, "rtpvault keys rotate: %s (rerun to resume)\n", store_strerror(rc));
		goto out;
	}
	if (scan_refs(r) != 0)
		goto out;
	char det[1024];
	int dl = snprintf(det, sizeof(det),
			  "{\"key_file\":\"%s\",\"new_kek\":\"%08x\",\"rewrapped\":%" PRIu64 ",\"index_rekeyed\":%" PRIu64
			  ",\"phase\":\"done\",\"retired\":[",
			  kf, new_id, rewrapped, rekeyed);
	bool all_free = true;
	for (size_t i = 0; i < r->n_old; i++) {
		printf("keys rotate: retired key %08x (%s.%08x.retired): %" PRIu64 " records refer to it%s\n",
		       r->old_ids[i], kf, r->old_ids[i], r->refs[i],
		       r->refs[i] ? "" : "; it may be removed (keep an offline copy for old backups)");
		all_free = all_free && r->refs[i] == 0;
		if (dl > 0 && (size_t)dl < sizeof(det))
			dl += snprintf(det + dl, sizeof(det) - (size_t)dl, "%s{\"kek\":\"%08x\",\"refs\":%" PRIu64 "}",
				       i ? "," : "", r->old_ids[i], r->refs[i]);
	}
	if (dl > 0 && (size_t)dl < sizeof(det))
		snprintf(det + dl, sizeof(det) - (size_t)dl, "]}");
	struct store_txn *t = NULL;
	if (store_txn_begin(x.st, &t) == 0) {
		if (audit_put(&x, t, "keys-rotate", AUDIT_INFO, det) == 0)
			store_txn_commit(t);
		else
			store_txn_abort(t);
	}
	printf("keys rotate: done: %" PRIu64 " data keys re-wrapped with %08x, %" PRIu64
	       " index entries re-keyed; audio not re-encrypted\n",
	       rewrapped, new_id, rekeyed);
	status = all_free ? 0 : 1;
out:
	rctx_close(&x, true);
	free(r);
	config_free(cfg);
	return status;
}
