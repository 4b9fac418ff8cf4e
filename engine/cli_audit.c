/*
 * cli_audit.c - `rtpvault audit list|verify|anchor` and `rtpvault verify-bundle`.
 *
 *   audit -c CONF list [--call CALL-ID] [--since T] [--json]
 *   audit -c CONF verify [--anchor SEQ:HEXMAC]
 *   audit -c CONF anchor
 *   verify-bundle DIR (-c CONF | --key KEYFILE)
 *
 * The audit commands need the admin, compliance or auditor role (a refusal is
 * itself audited when the log can be written).  `list` and `anchor` append an
 * entry of their own when the store is writable (best effort: an auditor
 * must be able to read a log whose chain is broken, or a read-only copy);
 * `verify` appends nothing, so verifying never changes what is verified.
 * The chain format and what verify detects are in storage/audit.c and
 * docs/compliance-access.md.
 *
 * verify-bundle checks, offline, an `export --format bundle` directory:
 * manifest.hmac = HMAC-SHA256 keyed from the KEK's audit key over
 * manifest.json (access_bundle_mac), then the sha256 of every file the
 * manifest lists.  Exit 0 only when all of it verifies.
 *
 * Does NOT: repair a broken chain, or verify bundles without the key (an
 * HMAC, not a public-key signature: the verifier holds the KEK).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "audit.h"
#include "cli.h"
#include "crypto.h"
#include "json.h"
#include "store.h"

static const char *result_name(int r)
{
	switch (r) {
	case AUDIT_ALLOWED:
		return "allowed";
	case AUDIT_REFUSED:
		return "refused";
	case AUDIT_FAILED:
		return "failed";
	case AUDIT_INFO:
		return "info";
	}
	return "?";
}

static void fmt_time(char *b, size_t n, uint64_t us)
{
	time_t t = (time_t)(us / 1000000u);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t k = strftime(b, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(b + k, n - k, ".%06uZ", (unsigned)(us % 1000000u));
}

struct list_ctx {
	bool json;
	uint64_t since;
	char *call_pat; /* "\"call_id\":<escaped>" or NULL */
	unsigned n;
};

static int list_one(void *ctx, const struct audit_entry *e)
{
	struct list_ctx *l = ctx;
	if (l->since && e->time_us < l->since)
		return 0;
	if (l->call_pat && !strstr(e->detail, l->call_pat))
		return 0;
	char t[48];
	fmt_time(t, sizeof(t), e->time_us);
	if (l->json) {
		printf("%s{\"seq\":%" PRIu64 ",\"time\":\"%s\",\"time_us\":%" PRIu64 ",\"uid\":%u,\"user\":", l->n ? "," : "",
		       e->seq, t, e->time_us, e->uid);
		json_raw_escape(stdout, e->user, strlen(e->user));
		fputs(",\"command\":", stdout);
		json_raw_escape(stdout, e->command, strlen(e->command));
		printf(",\"result\":\"%s\",\"purpose\":", result_name(e->result));
		json_raw_escape(stdout, e->purpose, strlen(e->purpose));
		fputs(",\"ticket\":", stdout);
		json_raw_escape(stdout, e->ticket, strlen(e->ticket));
		fputs(",\"detail\":", stdout);
		json_raw_escape(stdout, e->detail, strlen(e->detail));
		fputs(",\"mac\":\"", stdout);
		for (int i = 0; i < 32; i++)
			printf("%02x", e->mac[i]);
		fputs("\"}\n", stdout);
	} else {
		printf("%6" PRIu64 "  %s  %-12s %6u  %-14s %-8s purpose=%s%s%s  %s\n", e->seq, t, e->user, e->uid,
		       e->command, result_name(e->result), e->purpose[0] ? e->purpose : "-",
		       e->ticket[0] ? " ticket=" : "", e->ticket, e->detail);
	}
	l->n++;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: rtpvault audit -c CONF list [--call CALL-ID] [--since T] [--json]\n"
			"       rtpvault audit -c CONF verify [--anchor SEQ:HEXMAC]\n"
			"       rtpvault audit -c CONF anchor\n");
	return 2;
}

