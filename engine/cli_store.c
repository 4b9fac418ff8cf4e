/*
 * cli_store.c - the recorder's commands: keys, capture, calls, show, export.
 *
 * Readers (calls, show, export) open the store read-only and need the key
 * file: metadata (Call-ID, numbers, consent evidence) is sealed, so nothing
 * can be listed without the key.  export verifies every chunk of a call
 * (tag, position, final marker, count) before it writes any file, writes to
 * temporary names and renames only when everything succeeded.
 *
 * Access control and audit (docs/compliance-access.md): readers open the
 * store read-write because every access appends an audit entry; the caller's
 * roles (engine/access.h, by getuid()) are checked against the profile of
 * each record (its sealed "profile" field) and the decision is committed to
 * the audit log BEFORE anything is printed or written; when that entry cannot
 * be committed nothing is shown or exported.  export needs --purpose from the
 * profile's list and writes a second entry with the sha256 of each file.
 * capture audits start (config sha256), a consent summary and stop, and drops
 * privileges after opening the device, the store and the keys.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "audit.h"
#include "capture.h"
#include "counters.h"
#include "cli.h"
#include "crypto.h"
#include "export.h"
#include "json.h"
#include "keyring.h"
#include "log.h"
#include "pipeline.h"
#include "record.h"
#include "recorder.h"
#include "retention.h"
#include "stats.h"
#include "store.h"
#include "writer.h"

#if RV_HAVE_DPDK
#define dpdk_release dpdk_capture_release
#else
#define dpdk_release NULL
#endif

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

struct store_opts cli_store_opts(const struct rv_config *cfg, bool readonly)
{
	struct store_opts o = {
		.path = cfg->storage_path,
		.map_size = cfg->storage_map_size,
		.map_grow = cfg->storage_map_grow,
		.map_max = cfg->storage_map_max,
		.readonly = readonly,
	};
	return o;
}

static int open_store(const struct rv_config *cfg, bool readonly, struct store **s, const char *cmd)
{
	struct store_opts o = cli_store_opts(cfg, readonly);
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

/* Every KEK a reading command may need: the [storage] key, each profile's
 * key file, and the keys retired by rotation (keyring.h).  One reading
 * command runs per process, so the keyring it loaded is kept here for the
 * record functions below instead of being threaded through every call. */
static const struct keyring *reader_ring;

/* The KEK that unwraps a record's data key. */
static const struct rv_kek *record_kek(const struct rv_kek *main_kek, uint32_t kek_id)
{
	if (kek_id == main_kek->id)
		return main_kek;
	return reader_ring ? keyring_find(reader_ring, kek_id) : NULL;
}

/* A reading command: config, key, the store opened read-write (every access
 * appends to the audit log), and who is calling. */
struct reader {
	struct rv_config *cfg;
	struct rv_kek kek;
	bool have_kek;
	struct store *st;
	struct access_who who;
	const char *cmd;
	struct keyring ring;
};

/* 0 ready; 1 nothing recorded yet (no store: st NULL); -1 error (printed). */
static int reader_open(const char *conf, const char *cmd, struct reader *r)
{
	memset(r, 0, sizeof(*r));
	r->cmd = cmd;
	char err[512];
	if (access_config_trusted(conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "rtpvault %s: %s\n", cmd, err);
		return -1;
	}
	r->cfg = cli_load_config(conf);
	if (!r->cfg)
		return -1;
	access_whoami(r->cfg, &r->who);
	if (load_kek(r->cfg, &r->kek, cmd) < 0)
		return -1;
	r->have_kek = true;
	/* profile keys and retired keys; a profile key that cannot be loaded only
	 * makes that profile's calls unreadable, which open_record reports */
	keyring_add_file(&r->ring, r->cfg->storage_key_file, -1);
	for (size_t i = 0; i < r->cfg->profile_count; i++)
		if (r->cfg->profiles[i].key_file[0] &&
		    keyring_add_file(&r->ring, r->cfg->profiles[i].key_file, (int)i) != 0)
			fprintf(stderr, "rtpvault %s: profile %s: key file %s cannot be loaded: its calls cannot be read\n",
				cmd, r->cfg->profiles[i].name, r->cfg->profiles[i].key_file);
	reader_ring = &r->ring;
	if (access(r->cfg->storage_path, F_OK) != 0)
		return 1;
	int rc = open_store(r->cfg, false, &r->st, cmd);
	if (rc < 0) {
		fprintf(stderr, "rtpvault %s: every access is audited and the store cannot be opened for writing the "
				"audit log: refusing\n",
			cmd);
		return -1;
	}
	return rc;
}

static void reader_close(struct reader *r)
{
	store_close(r->st);
	reader_ring = NULL;
	keyring_wipe(&r->ring);
	if (r->have_kek)
		kek_wipe(&r->kek);
	config_free(r->cfg);
}

