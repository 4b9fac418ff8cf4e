/*
 * cli_store.c - the recorder's commands: keys, capture, calls, show, export.
 *
 * Readers (calls, show, export) open the store read-only and need the key
 * file: metadata (Call-ID, numbers, consent evidence) is sealed, so nothing
 * can be listed without the key.  export verifies every chunk of a call
 * (tag, position, final marker, count) before it writes any file, writes to
 * temporary names and renames only when everything succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "crypto.h"
#include "export.h"
#include "json.h"
#include "log.h"
#include "record.h"
#include "recorder.h"
#include "store.h"
#include "writer.h"

static int usage_err(const char *cmd, const char *u)
{
	fprintf(stderr, "usage: rtpvault %s %s\n", cmd, u);
	return 2;
}

static int load_kek(const struct rv_config *cfg, struct rv_kek *kek, const char *cmd)
{
	int rc = kek_load(cfg->storage_key_file, kek);
	if (rc) {
		fprintf(stderr, "rtpvault %s: key file %s: %s\n", cmd, cfg->storage_key_file, crypto_strerror(rc));
		if (rc == CRYPTO_E_KEYFILE_MISSING)
			fprintf(stderr, "rtpvault %s: create one with: rtpvault keys init -c CONF\n", cmd);
		return -1;
	}
	return 0;
}

static int open_store(const struct rv_config *cfg, bool readonly, struct store **s, const char *cmd)
{
	struct store_opts o = {
		.path = cfg->storage_path,
		.map_size = cfg->storage_map_size,
		.map_grow = cfg->storage_map_grow,
		.map_max = cfg->storage_map_max,
		.readonly = readonly,
	};
	int rc = store_open(&o, s);
	if (rc == STORE_E_EMPTY || (rc == STORE_E_IO && readonly && access(cfg->storage_path, F_OK) != 0)) {
		*s = NULL;
		return 1; /* nothing recorded yet: an empty listing, not an error */
	}
	if (rc) {
		fprintf(stderr, "rtpvault %s: store %s: %s\n", cmd, cfg->storage_path, store_strerror(rc));
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- keys */

int cmd_keys(int argc, char **argv)
{
	const char *conf = NULL, *verb = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (!verb)
			verb = argv[i];
		else
			return usage_err("keys", "init -c CONF");
	}
	if (verb && strcmp(verb, "rotate") == 0)
		return cmd_keys_rotate(argc, argv);
	if (!verb || strcmp(verb, "init") != 0)
		return usage_err("keys", "init -c CONF | rotate -c CONF [--profile P]");
	struct rv_config *cfg = cli_load_config(conf);
	if (!cfg)
		return 1;
	int rc = kek_create(cfg->storage_key_file);
	if (rc) {
		fprintf(stderr, "rtpvault keys init: %s: %s\n", cfg->storage_key_file, crypto_strerror(rc));
		config_free(cfg);
		return 1;
	}
	struct rv_kek kek;
	if (kek_load(cfg->storage_key_file, &kek) == 0) {
		printf("created %s (key id %08x, mode 0400); keep a copy off this machine: without it no recording can "
		       "be read\n",
		       cfg->storage_key_file, kek.id);
		kek_wipe(&kek);
	}
	config_free(cfg);
	return 0;
}

/* ---------------------------------------------------------------- capture */