int cmd_audit(int argc, char **argv)
{
	const char *conf = NULL, *verb = NULL, *call = NULL, *anchor = NULL;
	struct list_ctx l = { 0 };
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			l.json = true;
		else if (strcmp(argv[i], "--call") == 0 && i + 1 < argc)
			call = argv[++i];
		else if (strcmp(argv[i], "--anchor") == 0 && i + 1 < argc)
			anchor = argv[++i];
		else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			if (cli_parse_time(argv[++i], &l.since) < 0) {
				fprintf(stderr, "rtpvault audit: %s: not a time\n", argv[i]);
				return 2;
			}
		} else if (!verb && argv[i][0] != '-')
			verb = argv[i];
		else
			return usage();
	}
	if (!verb || (strcmp(verb, "list") && strcmp(verb, "verify") && strcmp(verb, "anchor")))
		return usage();
	char terr[512];
	if (access_config_trusted(conf, terr, sizeof(terr)) != 0) {
		fprintf(stderr, "rtpvault audit: %s\n", terr);
		return 1;
	}
	struct rv_config *cfg = cli_load_config(conf);
	if (!cfg)
		return 1;
	struct access_who who;
	access_whoami(cfg, &who);
	struct rv_kek kek;
	int rc = kek_load(cfg->storage_key_file, &kek);
	if (rc) {
		fprintf(stderr, "rtpvault audit: key file %s: %s\n", cfg->storage_key_file, crypto_strerror(rc));
		config_free(cfg);
		return 1;
	}
	struct store_opts o = cli_store_opts(cfg, false);
	struct store *st = NULL;
	bool writable = true;
	if (access(cfg->storage_path, F_OK) != 0) {
		rc = STORE_E_IO;
	} else {
		rc = store_open(&o, &st);
		if (rc) {
			o.readonly = true;
			writable = false;
			rc = store_open(&o, &st);
		}
	}
	if (rc) {
		fprintf(stderr, "rtpvault audit: store %s: %s\n", cfg->storage_path, store_strerror(rc));
		kek_wipe(&kek);
		config_free(cfg);
		return 1;
	}
	int status = 0;
	char detail[160];
	if (!access_check_audit(&who)) {
		char roles[64];
		access_roles_str(who.roles, roles, sizeof(roles));
		snprintf(detail, sizeof(detail), "{\"verb\":\"%s\",\"reason\":\"role\"}", verb);
		if (writable)
			access_audit(st, &kek, &who, "audit", AUDIT_REFUSED, NULL, NULL, detail, NULL);
		fprintf(stderr, "rtpvault audit: refused: user %s (uid %u, roles: %s) may not read the audit log (needs "
				"admin, compliance or auditor in [access]); this refusal is recorded in the audit log\n",
			who.user, who.uid, roles);
		store_close(st);
		kek_wipe(&kek);
		config_free(cfg);
		return 1;
	}
	struct store_rtxn *rt = NULL;
	rc = store_read_begin(st, &rt);
	if (rc) {
		fprintf(stderr, "rtpvault audit: %s\n", store_strerror(rc));
		status = 1;
	} else if (strcmp(verb, "list") == 0) {
		if (call) {
			char *p = NULL;
			size_t pn = 0;
			FILE *f = open_memstream(&p, &pn);
			if (f) {
				fputs("\"call_id\":", f);
				json_raw_escape(f, call, strlen(call));
				fclose(f);
			}
			l.call_pat = p;
		}
		if (l.json)
			fputc('[', stdout);
		rc = audit_each(rt, 0, list_one, &l);
		if (l.json)
			fputs("]\n", stdout);
		else if (!l.n)
			printf("no audit entries%s\n", call || l.since ? " match" : "");
		free(l.call_pat);
		if (rc) {
			fprintf(stderr, "rtpvault audit: %s\n", store_strerror(rc));
			status = 1;
		}
	} else if (strcmp(verb, "verify") == 0) {
		uint64_t bad = 0;
		char msg[512];
		rc = audit_verify(rt, &kek, &bad, anchor, msg, sizeof(msg));
		if (rc == 0) {
			char head[96];
			audit_head(rt, head, sizeof(head));
			printf("audit log intact: chain verifies up to %s%s\n", head,
			       anchor ? " and contains the anchor" : "");
		} else if (bad) {
			printf("audit log BROKEN at entry %" PRIu64 ": %s\n", bad, msg);
			fprintf(stderr, "rtpvault audit verify: first bad entry %" PRIu64 ": %s\n", bad, msg);
			status = 1;
		} else {
			fprintf(stderr, "rtpvault audit verify: %s\n", msg[0] ? msg : store_strerror(rc));
			status = rc == -3 ? 2 : 1;
		}
	} else {
		char head[96];
		rc = audit_head(rt, head, sizeof(head));
		if (rc) {
			fprintf(stderr, "rtpvault audit: %s\n", store_strerror(rc));
			status = 1;
		} else {
			printf("%s\n", head);
		}
	}
	if (rt)
		store_read_end(rt);
	/* list and anchor are accesses too: recorded when the log can take it */
	if (status == 0 && writable && strcmp(verb, "verify") != 0) {
		snprintf(detail, sizeof(detail), "{\"verb\":\"%s\",\"entries\":%u}", verb, l.n);
		if (access_audit(st, &kek, &who, "audit", AUDIT_ALLOWED, NULL, NULL, detail, NULL) != 0)
			fprintf(stderr, "rtpvault audit: note: this %s could not be recorded in the audit log (run "
					"rtpvault audit verify)\n",
				verb);
	}
	store_close(st);
	kek_wipe(&kek);
	config_free(cfg);
	return status;
}