/* Appends one audit entry for this command; prints why and returns -1 when
 * it could not be committed (the caller then shows/exports nothing). */
static int reader_audit(struct reader *r, const char *command, int result, const char *purpose, const char *ticket,
			const char *detail, uint64_t *seq)
{
	int rc = access_audit(r->st, &r->kek, &r->who, command, result, purpose, ticket, detail, seq);
	if (rc) {
		fprintf(stderr, "rtpvault %s: the audit log cannot be written (%s%s): refusing, nothing %s\n", r->cmd,
			store_strerror(rc),
			rc == STORE_E_CORRUPT ? ": its newest entry does not verify with this key; run rtpvault audit verify"
					      : "",
			strcmp(r->cmd, "export") == 0 ? "exported" : "shown");
		return -1;
	}
	return 0;
}

static void refused_msg(const struct reader *r, const char *what, const char *profile)
{
	char roles[64];
	access_roles_str(r->who.roles, roles, sizeof(roles));
	fprintf(stderr, "rtpvault %s: refused: user %s (uid %u, roles: %s) may not %s calls of profile %s ([access] and "
			"the profile's %s_roles decide); this refusal is recorded in the audit log\n",
		r->cmd, r->who.user, r->who.uid, roles, what, profile,
		strcmp(what, "export") == 0 ? "export" : "read");
}

/* JSON text into a fixed buffer (for audit details). */
struct jbuf {
	char *p;
	size_t n;
	FILE *f;
};

static void jb_open(struct jbuf *b)
{
	b->p = NULL;
	b->n = 0;
	b->f = open_memstream(&b->p, &b->n);
}

static const char *jb_close(struct jbuf *b)
{
	if (b->f)
		fclose(b->f);
	b->f = NULL;
	return b->p ? b->p : "{}";
}

static void jb_str(struct jbuf *b, const char *s, size_t max)
{
	size_t n = strlen(s);
	if (b->f)
		json_raw_escape(b->f, s, n < max ? n : max);
}

/* ---------------------------------------------------------------- keys */

int cmd_keys(int argc, char **argv)
{
	const char *conf = NULL, *verb = NULL;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "rotate") == 0)
			return cmd_keys_rotate(argc, argv);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (!verb)
			verb = argv[i];
		else
			return usage_err("keys", "init -c CONF");
	}
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

/* sha256 of the config file text ("" for built-in defaults). */
static void config_sha(const char *conf, char hex[65])
{
	hex[0] = '\0';
	if (!conf)
		return;
	FILE *f = fopen(conf, "rb");
	if (!f)
		return;
	char *b = malloc(RV_CONFIG_FILE_MAX + 1);
	size_t n = b ? fread(b, 1, RV_CONFIG_FILE_MAX + 1, f) : 0;
	fclose(f);
	if (b && sha256_hex(b, n, hex) != 0)
		hex[0] = '\0';
	free(b);
}