int cmd_capture(int argc, char **argv)
{
	const char *conf = NULL, *file = NULL, *iface = NULL;
	bool progress = isatty(2);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
			iface = argv[++i];
		else if (strcmp(argv[i], "--progress") == 0)
			progress = true;
		else if (strcmp(argv[i], "--no-progress") == 0)
			progress = false;
		else
			return usage_err("capture", "-c CONF -r FILE | -i IFACE");
	}
	struct rv_config *cfg = cli_load_config(conf);
	if (!cfg)
		return 1;
	if (!file && !iface && cfg->capture_interface[0])
		iface = cfg->capture_interface;
	if (!file == !iface) {
		config_free(cfg);
		return usage_err("capture", "-c CONF -r FILE | -i IFACE");
	}
	log_init(cfg);
	/* fail closed: no usable key, no capture, nothing written */
	struct rv_kek kek;
	if (load_kek(cfg, &kek, "capture") < 0) {
		fprintf(stderr, "rtpvault capture: refusing to start without a usable key (nothing was written)\n");
		config_free(cfg);
		return 1;
	}
	struct store *st = NULL;
	if (open_store(cfg, false, &st, "capture") < 0) {
		kek_wipe(&kek);
		config_free(cfg);
		return 1;
	}
	char err[256];
	struct writer *w = writer_start(st, cfg, err, sizeof(err));
	struct recorder *rec = w ? recorder_new(cfg, &kek, w, err, sizeof(err)) : NULL;
	struct engine *e = rec ? engine_new(cfg, recorder_sink(), rec) : NULL;
	struct rv_counters ecnt;
	bool have_ecnt = false;
	int status = 1;
	if (!e) {
		fprintf(stderr, "rtpvault capture: %s\n", err[0] ? err : "out of memory");
	} else {
		status = cli_run_capture(e, cfg, file ? file : iface, iface != NULL, progress, "capture");
		engine_counters(e, &ecnt);
		have_ecnt = true;
		engine_free(e); /* calls were ended and sealed by engine_finish */
	}
	if (w)
		writer_sync(w);
	struct writer_stats ws = { 0 };
	if (w)
		writer_stats(w, &ws);
	writer_stop(w);
	if (rec) {
		uint64_t rc[RC__COUNT], states[CONSENT__COUNT];
		recorder_counters(rec, rc);
		recorder_state_counts(rec, states);
		printf("calls seen                %" PRIu64 "\n", rc[RC_calls]);
		for (int i = 1; i < CONSENT__COUNT; i++)
			printf("  consent %-16s %" PRIu64 "\n", consent_state_name(i), states[i]);
		printf("packets kept              %" PRIu64 "\n", rc[RC_packets_kept]);
		printf("bytes stored              %" PRIu64 " (%" PRIu64 " transactions)\n", ws.bytes, ws.commits);
		printf("pending_bytes_persisted_without_consent %" PRIu64 "\n",
		       rc[RC_pending_bytes_persisted_without_consent]);
		printf("recorder counters (non-zero):\n");
		for (int i = 0; i < RC__COUNT; i++)
			if (rc[i])
				printf("  %-40s %" PRIu64 "\n", recorder_counter_name(i), rc[i]);
		if (have_ecnt) {
			printf("engine counters (non-zero; docs/analyze-json.md):\n");
			counters_print(&ecnt, stdout, 0);
		}
		if (ws.queue_waits || ws.map_grown || ws.map_full_drops || ws.errors)
			printf("writer: queue waits %" PRIu64 ", map grown %" PRIu64 ", dropped (store full) %" PRIu64
			       ", errors %" PRIu64 "\n",
			       ws.queue_waits, ws.map_grown, ws.map_full_drops, ws.errors);
		if (ws.map_full_drops || ws.errors)
			status = status ? status : 3;
	}
	recorder_free(rec);
	store_close(st);
	kek_wipe(&kek);
	config_free(cfg);
	return status;
}

/* ---------------------------------------------------------------- reading */

struct opened {
	struct store_rec rec;
	struct rv_dek dek;
	struct rec_meta meta;
	uint8_t *plain;
	size_t plain_len;
};

static int open_record(const struct rv_kek *kek, const struct store_rec *rec, const uint8_t *sealed, size_t len,
		       struct opened *o)
{
	memset(o, 0, sizeof(*o));
	o->rec = *rec;
	if (rec->kek_id != kek->id)
		return CRYPTO_E_AUTH;
	int rc = dek_unwrap(kek, rec->wrapped_dek, rec->record_id, &o->dek);
	if (rc)
		return rc;
	rc = rec_meta_open(&o->dek, rec->record_id, rec->meta_version, sealed, len, &o->meta, &o->plain,
			   &o->plain_len);
	return rc;
}

static void close_record(struct opened *o)
{
	if (o->plain) {
		secure_wipe(o->plain, o->plain_len);
		free(o->plain);
	}
	dek_wipe(&o->dek);
}

/* The record as JSON: the sealed metadata with record_id and complete. */
static void print_record_json(FILE *f, const struct opened *o)
{
	fprintf(f, "{\"record_id\":%" PRIu64 ",\"complete\":%s,\"audio\":%s", o->rec.record_id,
		(o->rec.flags & REC_F_COMPLETE) ? "true" : "false", (o->rec.flags & REC_F_AUDIO) ? "true" : "false");
	if (o->meta.json_len > 2 && o->meta.json[0] == '{') {
		fputc(',', f);
		fwrite(o->meta.json + 1, 1, o->meta.json_len - 1, f);
	} else {
		fputc('}', f);
	}
}