/* ---------------------------------------------------------------- bundles */

/* constant-time equality of two 64-hex-digit strings */
static bool hex_eq(const char *a, const char *b)
{
	unsigned d = 0;
	for (int i = 0; i < 64; i++)
		d |= (unsigned)(a[i] ^ b[i]);
	return d == 0;
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 65536, len = 0;
	char *b = malloc(cap + 1);
	while (b) {
		size_t got = fread(b + len, 1, cap - len, f);
		len += got;
		if (len < cap)
			break;
		cap *= 2;
		char *nb = realloc(b, cap + 1);
		if (!nb) {
			free(b);
			b = NULL;
		}
		b = nb;
	}
	fclose(f);
	if (b) {
		b[len] = '\0';
		*n = len;
	}
	return b;
}

int cmd_verify_bundle(int argc, char **argv)
{
	const char *dir = NULL, *conf = NULL, *keyfile = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
			keyfile = argv[++i];
		else if (!dir && argv[i][0] != '-')
			dir = argv[i];
		else
			dir = NULL, i = argc;
	}
	if (!dir || (!conf && !keyfile)) {
		fprintf(stderr, "usage: rtpvault verify-bundle DIR (-c CONF | --key KEYFILE)\n");
		return 2;
	}
	struct rv_config *cfg = NULL;
	if (!keyfile) {
		cfg = cli_load_config(conf);
		if (!cfg)
			return 1;
		keyfile = cfg->storage_key_file;
	}
	struct rv_kek kek;
	int rc = kek_load(keyfile, &kek);
	if (rc) {
		fprintf(stderr, "rtpvault verify-bundle: key file %s: %s\n", keyfile, crypto_strerror(rc));
		config_free(cfg);
		return 1;
	}
	config_free(cfg);
	int status = 0;
	char path[4096];
	size_t mlen = 0, hlen = 0;
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	char *m = slurp(path, &mlen);
	snprintf(path, sizeof(path), "%s/manifest.hmac", dir);
	char *h = slurp(path, &hlen);
	char mac[65], want[65] = "";
	unsigned kid = 0;
	if (!m || !h) {
		fprintf(stderr, "rtpvault verify-bundle: %s: manifest.json or manifest.hmac missing: not a bundle\n", dir);
		status = 1;
		goto out;
	}
	if (sscanf(h, "HMAC-SHA256 key_id=%8x %64s", &kid, want) != 2 || strlen(want) != 64) {
		fprintf(stderr, "rtpvault verify-bundle: manifest.hmac: malformed\n");
		status = 1;
		goto out;
	}
	if (kid != kek.id)
		fprintf(stderr, "rtpvault verify-bundle: note: bundle names key id %08x, this key is %08x\n", kid, kek.id);
	if (access_bundle_mac(&kek, m, mlen, mac) != 0 || !hex_eq(mac, want)) {
		printf("manifest.json: HMAC does NOT verify (changed, or another key)\n");
		status = 1;
		goto out;
	}
	printf("manifest.json: HMAC verifies (key id %08x)\n", kek.id);
	/* every file listed under "files" */
	const char *fs = strstr(m, "\"files\":[");
	const char *fe = fs ? strchr(fs, ']') : NULL;
	unsigned nfiles = 0;
	for (const char *p = fs; p && fe && (p = strstr(p, "\"file\":\"")) && p < fe;) {
		p += 8;
		const char *q = strchr(p, '"');
		const char *sh = q ? strstr(q, "\"sha256\":\"") : NULL;
		if (!q || !sh || sh > fe || (size_t)(q - p) >= 256) {
			printf("manifest.json: malformed files list\n");
			status = 1;
			break;
		}
		char name[256], hex[65], got[65];
		snprintf(name, sizeof(name), "%.*s", (int)(q - p), p);
		snprintf(hex, sizeof(hex), "%.64s", sh + 10);
		if (strchr(name, '/') || strcmp(name, "..") == 0 || !name[0]) {
			printf("%s: refused (path outside the bundle)\n", name);
			status = 1;
			p = q;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		size_t fl = 0;
		char *fb = slurp(path, &fl);
		if (!fb || sha256_hex(fb, fl, got) != 0) {
			printf("%s: MISSING\n", name);
			status = 1;
		} else if (strcmp(got, hex) != 0) {
			printf("%s: sha256 does NOT match (changed)\n", name);
			status = 1;
		} else {
			printf("%s: sha256 ok\n", name);
		}
		free(fb);
		nfiles++;
		p = q;
	}
	if (!nfiles) {
		printf("manifest.json lists no files\n");
		status = 1;
	}
	printf("bundle %s: %s\n", dir, status ? "NOT VERIFIED" : "VERIFIED");
out:
	free(m);
	free(h);
	kek_wipe(&kek);
	return status;
}