int cmd_capture(int argc, char **argv)
{
	const char *conf = NULL, *file = NULL, *iface = NULL;
	bool progress = isatty(2), dpdk = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--dpdk") == 0)
			dpdk = true;
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
	if (dpdk)
		cfg->capture_backend = RV_CAPTURE_DPDK;
	if (cfg->capture_backend == RV_CAPTURE_DPDK) {
		char derr[256];
		if (!capture_find("dpdk", derr, sizeof(derr))) { /* a build without DPDK says so first */
			fprintf(stderr, "rtpvault capture: %s\n", derr);
			config_free(cfg);
			return 1;
		}
		if (file || iface) {
			fprintf(stderr, "rtpvault capture: the DPDK backend takes its devices from [dpdk] eal and ports, "
					"not -r/-i (replay a file with --vdev net_pcap0,rx_pcap=FILE; docs/dpdk.md)\n");
			config_free(cfg);
			return 2;
		}
		iface = "dpdk"; /* the devices come from [dpdk] eal / ports */
	}
	if (!file && !iface && cfg->capture_interface[0])
		iface = cfg->capture_interface;
	if (!file == !iface) {
		config_free(cfg);
		return usage_err("capture", "-c CONF -r FILE | -i IFACE");
	}
	/* least privilege: live capture as root needs somewhere to drop to
	 * (offline file mode may run as root: it reads a file, nothing else) */
	bool live = iface != NULL;
	if (live && geteuid() == 0 && !cfg->service_user[0] && !cfg->service_allow_root) {
		fprintf(stderr, "rtpvault capture: refusing to run live capture as root: set [service] user = AN-UNPRIVILEGED-"
				"USER (capture drops to it after opening the interface, the store and the keys), or [service] "
				"allow_root = true (nothing was written)\n");
		config_free(cfg);
		return 1;
	}
	bool drop = cfg->service_user[0] || (live && geteuid() != 0) || (live && !cfg->service_allow_root);
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
	struct access_who who;
	access_whoami(cfg, &who);
	char err[512] = "";
	char chash[65];
	config_sha(conf, chash);
	{
		struct jbuf jb;
		jb_open(&jb);
		if (jb.f) {
			fprintf(jb.f, "{\"pid\":%d,\"source\":\"%s\",\"name\":", (int)getpid(), live ? "interface" : "file");
			jb_str(&jb, live ? iface : file, 200);
			fputs(",\"config\":", jb.f);
			jb_str(&jb, config_path(cfg), 300);
			fprintf(jb.f, ",\"config_sha256\":\"%s\",\"service_user\":", chash);
			jb_str(&jb, cfg->service_user, 60);
			fputc('}', jb.f);
		}
		int arc = access_audit(st, &kek, &who, "capture-start", AUDIT_INFO, NULL, NULL, jb_close(&jb), NULL);
		free(jb.p);
		if (arc) {
			fprintf(stderr, "rtpvault capture: the audit log cannot be written (%s): refusing to start\n",
				store_strerror(arc));
			store_close(st);
			kek_wipe(&kek);
			config_free(cfg);
			return 1;
		}
	}
	/* the periodic retention sweep of a live engine (wall-clock deadlines);
	 * it loads the profile keys, so it starts while still privileged */
	bool sweeping = live && retention_start(cfg, st) == 0;
	/* privileged mode: open the device now, then empty the bounding set
	 * before any thread exists (threads inherit it) */
	const struct capture_ops *ops = NULL;
	struct capture *cap = NULL;
	int status = 1;
	if (drop) {
		ops = capture_find(config_enum_word("capture", "backend", cfg->capture_backend), err, sizeof(err));
		if (!ops || ops->open(&cap, cfg, live ? iface : file, live, err, sizeof(err)) < 0) {
			fprintf(stderr, "rtpvault capture: %s\n", err);
			cap = NULL;
			goto early_out;
		}
		if (access_priv_prepare(err, sizeof(err)) != 0) {
			fprintf(stderr, "rtpvault capture: dropping privileges: %s\n", err);
			goto early_out;
		}
	}
	struct writer *w = writer_start(st, cfg, err, sizeof(err));
	if (w)
		writer_set_audit(w, &kek, who.uid, who.user); /* consent decisions, one entry per call */
	/* DPDK with several workers: a pipeline, one recorder per worker */
	unsigned nrec = 1;
	if (strcmp(config_enum_word("capture", "backend", cfg->capture_backend), "dpdk") == 0 && cfg->dpdk_workers > 1)
		nrec = (unsigned)cfg->dpdk_workers;
	struct recorder *recs[PIPELINE_MAX_WORKERS] = { 0 };
	bool rec_ok = w != NULL;
	for (unsigned i = 0; i < nrec && rec_ok; i++)
		rec_ok = (recs[i] = recorder_new(cfg, &kek, w, err, sizeof(err))) != NULL;
	struct recorder *rec = rec_ok ? recs[0] : NULL;
	struct engine *e = NULL;
	struct pipeline *pl = NULL;
	if (rec_ok && nrec > 1)
		pl = pipeline_new(cfg, nrec, recorder_sink(), (void *const *)recs, dpdk_release, false, err, sizeof(err));
	else if (rec_ok)
		e = engine_new(cfg, recorder_sink(), rec);
	struct rv_counters ecnt;
	bool have_ecnt = false;
	if (!e && !pl) {
		fprintf(stderr, "rtpvault capture: %s\n", err[0] ? err : "out of memory");
		rec = NULL;
	} else if (drop && access_priv_drop(cfg->service_user, err, sizeof(err)) != 0) {
		fprintf(stderr, "rtpvault capture: dropping privileges: %s; stopping\n", err);
		engine_free(e);
		pipeline_free(pl);
		e = NULL;
		pl = NULL;
	} else {
		if (drop) {
			status = cli_capture_loop(e, pl, cfg, ops, cap, live, progress, "capture");
			ops->close(cap);
			cap = NULL;
		} else {
			status = cli_run_capture(e, pl, cfg, file ? file : iface, live, progress, "capture");
		}
		if (pl)
			pipeline_counters(pl, &ecnt);
		else
			engine_counters(e, &ecnt);
		have_ecnt = true;
		engine_free(e); /* calls were ended and sealed by engine_finish */
		pipeline_free(pl);
	}
	if (w)
		writer_sync(w);
	struct writer_stats ws = { 0 };
	if (w)
		writer_stats(w, &ws);
	writer_stop(w);
	if (rec) {
		uint64_t rc[RC__COUNT] = { 0 }, states[CONSENT__COUNT] = { 0 };
		for (unsigned k = 0; k < nrec && recs[k]; k++) {
			uint64_t r1[RC__COUNT], s1[CONSENT__COUNT];
			recorder_counters(recs[k], r1);
			recorder_state_counts(recs[k], s1);
			for (int i = 0; i < RC__COUNT; i++)
				rc[i] += r1[i];
			for (int i = 0; i < CONSENT__COUNT; i++)
				states[i] += s1[i];
		}
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
		/* the consent decisions of this run, one summary entry */
		struct jbuf jb;
		jb_open(&jb);
		if (jb.f) {
			fprintf(jb.f, "{\"pid\":%d,\"calls\":%" PRIu64 ",\"consent\":{", (int)getpid(), rc[RC_calls]);
			for (int i = 1; i < CONSENT__COUNT; i++)
				fprintf(jb.f, "%s\"%s\":%" PRIu64, i > 1 ? "," : "", consent_state_name(i), states[i]);
			fprintf(jb.f, "},\"packets_kept\":%" PRIu64 ",\"bytes_stored\":%" PRIu64 "}", rc[RC_packets_kept], ws.bytes);
		}
		const char *d = jb_close(&jb);
		if (access_audit(st, &kek, &who, "consent", AUDIT_INFO, NULL, NULL, d, NULL) != 0)
			fprintf(stderr, "rtpvault capture: could not write the consent summary to the audit log\n");
		free(jb.p);
	}
	for (unsigned k = 0; k < nrec; k++)
		recorder_free(recs[k]);
early_out:
	if (cap)
		ops->close(cap);
	{
		char d[128];
		snprintf(d, sizeof(d), "{\"pid\":%d,\"exit\":%d,\"uid_at_stop\":%u}", (int)getpid(), status, (unsigned)getuid());
		if (access_audit(st, &kek, &who, "capture-stop", status ? AUDIT_FAILED : AUDIT_INFO, NULL, NULL, d, NULL) != 0)
			fprintf(stderr, "rtpvault capture: could not write capture-stop to the audit log\n");
	}
	if (sweeping)
		retention_stop();
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
	kek = record_kek(kek, rec->kek_id);
	if (!kek)
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

struct list_item {
	uint64_t invite_us, id;
	int decision; /* 0 filtered out, 1 listed, 2 withheld (no read right) */
};

struct list_ctx {
	const struct rv_kek *kek;
	const struct reader *rd;
	bool json;
	uint64_t since, until;
	bool has_number;
	uint8_t number_hmac[RV_HMAC_LEN];
	int consent; /* -1 any */
	unsigned n;
	unsigned failed;
	struct list_item *items;
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
	l->items[l->n_items].decision = 0;
	l->n_items++;
	return 0;
}

static int cmp_item(const void *a, const void *b)
{
	const struct list_item *x = a, *y = b;
	if (x->invite_us != y->invite_us)
		return x->invite_us < y->invite_us ? -1 : 1;
	return x->id < y->id ? -1 : (x->id > y->id);
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

/* The profile index of an opened record ("default" when it names none). */
static int record_profile(const struct rv_config *cfg, const struct opened *o, char *name, size_t n)
{
	json_field(o, "profile", name, n);
	if (!name[0])
		snprintf(name, n, "default");
	return access_profile_index(cfg, name);
}

static bool list_match(const struct list_ctx *l, const struct store_rec *rec)
{
	if (l->since && rec->invite_us < l->since)
		return false;
	if (l->until && rec->invite_us > l->until)
		return false;
	if (l->consent >= 0 && rec->consent_state != l->consent)
		return false;
	if (l->has_number && memcmp(rec->caller_hmac, l->number_hmac, RV_HMAC_LEN) != 0 &&
	    memcmp(rec->callee_hmac, l->number_hmac, RV_HMAC_LEN) != 0)
		return false;
	return true;
}

/* Pass 1: may the caller read this record?  Nothing is printed here. */
static void list_decide(struct list_ctx *l, struct list_item *it, const struct store_rec *rec, const uint8_t *sealed,
			size_t len, char *withheld_profiles, size_t wpn)
{
	it->decision = 0;
	if (!list_match(l, rec))
		return;
	struct opened o;
	if (open_record(l->kek, rec, sealed, len, &o) != 0) {
		close_record(&o);
		it->decision = 1; /* reported as not authenticating in pass 2 */
		return;
	}
	char pname[RV_CONFIG_PROFILE_NAME_MAX + 1];
	int pi = record_profile(l->rd->cfg, &o, pname, sizeof(pname));
	close_record(&o);
	if (access_check_read(l->rd->cfg, pi, &l->rd->who)) {
		it->decision = 1;
		return;
	}
	it->decision = 2;
	if (!strstr(withheld_profiles, pname) && strlen(withheld_profiles) + strlen(pname) + 3 < wpn) {
		if (withheld_profiles[0])
			strcat(withheld_profiles, ", ");
		strcat(withheld_profiles, pname);
	}
}

static int list_one(void *ctx, const struct store_rec *rec, const uint8_t *sealed, size_t len)
{
	struct list_ctx *l = ctx;
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
	struct reader rd;
	int orc = reader_open(conf, "calls", &rd);
	if (orc != 0) {
		if (orc > 0)
			fputs(l.json ? "[]\n" : "no calls recorded yet\n", stdout);
		reader_close(&rd);
		return orc > 0 ? 0 : 1;
	}
	l.kek = &rd.kek;
	l.rd = &rd;
	if (number) {
		l.has_number = true;
		index_hmac(&rd.kek, number, strlen(number), l.number_hmac);
	}
	struct store_rtxn *rt = NULL;
	int rc = store_read_begin(rd.st, &rt);
	int status = 0;
	if (rc == 0) {
		rc = store_each_record(rt, collect_one, &l);
		if (l.n_items)
			qsort(l.items, l.n_items, sizeof(*l.items), cmp_item);
		/* pass 1: decide, audit (committed), then pass 2: print */
		char withheld_profiles[256] = "";
		unsigned listed = 0, withheld = 0;
		for (size_t i = 0; i < l.n_items && rc == 0; i++) {
			struct store_rec rec;
			const uint8_t *sealed;
			size_t len;
			if (store_get_record(rt, l.items[i].id, &rec, &sealed, &len) == 0)
				list_decide(&l, &l.items[i], &rec, sealed, len, withheld_profiles, sizeof(withheld_profiles));
			listed += l.items[i].decision == 1;
			withheld += l.items[i].decision == 2;
		}
		struct jbuf jb;
		jb_open(&jb);
		if (jb.f) {
			fprintf(jb.f, "{\"listed\":%u,\"withheld\":%u,\"withheld_profiles\":", listed, withheld);
			jb_str(&jb, withheld_profiles, 200);
			fprintf(jb.f, ",\"filter\":{\"since\":%" PRIu64 ",\"until\":%" PRIu64 ",\"number\":%s,\"consent\":\"%s\"}}",
				l.since / 1000000u, l.until / 1000000u, number ? "true" : "false",
				l.consent >= 0 ? consent_state_name(l.consent) : "any");
		}
		const char *detail = jb_close(&jb);
		bool refused_all = withheld && !listed;
		if (reader_audit(&rd, "calls", refused_all ? AUDIT_REFUSED : AUDIT_ALLOWED, NULL, NULL, detail, NULL) != 0 ||
		    (withheld && !refused_all &&
		     reader_audit(&rd, "calls", AUDIT_REFUSED, NULL, NULL, detail, NULL) != 0)) {
			status = 1;
		} else if (refused_all) {
			refused_msg(&rd, "list", withheld_profiles);
			status = 1;
		} else {
			if (l.json)
				fputc('[', stdout);
			else
				printf("%6s  %-20s  %-10s %-10s %-10s %-9s %7s  %-12s %-12s %s\n", "record", "invite (UTC)",
				       "consent", "method", "recording", "kept", "packets", "caller", "callee", "call-id");
			for (size_t i = 0; i < l.n_items; i++) {
				struct store_rec rec;
				const uint8_t *sealed;
				size_t len;
				if (l.items[i].decision == 1 && store_get_record(rt, l.items[i].id, &rec, &sealed, &len) == 0)
					list_one(&l, &rec, sealed, len);
			}
			if (l.json)
				fputs("]\n", stdout);
			if (withheld) {
				char roles[64];
				access_roles_str(rd.who.roles, roles, sizeof(roles));
				fprintf(stderr, "rtpvault calls: %u call%s withheld: user %s (roles: %s) may not read "
						"profile %s (recorded in the audit log)\n",
					withheld, withheld == 1 ? "" : "s", rd.who.user, roles, withheld_profiles);
			}
		}
		free((void *)(jb.p));
		free(l.items);
		store_read_end(rt);
	}
	if (rc)
		fprintf(stderr, "rtpvault calls: %s\n", store_strerror(rc));
	reader_close(&rd);
	return rc || l.failed || status ? 1 : 0;
}

/* Record ids of a Call-ID. */
static int find_call(struct store_rtxn *rt, const struct rv_kek *kek, const char *call_id, uint64_t *ids, size_t max,
		     size_t *n)
{
	uint8_t hm[RV_HMAC_LEN];
	index_hmac(kek, call_id, strlen(call_id), hm);
	return store_find_callid(rt, hm, ids, max, n);
}

/* Checks every record of a Call-ID against a right; audits the decision.
 * Returns 0 allowed (entry committed, *seq set), 1 refused/failed (message
 * printed, refusal committed). */
static int check_records(struct reader *rd, struct store_rtxn *rt, const char *cid, const uint64_t *ids, size_t n,
			 bool export_right, const char *purpose, const char *ticket, const char *extra, uint64_t *seq)
{
	const char *cmd = rd->cmd;
	char denied_profile[RV_CONFIG_PROFILE_NAME_MAX + 1] = "";
	char bad_purpose_profile[RV_CONFIG_PROFILE_NAME_MAX + 1] = "";
	int bad_purpose_pi = 0;
	struct jbuf jb;
	jb_open(&jb);
	if (jb.f) {
		fputs("{\"call_id\":", jb.f);
		jb_str(&jb, cid, 200);
		fputs(",\"records\":[", jb.f);
	}
	for (size_t i = 0; i < n; i++) {
		struct store_rec rec;
		const uint8_t *sealed;
		size_t len;
		struct opened o;
		char pname[RV_CONFIG_PROFILE_NAME_MAX + 1] = "default";
		int pi = ACCESS_PROFILE_UNKNOWN;
		memset(&o, 0, sizeof(o));
		if (store_get_record(rt, ids[i], &rec, &sealed, &len) == 0 && open_record(&rd->kek, &rec, sealed, len, &o) == 0)
			pi = record_profile(rd->cfg, &o, pname, sizeof(pname));
		else
			snprintf(pname, sizeof(pname), "(unreadable)");
		close_record(&o);
		if (jb.f) {
			fprintf(jb.f, "%s{\"record_id\":%" PRIu64 ",\"profile\":", i ? "," : "", ids[i]);
			jb_str(&jb, pname, 64);
			fputc('}', jb.f);
		}
		bool ok = export_right ? access_check_export(rd->cfg, pi, &rd->who) : access_check_read(rd->cfg, pi, &rd->who);
		if (!ok && !denied_profile[0])
			snprintf(denied_profile, sizeof(denied_profile), "%s", pname);
		if (ok && export_right && !access_purpose_allowed(rd->cfg, pi, purpose) && !bad_purpose_profile[0]) {
			snprintf(bad_purpose_profile, sizeof(bad_purpose_profile), "%s", pname);
			bad_purpose_pi = pi;
		}
	}
	if (jb.f) {
		fputc(']', jb.f);
		if (denied_profile[0])
			fputs(",\"reason\":\"role\"", jb.f);
		else if (bad_purpose_profile[0])
			fputs(",\"reason\":\"purpose not allowed\"", jb.f);
		if (extra)
			fprintf(jb.f, ",%s", extra);
		fputc('}', jb.f);
	}
	const char *detail = jb_close(&jb);
	int result = denied_profile[0] || bad_purpose_profile[0] ? AUDIT_REFUSED : AUDIT_ALLOWED;
	int rc = reader_audit(rd, cmd, result, purpose, ticket, detail, seq);
	free(jb.p);
	if (rc)
		return 1;
	if (denied_profile[0]) {
		refused_msg(rd, export_right ? "export" : "read", denied_profile);
		return 1;
	}
	if (bad_purpose_profile[0]) {
		char allowed[512];
		access_purposes_str(rd->cfg, bad_purpose_pi, allowed, sizeof(allowed));
		fprintf(stderr, "rtpvault %s: refused: purpose \"%s\" is not allowed for profile %s (allowed: %s); this "
				"refusal is recorded in the audit log\n",
			cmd, purpose, bad_purpose_profile, allowed);
		return 1;
	}
	return 0;
}

static void audit_not_found(struct reader *rd, const char *cid, const char *purpose, const char *ticket)
{
	struct jbuf jb;
	jb_open(&jb);
	if (jb.f) {
		fputs("{\"call_id\":", jb.f);
		jb_str(&jb, cid, 200);
		fputs(",\"reason\":\"no such call\"}", jb.f);
	}
	reader_audit(rd, rd->cmd, AUDIT_FAILED, purpose, ticket, jb_close(&jb), NULL);
	free(jb.p);
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
	struct reader rd;
	int orc = reader_open(conf, "show", &rd);
	if (orc != 0) {
		if (orc > 0)
			fprintf(stderr, "rtpvault show: no call with Call-ID %s (nothing recorded yet)\n", cid);
		reader_close(&rd);
		return 1;
	}
	struct rv_kek *kek = &rd.kek;
	struct store_rtxn *rt = NULL;
	uint64_t ids[64];
	size_t n = 0;
	int status = 0;
	if (store_read_begin(rd.st, &rt) != 0 || find_call(rt, kek, cid, ids, 64, &n) != 0 || n == 0) {
		fprintf(stderr, "rtpvault show: no call with Call-ID %s\n", cid);
		audit_not_found(&rd, cid, NULL, NULL);
		status = 1;
		n = 0;
	} else if (check_records(&rd, rt, cid, ids, n, false, NULL, NULL, NULL, NULL) != 0) {
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
		    open_record(kek, &rec, sealed, len, &o) != 0) {
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
	reader_close(&rd);
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

struct outfiles {
	struct {
		uint64_t record_id;
		char name[64];
		char sha[65];
	} f[2 * 64 + 1];
	size_t n;
};

static int export_record(const struct rv_kek *kek, struct store_rtxn *rt, uint64_t id, const char *purpose,
			 bool want_pcap, bool want_wav, const char *dir, FILE *manifest_files, bool *first_file,
			 struct outfiles *of)
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
		if (of->n < sizeof(of->f) / sizeof(of->f[0])) {
			of->f[of->n].record_id = id;
			snprintf(of->f[of->n].name, sizeof(of->f[of->n].name), "%s", base ? base + 1 : fin[k]);
			memcpy(of->f[of->n].sha, hex, 65);
			of->n++;
		}
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
	const char *conf = NULL, *cid = NULL, *purpose = NULL, *format = "all", *dir = NULL, *ticket = NULL;
	const char *u = "-c CONF CALL-ID --purpose TEXT [--ticket T] --format pcap|wav|all|bundle -o DIR";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--purpose") == 0 && i + 1 < argc)
			purpose = argv[++i];
		else if (strcmp(argv[i], "--ticket") == 0 && i + 1 < argc)
			ticket = argv[++i];
		else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			format = argv[++i];
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (!cid && argv[i][0] != '-')
			cid = argv[i];
		else
			return usage_err("export", u);
	}
	if (!cid || !dir || !purpose || !purpose[0]) {
		if (cid && dir && (!purpose || !purpose[0]))
			fprintf(stderr, "rtpvault export: --purpose is required (why is this recording being exported?)\n");
		return usage_err("export", u);
	}
	bool bundle = strcmp(format, "bundle") == 0;
	bool want_pcap = bundle || strcmp(format, "pcap") == 0 || strcmp(format, "all") == 0;
	bool want_wav = bundle || strcmp(format, "wav") == 0 || strcmp(format, "all") == 0;
	if (!want_pcap && !want_wav)
		return usage_err("export", u);
	struct reader rd;
	int orc = reader_open(conf, "export", &rd);
	if (orc != 0) {
		if (orc > 0)
			fprintf(stderr, "rtpvault export: no call with Call-ID %s (nothing recorded yet)\n", cid);
		reader_close(&rd);
		return 1;
	}
	struct rv_kek *kek = &rd.kek;
	int status = 0;
	struct store_rtxn *rt = NULL;
	uint64_t ids[64];
	size_t n = 0;
	uint64_t aseq = 0;
	char extra[64];
	snprintf(extra, sizeof(extra), "\"format\":\"%s\"", bundle ? "bundle" : format);
	if (store_read_begin(rd.st, &rt) != 0 || find_call(rt, kek, cid, ids, 64, &n) != 0 || n == 0) {
		fprintf(stderr, "rtpvault export: no call with Call-ID %s\n", cid);
		audit_not_found(&rd, cid, purpose, ticket);
		status = 1;
		n = 0;
	} else if (check_records(&rd, rt, cid, ids, n, true, purpose, ticket, extra, &aseq) != 0) {
		/* refused, or the audit entry could not be committed: nothing is written */
		status = 1;
		n = 0;
	}
	/* from here on the "allowed" entry (aseq) is committed */
	char *files = NULL;
	size_t files_len = 0;
	FILE *mf = NULL;
	struct outfiles *of = calloc(1, sizeof(*of));
	if (n && of)
		mf = open_memstream(&files, &files_len);
	bool first = true;
	for (size_t i = 0; i < n && mf; i++)
		status |= export_record(kek, rt, ids[i], purpose, want_pcap, want_wav, dir, mf, &first, of);
	if (mf)
		fclose(mf);
	char manifest_sha[65] = "";
	if (!first) {
		/* manifest: what was exported, why, the metadata and the file hashes */
		char path[4096], tmp[4096];
		snprintf(path, sizeof(path), "%s/manifest.json", dir);
		snprintf(tmp, sizeof(tmp), "%s/.manifest.json.tmp", dir);
		char *mbuf = NULL;
		size_t mlen = 0;
		FILE *f = open_memstream(&mbuf, &mlen);
		if (f) {
			char now[32];
			fmt_us(now, sizeof(now), util_wall_us());
			fputs("{\"call_id\":", f);
			json_raw_escape(f, cid, strlen(cid));
			fputs(",\"purpose\":", f);
			json_raw_escape(f, purpose, strlen(purpose));
			fputs(",\"ticket\":", f);
			if (ticket)
				json_raw_escape(f, ticket, strlen(ticket));
			else
				fputs("null", f);
			fprintf(f, ",\"format\":\"%s\",\"exported_by\":", bundle ? "bundle" : format);
			json_raw_escape(f, rd.who.user, strlen(rd.who.user));
			fprintf(f, ",\"audit_entry\":%" PRIu64 ",\"key_id\":\"%08x\",\"exported_at\":\"%s\",\"files\":[%.*s],"
				   "\"records\":[",
				aseq, kek->id, now, (int)files_len, files);
			for (int pass = 0; pass < 2; pass++) {
				/* pass 0: the records' metadata (consent evidence included);
				 * pass 1: "retention": profile and deadline of each record */
				if (pass == 1)
					fputs("],\"retention\":[", f);
				bool firstrec = true;
				for (size_t i = 0; i < n; i++) {
					struct store_rec rec;
					const uint8_t *sealed;
					size_t len;
					struct opened o;
					memset(&o, 0, sizeof(o));
					if (store_get_record(rt, ids[i], &rec, &sealed, &len) == 0 &&
					    open_record(kek, &rec, sealed, len, &o) == 0) {
						if (!firstrec)
							fputc(',', f);
						firstrec = false;
						if (pass == 0) {
							print_record_json(f, &o);
						} else {
							char pname[RV_CONFIG_PROFILE_NAME_MAX + 1], dl[32];
							record_profile(rd.cfg, &o, pname, sizeof(pname));
							fmt_us(dl, sizeof(dl), rec.deadline_us);
							fprintf(f, "{\"record_id\":%" PRIu64 ",\"profile\":", ids[i]);
							json_raw_escape(f, pname, strlen(pname));
							fprintf(f, ",\"deadline\":\"%s\",\"deadline_us\":%" PRIu64 "}",
								rec.deadline_us ? dl : "none", rec.deadline_us);
						}
					}
					close_record(&o);
				}
			}
			fputs("]}\n", f);
			fclose(f);
		}
		int fd = mbuf ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600) : -1;
		bool ok = fd >= 0 && write(fd, mbuf, mlen) == (ssize_t)mlen;
		if (fd >= 0 && close(fd) != 0)
			ok = false;
		if (ok && bundle) {
			/* the manifest's HMAC (keyed from the KEK's audit key), for verify-bundle */
			char hpath[4096], htmp[4096], mac[65];
			snprintf(hpath, sizeof(hpath), "%s/manifest.hmac", dir);
			snprintf(htmp, sizeof(htmp), "%s/.manifest.hmac.tmp", dir);
			int hfd = access_bundle_mac(kek, mbuf, mlen, mac) == 0
					  ? open(htmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)
					  : -1;
			FILE *h = hfd >= 0 ? fdopen(hfd, "w") : NULL;
			if (!h && hfd >= 0)
				close(hfd);
			ok = h && fprintf(h, "HMAC-SHA256 key_id=%08x %s\n", kek->id, mac) > 0;
			if (h && fclose(h) != 0)
				ok = false;
			ok = ok && rename(htmp, hpath) == 0;
		}
		if (ok && rename(tmp, path) == 0) {
			sha256_hex(mbuf, mlen, manifest_sha);
		} else {
			fprintf(stderr, "rtpvault export: %s: cannot write the manifest\n", path);
			unlink(tmp);
			status = 1;
		}
		free(mbuf);
	}
	if (aseq) {
		/* second entry: what was written, with the sha256 of each file */
		struct jbuf jb;
		size_t shown = 0;
		jb_open(&jb);
		if (jb.f) {
			fprintf(jb.f, "{\"of\":%" PRIu64 ",\"call_id\":", aseq);
			jb_str(&jb, cid, 120);
			fputs(",\"files\":[", jb.f);
			for (size_t i = 0; of && i < of->n && ftell(jb.f) < 850; i++, shown++)
				fprintf(jb.f, "%s{\"file\":\"%s\",\"sha256\":\"%s\"}", i ? "," : "", of->f[i].name, of->f[i].sha);
			fputc(']', jb.f);
			if (manifest_sha[0])
				fprintf(jb.f, ",\"manifest_sha256\":\"%s\"", manifest_sha);
			if (of && shown < of->n)
				fprintf(jb.f, ",\"more_files\":%zu", of->n - shown);
			fputc('}', jb.f);
		}
		if (reader_audit(&rd, "export-files", status ? AUDIT_FAILED : AUDIT_ALLOWED, purpose, ticket, jb_close(&jb),
				 NULL) != 0)
			status = 1;
		free(jb.p);
		/* files beyond what fits one entry: more entries of the same shape */
		for (size_t i = shown; of && i < of->n;) {
			jb_open(&jb);
			if (!jb.f)
				break;
			fprintf(jb.f, "{\"of\":%" PRIu64 ",\"files\":[", aseq);
			for (size_t start = i; i < of->n && ftell(jb.f) < 850; i++)
				fprintf(jb.f, "%s{\"file\":\"%s\",\"sha256\":\"%s\"}", i > start ? "," : "", of->f[i].name,
					of->f[i].sha);
			fputs("]}", jb.f);
			if (reader_audit(&rd, "export-files", status ? AUDIT_FAILED : AUDIT_ALLOWED, purpose, ticket,
					 jb_close(&jb), NULL) != 0)
				status = 1;
			free(jb.p);
		}
	}
	free(of);
	free(files);
	if (rt)
		store_read_end(rt);
	reader_close(&rd);
	return status;
}