/* A top-level string or number field of the metadata JSON (first match). */
static void json_field(const struct opened *o, const char *key, char *out, size_t n)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	out[0] = '\0';
	const char *js = o->meta.json;
	size_t jl = o->meta.json_len;
	const char *p = memmem(js, jl, pat, strlen(pat));
	if (!p)
		return;
	p += strlen(pat);
	const char *end = js + jl;
	size_t k = 0;
	if (p < end && *p == '"') {
		p++;
		while (p < end && *p != '"' && k + 1 < n) {
			if (*p == '\\' && p + 1 < end)
				p++;
			out[k++] = *p++;
		}
	} else {
		while (p < end && *p != ',' && *p != '}' && k + 1 < n)
			out[k++] = *p++;
	}
	out[k] = '\0';
}

struct list_ctx {
	const struct rv_kek *kek;
	bool json;
	uint64_t since, until;
	bool has_number;
	uint8_t number_hmac[RV_HMAC_LEN];
	int consent; /* -1 any */
	unsigned n;
	unsigned failed;
	struct { uint64_t invite_us, id; } *items;
	size_t n_items, cap_items;
};

/* calls are listed in order of their first INVITE, ties by record id */
static int collect_one(void *ctx, const struct store_rec *rec, const uint8_t *sealed, size_t len)
{
	struct list_ctx *l = ctx;
	(void)sealed;
	(void)len;
	if (l->n_items == l->cap_items) {
		size_t nc = l->cap_items ? l->cap_items * 2 : 256;
		void *ni = realloc(l->items, nc * sizeof(*l->items));
		if (!ni)
			return 1;
		l->items = ni;
		l->cap_items = nc;
	}
	l->items[l->n_items].invite_us = rec->invite_us;
	l->items[l->n_items].id = rec->record_id;
	l->n_items++;
	return 0;
}

static int cmp_item(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : (x[1] > y[1]);
}

static void fmt_us(char *b, size_t n, uint64_t us)
{
	if (!us) {
		snprintf(b, n, "-");
		return;
	}
	time_t t = (time_t)(us / 1000000u);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(b, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int list_one(void *ctx, const struct store_rec *rec, const uint8_t *sealed, size_t len)
{
	struct list_ctx *l = ctx;
	if (l->since && rec->invite_us < l->since)
		return 0;
	if (l->until && rec->invite_us > l->until)
		return 0;
	if (l->consent >= 0 && rec->consent_state != l->consent)
		return 0;
	if (l->has_number && memcmp(rec->caller_hmac, l->number_hmac, RV_HMAC_LEN) != 0 &&
	    memcmp(rec->callee_hmac, l->number_hmac, RV_HMAC_LEN) != 0)
		return 0;
	struct opened o;
	int rc = open_record(l->kek, rec, sealed, len, &o);
	if (rc) {
		fprintf(stderr, "rtpvault calls: record %" PRIu64 ": metadata does not authenticate (%s)\n",
			rec->record_id, crypto_strerror(rc));
		l->failed++;
		close_record(&o);
		return 0;
	}
	if (l->json) {
		if (l->n)
			fputc(',', stdout);
		print_record_json(stdout, &o);
	} else {
		char cid[80], caller[40], callee[40], method[16], t[32];
		json_field(&o, "call_id", cid, sizeof(cid));
		json_field(&o, "caller", caller, sizeof(caller));
		json_field(&o, "callee", callee, sizeof(callee));
		json_field(&o, "method", method, sizeof(method));
		fmt_us(t, sizeof(t), rec->invite_us);
		uint64_t kept = 0;
		for (unsigned i = 0; i < o.meta.n_streams; i++)
			kept += o.meta.streams[i].packets;
		printf("%6" PRIu64 "  %-20s  %-10s %-10s %-10s %-9s %7" PRIu64 "  %-12s %-12s %s\n", rec->record_id, t,
		       consent_state_name(rec->consent_state), method[0] && strcmp(method, "null") ? method : "-",
		       (rec->flags & REC_F_COMPLETE) ? "complete" : "INCOMPLETE", (rec->flags & REC_F_AUDIO) ? "audio" : "-",
		       kept, caller, callee, cid);
	}
	l->n++;
	close_record(&o);
	return 0;
}

int cli_parse_time(const char *s, uint64_t *us)
{
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (*s && *end == '\0' && errno == 0 && d >= 0) {
		*us = (uint64_t)(d * 1e6);
		return 0;
	}
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *fmts[] = { "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d" };
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		const char *p = strptime(s, fmts[i], &tm);
		if (p && *p == '\0') {
			*us = (uint64_t)timegm(&tm) * 1000000u;
			return 0;
		}
	}
	return -1;
}

int cmd_calls(int argc, char **argv)
{
	const char *conf = NULL, *number = NULL;
	struct list_ctx l = { .consent = -1 };
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			l.json = true;
		else if ((strcmp(argv[i], "--since") == 0 || strcmp(argv[i], "--until") == 0) && i + 1 < argc) {
			uint64_t *dst = argv[i][2] == 's' ? &l.since : &l.until;
			if (cli_parse_time(argv[i + 1], dst) < 0) {
				fprintf(stderr, "rtpvault calls: %s: not a time (use 2026-01-31T12:00:00Z or epoch "
						"seconds)\n",
					argv[i + 1]);
				return 2;
			}
			i++;
		} else if (strcmp(argv[i], "--number") == 0 && i + 1 < argc)
			number = argv[++i];
		else if (strcmp(argv[i], "--consent") == 0 && i + 1 < argc) {
			l.consent = consent_state_parse(argv[++i]);
			if (l.consent < 0) {
				fprintf(stderr, "rtpvault calls: --consent %s: not a state (pending granted denied "
						"timeout withdrawn exempt none)\n",
					argv[i]);
				return 2;
			}
		} else
			return usage_err("calls", "-c CONF [--json] [--since T] [--until T] [--number N] [--consent STATE]");
	}
	struct rv_config *cfg = cli_load_config(conf);
	if (!cfg)
		return 1;
	struct rv_kek kek;
	struct store *st = NULL;
	if (load_kek(cfg, &kek, "calls") < 0) {
		config_free(cfg);
		return 1;
	}
	int orc = open_store(cfg, true, &st, "calls");
	if (orc != 0) {
		if (orc > 0)
			fputs(l.json ? "[]\n" : "no calls recorded yet\n", stdout);
		kek_wipe(&kek);
		config_free(cfg);
		return orc > 0 ? 0 : 1;
	}
	l.kek = &kek;
	if (number) {
		l.has_number = true;
		index_hmac(&kek, number, strlen(number), l.number_hmac);
	}
	struct store_rtxn *rt = NULL;
	int rc = store_read_begin(st, &rt);
	if (rc == 0) {
		if (l.json)
			fputc('[', stdout);
		else
			printf("%6s  %-20s  %-10s %-10s %-10s %-9s %7s  %-12s %-12s %s\n", "record", "invite (UTC)",
			       "consent", "method", "recording", "kept", "packets", "caller", "callee", "call-id");
		rc = store_each_record(rt, collect_one, &l);
		qsort(l.items, l.n_items, sizeof(*l.items), cmp_item);
		for (size_t i = 0; i < l.n_items && rc == 0; i++) {
			struct store_rec rec;
			const uint8_t *sealed;
			size_t len;
			if (store_get_record(rt, l.items[i].id, &rec, &sealed, &len) == 0)
				list_one(&l, &rec, sealed, len);
		}
		free(l.items);
		if (l.json)
			fputs("]\n", stdout);
		store_read_end(rt);
	}
	if (rc)
		fprintf(stderr, "rtpvault calls: %s\n", store_strerror(rc));
	store_close(st);
	kek_wipe(&kek);
	config_free(cfg);
	return rc || l.failed ? 1 : 0;
}

/* Record ids of a Call-ID. */
static int find_call(struct store_rtxn *rt, const struct rv_kek *kek, const char *call_id, uint64_t *ids, size_t max,
		     size_t *n)
{
	uint8_t hm[RV_HMAC_LEN];
	index_hmac(kek, call_id, strlen(call_id), hm);
	return store_find_callid(rt, hm, ids, max, n);
}

int cmd_show(int argc, char **argv)
{
	const char *conf = NULL, *cid = NULL;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (!cid)
			cid = argv[i];
		else
			return usage_err("show", "-c CONF CALL-ID [--json]");
	}
	if (!cid)
		return usage_err("show", "-c CONF CALL-ID [--json]");
	struct rv_config *cfg = cli_load_config(conf);
	if (!cfg)
		return 1;
	struct rv_kek kek;
	struct store *st = NULL;
	int orc = -1;
	if (load_kek(cfg, &kek, "show") < 0 || (orc = open_store(cfg, true, &st, "show")) != 0) {
		if (orc > 0)
			fprintf(stderr, "rtpvault show: no call with Call-ID %s (nothing recorded yet)\n", cid);
		if (orc >= 0)
			kek_wipe(&kek);
		config_free(cfg);
		return 1;
	}
	struct store_rtxn *rt = NULL;
	uint64_t ids[64];
	size_t n = 0;
	int status = 0;
	if (store_read_begin(st, &rt) != 0 || find_call(rt, &kek, cid, ids, 64, &n) != 0 || n == 0) {
		fprintf(stderr, "rtpvault show: no call with Call-ID %s\n", cid);
		status = 1;
		n = 0;
	}
	if (json && n)
		fputc('[', stdout);
	for (size_t i = 0; i < n; i++) {
		struct store_rec rec;
		const uint8_t *sealed;
		size_t len;
		struct opened o;
		if (store_get_record(rt, ids[i], &rec, &sealed, &len) != 0 ||
		    open_record(&kek, &rec, sealed, len, &o) != 0) {
			fprintf(stderr, "rtpvault show: record %" PRIu64 " does not authenticate\n", ids[i]);
			status = 1;
			continue;
		}
		if (json) {
			if (i)
				fputc(',', stdout);
			print_record_json(stdout, &o);
		} else {
			char v[128], t[32];
			printf("record %" PRIu64 " (%s%s)\n", rec.record_id,
			       (rec.flags & REC_F_COMPLETE) ? "complete" : "INCOMPLETE: recording interrupted",
			       (rec.flags & REC_F_TRUNCATED) ? ", truncated" : "");
			const char *keys[] = { "call_id", "caller", "callee", "state", "status", "end_reason" };
			for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
				json_field(&o, keys[k], v, sizeof(v));
				printf("  %-12s %s\n", keys[k], v);
			}
			fmt_us(t, sizeof(t), rec.invite_us);
			printf("  %-12s %s\n", "invite", t);
			fmt_us(t, sizeof(t), rec.end_us);
			printf("  %-12s %s\n", "end", t);
			printf("  consent      %s\n", consent_state_name(rec.consent_state));
			const char *ck[] = { "method", "party", "time", "value", "basis", "ssrc", "rtp_seq", "sip_cseq",
					     "sip_method", "withdrawn_time", "pre_consent_audio", "window_s" };
			for (size_t k = 0; k < sizeof(ck) / sizeof(ck[0]); k++) {
				json_field(&o, ck[k], v, sizeof(v));
				if (v[0] && strcmp(v, "null") != 0)
					printf("    %-16s %s\n", ck[k], v);
			}
			for (unsigned s = 0; s < o.meta.n_streams; s++) {
				const struct rec_stream *d = &o.meta.streams[s];
				printf("  stream %u     %s %s, %" PRIu64 " packets kept in %u chunks\n", s,
				       d->party ? "callee" : "caller", d->codec[0] ? d->codec : "-", d->packets, d->chunks);
			}
			printf("  metadata     %.*s\n", (int)o.meta.json_len, o.meta.json);
		}
		close_record(&o);
	}
	if (json && n)
		fputs("]\n", stdout);
	if (rt)
		store_read_end(rt);
	store_close(st);
	kek_wipe(&kek);
	config_free(cfg);
	return status;
}

/* ---------------------------------------------------------------- export */

struct chunk_plain {
	uint8_t *p;
	size_t len;
};

struct exp_ctx {
	const struct opened *o;
	uint32_t next_seq[REC_MAX_STREAMS];
	struct chunk_plain *plains;
	size_t n_plains, cap_plains;
	char err[256];
	bool bad;
};

static int verify_chunk(void *ctx, uint16_t stream, uint32_t seq, const uint8_t *ct, size_t len)
{
	struct exp_ctx *x = ctx;
	const struct opened *o = x->o;
	if (stream >= o->meta.n_streams) {
		snprintf(x->err, sizeof(x->err), "chunk %u/%u: no such stream", stream, seq);
		x->bad = true;
		return 1;
	}
	const struct rec_stream *d = &o->meta.streams[stream];
	if (seq != x->next_seq[stream] || seq >= d->chunks) {
		snprintf(x->err, sizeof(x->err), "chunk %u/%u: out of place (expected %u of %u)", stream, seq,
			 x->next_seq[stream], d->chunks);
		x->bad = true;
		return 1;
	}
	if (len < RV_TAG_LEN || len > STORE_CHUNK_MAX) {
		snprintf(x->err, sizeof(x->err), "chunk %u/%u: bad length %zu", stream, seq, len);
		x->bad = true;
		return 1;
	}
	uint8_t aad[STORE_CHUNK_AAD_LEN], nonce[RV_NONCE_LEN];
	store_chunk_aad(o->rec.record_id, stream, seq, seq + 1 == d->chunks, aad);
	store_chunk_nonce(stream, seq, nonce);
	uint8_t *pl = malloc(len - RV_TAG_LEN + 1);
	if (!pl) {
		snprintf(x->err, sizeof(x->err), "out of memory");
		x->bad = true;
		return 1;
	}
	int rc = aead_open(o->dek.key, nonce, aad, sizeof(aad), ct, len, pl);
	if (rc) {
		snprintf(x->err, sizeof(x->err), "chunk %u/%u does not authenticate (%s): tampered, moved or truncated",
			 stream, seq, crypto_strerror(rc));
		free(pl);
		x->bad = true;
		return 1;
	}
	if (x->n_plains == x->cap_plains) {
		size_t nc = x->cap_plains ? x->cap_plains * 2 : 64;
		struct chunk_plain *np = realloc(x->plains, nc * sizeof(*np));
		if (!np) {
			free(pl);
			x->bad = true;
			return 1;
		}
		x->plains = np;
		x->cap_plains = nc;
	}
	x->plains[x->n_plains++] = (struct chunk_plain){ pl, len - RV_TAG_LEN };
	x->next_seq[stream]++;
	return 0;
}

/* Splits the verified chunks of one stream into packets. */
static int collect(struct exp_ctx *x, unsigned stream, struct export_pkt **out, size_t *n)
{
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	/* plains are in (stream, seq) order: the chunks of `stream` are contiguous */
	size_t first = 0;
	for (unsigned s = 0; s < stream; s++)
		first += x->next_seq[s];
	for (size_t c = first; c < first + x->next_seq[stream]; c++) {
		const uint8_t *p = x->plains[c].p;
		size_t len = x->plains[c].len, off = 0;
		while (off + STORE_ENTRY_HDR <= len) {
			uint64_t ts = 0;
			for (int i = 0; i < 8; i++)
				ts = ts << 8 | p[off + i];
			size_t el = (size_t)p[off + 8] << 8 | p[off + 9];
			uint8_t kind = p[off + 10];
			if (el > len - off - STORE_ENTRY_HDR)
				return -1;
			if (*n == cap) {
				cap = cap ? cap * 2 : 256;
				struct export_pkt *np = realloc(*out, cap * sizeof(*np));
				if (!np)
					return -1;
				*out = np;
			}
			(*out)[(*n)++] = (struct export_pkt){ ts, kind, p + off + STORE_ENTRY_HDR, el };
			off += STORE_ENTRY_HDR + el;
		}
		if (off != len)
			return -1;
	}
	return 0;
}

static int sha256_file(const char *path, char hex[65], uint64_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
	size_t got = b ? fread(b, 1, (size_t)n, f) : 0;
	fclose(f);
	int rc = (!b || got != (size_t)n) ? -1 : sha256_hex(b, got, hex);
	free(b);
	*size = (uint64_t)n;
	return rc;
}

static int export_record(const struct rv_kek *kek, struct store_rtxn *rt, uint64_t id, const char *purpose,
			 bool want_pcap, bool want_wav, const char *dir, FILE *manifest_files, bool *first_file)
{
	struct store_rec rec;
	const uint8_t *sealed;
	size_t len;
	struct opened o;
	if (store_get_record(rt, id, &rec, &sealed, &len) != 0) {
		fprintf(stderr, "rtpvault export: record %" PRIu64 " is missing\n", id);
		return 1;
	}
	if (open_record(kek, &rec, sealed, len, &o) != 0) {
		fprintf(stderr, "rtpvault export: record %" PRIu64 ": metadata does not authenticate: tampered or "
				"another key\n",
			id);
		close_record(&o);
		return 1;
	}
	int status = 0;
	if (!(rec.flags & REC_F_COMPLETE)) {
		fprintf(stderr, "rtpvault export: record %" PRIu64 ": recording incomplete (interrupted); not exported\n",
			id);
		close_record(&o);
		return 1;
	}
	uint64_t chunks = 0;
	for (unsigned s = 0; s < o.meta.n_streams; s++)
		chunks += o.meta.streams[s].chunks;
	if (chunks == 0) {
		fprintf(stderr, "rtpvault export: record %" PRIu64 ": nothing was recorded for this call (consent: %s)\n",
			id, consent_state_name(rec.consent_state));
		close_record(&o);
		return 1;
	}
	struct exp_ctx x;
	memset(&x, 0, sizeof(x));
	x.o = &o;
	int rc = store_each_chunk(rt, id, verify_chunk, &x);
	if (rc == 0 && !x.bad) {
		for (unsigned s = 0; s < o.meta.n_streams; s++) {
			if (x.next_seq[s] != o.meta.streams[s].chunks) {
				snprintf(x.err, sizeof(x.err), "stream %u: %u of %u chunks present (truncated)", s,
					 x.next_seq[s], o.meta.streams[s].chunks);
				x.bad = true;
				break;
			}
		}
	}
	struct export_stream es[REC_MAX_STREAMS];
	struct export_pkt *pk[REC_MAX_STREAMS] = { 0 };
	if (rc || x.bad) {
		fprintf(stderr, "rtpvault export: record %" PRIu64 ": %s; nothing written\n", id,
			x.err[0] ? x.err : store_strerror(rc));
		status = 1;
		goto out;
	}
	for (unsigned s = 0; s < o.meta.n_streams; s++) {
		es[s].desc = &o.meta.streams[s];
		if (collect(&x, s, &pk[s], &es[s].n) < 0) {
			fprintf(stderr, "rtpvault export: record %" PRIu64 ": stream %u: chunk content malformed; "
					"nothing written\n",
				id, s);
			status = 1;
			goto out;
		}
		es[s].pkts = pk[s];
	}
	/* every chunk verified: write to temporary names, then rename */
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "rtpvault export: %s: %s\n", dir, strerror(errno));
		status = 1;
		goto out;
	}
	const char *kinds[2] = { "pcap", "wav" };
	bool want[2] = { want_pcap, want_wav };
	char tmp[2][4096], fin[2][4096], err[256] = "";
	for (int k = 0; k < 2 && status == 0; k++) {
		if (!want[k])
			continue;
		snprintf(tmp[k], sizeof(tmp[k]), "%s/.%" PRIu64 ".%s.tmp", dir, id, kinds[k]);
		snprintf(fin[k], sizeof(fin[k]), "%s/%" PRIu64 ".%s", dir, id, kinds[k]);
		int wr = k == 0 ? export_pcap(tmp[k], es, o.meta.n_streams, err, sizeof(err))
				: export_wav(tmp[k], es, o.meta.n_streams, err, sizeof(err));
		if (wr != 0) {
			fprintf(stderr, "rtpvault export: record %" PRIu64 ": writing %s: %s\n", id, kinds[k], err);
			status = 1;
		} else if (err[0]) {
			fprintf(stderr, "rtpvault export: record %" PRIu64 ": %s: %s\n", id, kinds[k], err);
		}
	}
	for (int k = 0; k < 2; k++) {
		if (!want[k])
			continue;
		if (status) {
			unlink(tmp[k]);
			continue;
		}
		if (rename(tmp[k], fin[k]) != 0) {
			fprintf(stderr, "rtpvault export: %s: %s\n", fin[k], strerror(errno));
			status = 1;
			continue;
		}
		char hex[65];
		uint64_t size = 0;
		sha256_file(fin[k], hex, &size);
		const char *base = strrchr(fin[k], '/');
		fprintf(manifest_files, "%s{\"file\":\"%s\",\"record_id\":%" PRIu64 ",\"format\":\"%s\",\"bytes\":%" PRIu64
					",\"sha256\":\"%s\"}",
			*first_file ? "" : ",", base ? base + 1 : fin[k], id, kinds[k], size, hex);
		*first_file = false;
		printf("wrote %s (sha256 %s)\n", fin[k], hex);
	}
out:
	(void)purpose;
	for (unsigned s = 0; s < o.meta.n_streams; s++)
		free(pk[s]);
	for (size_t i = 0; i < x.n_plains; i++) {
		secure_wipe(x.plains[i].p, x.plains[i].len);
		free(x.plains[i].p);
	}
	free(x.plains);
	close_record(&o);
	return status;
}

int cmd_export(int argc, char **argv)
{
	const char *conf = NULL, *cid = NULL, *purpose = NULL, *format = "all", *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--purpose") == 0 && i + 1 < argc)
			purpose = argv[++i];
		else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			format = argv[++i];
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (!cid && argv[i][0] != '-')
			cid = argv[i];
		else
			return usage_err("export", "-c CONF CALL-ID --purpose TEXT --format pcap|wav|all -o DIR");
	}
	if (!cid || !dir || !purpose || !purpose[0]) {
		if (cid && dir && (!purpose || !purpose[0]))
			fprintf(stderr, "rtpvault export: --purpose is required (why is this recording being exported?)\n");
		return usage_err("export", "-c CONF CALL-ID --purpose TEXT --format pcap|wav|all -o DIR");
	}
	bool want_pcap = strcmp(format, "pcap") == 0 || strcmp(format, "all") == 0;
	bool want_wav = strcmp(format, "wav") == 0 || strcmp(format, "all") == 0;
	if (!want_pcap && !want_wav)
		return usage_err("export", "... --format pcap|wav|all");
	struct rv_config *cfg = cli_load_config(conf);
	if (!cfg)
		return 1;
	struct rv_kek kek;
	struct store *st = NULL;
	int orc = -1;
	if (load_kek(cfg, &kek, "export") < 0 || (orc = open_store(cfg, true, &st, "export")) != 0) {
		if (orc > 0)
			fprintf(stderr, "rtpvault export: no call with Call-ID %s (nothing recorded yet)\n", cid);
		if (orc >= 0)
			kek_wipe(&kek);
		config_free(cfg);
		return 1;
	}
	int status = 0;
	struct store_rtxn *rt = NULL;
	uint64_t ids[64];
	size_t n = 0;
	if (store_read_begin(st, &rt) != 0 || find_call(rt, &kek, cid, ids, 64, &n) != 0 || n == 0) {
		fprintf(stderr, "rtpvault export: no call with Call-ID %s\n", cid);
		status = 1;
		n = 0;
	}
	char *files = NULL;
	size_t files_len = 0;
	FILE *mf = NULL;
	if (n)
		mf = open_memstream(&files, &files_len);
	bool first = true;
	for (size_t i = 0; i < n && mf; i++)
		status |= export_record(&kek, rt, ids[i], purpose, want_pcap, want_wav, dir, mf, &first);
	if (mf)
		fclose(mf);
	if (!first) {
		/* manifest: what was exported, why, the metadata and the file hashes */
		char path[4096], tmp[4096];
		snprintf(path, sizeof(path), "%s/manifest.json", dir);
		snprintf(tmp, sizeof(tmp), "%s/.manifest.json.tmp", dir);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (f) {
			char now[32];
			fmt_us(now, sizeof(now), util_wall_us());
			fputs("{\"call_id\":", f);
			json_raw_escape(f, cid, strlen(cid));
			fputs(",\"purpose\":", f);
			json_raw_escape(f, purpose, strlen(purpose));
			fprintf(f, ",\"exported_at\":\"%s\",\"files\":[%.*s],\"records\":[", now, (int)files_len, files);
			for (size_t i = 0; i < n; i++) {
				struct store_rec rec;
				const uint8_t *sealed;
				size_t len;
				struct opened o;
				if (store_get_record(rt, ids[i], &rec, &sealed, &len) == 0 &&
				    open_record(&kek, &rec, sealed, len, &o) == 0) {
					if (i)
						fputc(',', f);
					print_record_json(f, &o);
				}
				close_record(&o);
			}
			fputs("]}\n", f);
			fclose(f);
			rename(tmp, path);
		}
	}
	free(files);
	if (rt)
		store_read_end(rt);
	store_close(st);
	kek_wipe(&kek);
	config_free(cfg);
	return status;
}
