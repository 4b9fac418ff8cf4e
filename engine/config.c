/*
 * config.c - parse, validate, document and print the rtpvault configuration.
 *
 * Concept: config_keys.h is expanded into a table of key descriptors (name,
 * type, offset of the struct field, default/min/max as operator text, enum
 * words, doc).  Everything here walks that table: defaults are set by parsing
 * the default text with the same parser as the file, bounds are parsed the
 * same way, and the docs and the default file are printed from it, so the
 * code cannot drift from the documentation.
 *
 * File syntax (documented for operators in config_write_doc):
 *   [section] | [profile NAME] | key = value | # comment | ; comment
 *   An unquoted value ends at a '#' or ';' preceded by whitespace (trailing
 *   comment).  "..." quotes a value; inside, \" and \\ are the only escapes.
 * Errors follow OpenBSD daemons: every problem is reported as
 * "FILE:LINE: message" and counted; a config is returned only with none.
 *
 * Does NOT: support includes, environment expansion, multi-line values,
 * repeated [section] headers, or runtime reload.  Uses libc + POSIX regex.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum cfg_type {
	CT_BOOL,
	CT_INT,
	CT_SIZE,
	CT_DURATION,
	CT_STRING,
	CT_ENUM,
	CT_LIST,
	CT_PORTS,
	CT_REGEX,
};

static const char *const type_names[] = {
	[CT_BOOL] = "bool",         [CT_INT] = "integer", [CT_SIZE] = "size",
	[CT_DURATION] = "duration", [CT_STRING] = "string", [CT_ENUM] = "enum",
	[CT_LIST] = "list",         [CT_PORTS] = "ports", [CT_REGEX] = "regex",
};

#define SEC_ENUM(s, doc) SEC_##s,
enum { RV_CONFIG_SECTIONS(SEC_ENUM) SEC_profile, SEC_COUNT };

struct sec_desc {
	const char *name;
	const char *doc;
};
#define SEC_DESC(s, doc) { #s, doc },
static const struct sec_desc sections[] = {
	RV_CONFIG_SECTIONS(SEC_DESC) { "profile", RV_CONFIG_PROFILE_DOC },
};

struct key_desc {
	int sec;
	const char *name;
	enum cfg_type type;
	size_t off;
	const char *def, *min, *max;
	const char *const *vals; /* NULL-terminated; empty unless CT_ENUM */
	const char *doc;
};

#define VAL_STR(c, w) w,
#define X_VALS(sec, key, type, def, mn, mx, vals, doc) \
	static const char *const vals_##sec##_##key[] = { vals(VAL_STR) NULL };
RV_CONFIG_KEYS(X_VALS)
RV_CONFIG_PROFILE_KEYS(X_VALS)

#define X_KEY(sec, key, type, def, mn, mx, vals, doc) \
	{ SEC_##sec, #key, CT_##type, offsetof(struct rv_config, sec##_##key), \
	  def, mn, mx, vals_##sec##_##key, doc },
#define X_PKEY(sec, key, type, def, mn, mx, vals, doc) \
	{ SEC_##sec, #key, CT_##type, offsetof(struct rv_config_profile, key), \
	  def, mn, mx, vals_##sec##_##key, doc },
static const struct key_desc keys[] = { RV_CONFIG_KEYS(X_KEY) };
static const struct key_desc pkeys[] = { RV_CONFIG_PROFILE_KEYS(X_PKEY) };
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))
#define N_PKEYS (sizeof(pkeys) / sizeof(pkeys[0]))

#define MAX_SHOWN 200 /* problems printed; more are counted, not printed */

/* ---------------------------------------------------------------- values */

static bool is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Digits only, at least one, no overflow.  Advances *pp. */
static bool parse_u64(const char **pp, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*pp = p;
	*out = v;
	return true;
}

static bool parse_int(const char *s, int64_t *out)
{
	bool neg = (*s == '-');
	uint64_t v;
	if (neg)
		s++;
	if (!parse_u64(&s, &v) || *s)
		return false;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return false;
		*out = (v == (uint64_t)INT64_MAX + 1) ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX)
			return false;
		*out = (int64_t)v;
	}
	return true;
}

static bool mul_ok(uint64_t v, uint64_t m, uint64_t *out)
{
	if (m && v > UINT64_MAX / m)
		return false;
	*out = v * m;
	return true;
}

static bool parse_size(const char *s, uint64_t *out)
{
	uint64_t v, m;
	if (!parse_u64(&s, &v))
		return false;
	switch (*s) {
	case 0:
		m = 1;
		break;
	case 'K': case 'k':
		m = 1024;
		break;
	case 'M': case 'm':
		m = 1024 * 1024;
		break;
	case 'G': case 'g':
		m = 1024 * 1024 * 1024;
		break;
	default:
		return false;
	}
	if (*s && s[1])
		return false;
	return mul_ok(v, m, out);
}

static const struct {
	const char *suffix;
	uint64_t us;
} dur_units[] = {
	/* largest first: config_dump picks the first exact one */
	{ "y", 365ULL * 86400 * 1000000 },
	{ "d", 86400ULL * 1000000 },
	{ "h", 3600ULL * 1000000 },
	{ "m", 60ULL * 1000000 },
	{ "s", 1000000 },
	{ "ms", 1000 },
};

static bool parse_duration(const char *s, uint64_t *out)
{
	uint64_t v;
	if (!parse_u64(&s, &v))
		return false;
	if (!*s)
		return mul_ok(v, 1000000, out);
	for (size_t i = 0; i < sizeof(dur_units) / sizeof(dur_units[0]); i++)
		if (!strcmp(s, dur_units[i].suffix))
			return mul_ok(v, dur_units[i].us, out);
	return false;
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const t[] = { "true", "yes", "on", "1" };
	static const char *const f[] = { "false", "no", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (!strcmp(s, t[i])) {
			*out = true;
			return true;
		}
		if (!strcmp(s, f[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

static bool parse_ports(const char *s, uint8_t *bm, char *msg, size_t msz)
{
	memset(bm, 0, RV_CONFIG_PORTS_BYTES);
	while (is_ws(*s))
		s++;
	if (!*s)
		return true;
	for (;;) {
		uint64_t lo, hi;
		while (is_ws(*s))
			s++;
		if (!parse_u64(&s, &lo))
			goto bad;
		hi = lo;
		while (is_ws(*s))
			s++;
		if (*s == '-') {
			s++;
			while (is_ws(*s))
				s++;
			if (!parse_u64(&s, &hi))
				goto bad;
			while (is_ws(*s))
				s++;
		}
		if (lo < 1 || hi > 65535 || lo > hi) {
			if (lo == hi)
				snprintf(msg, msz, "port %" PRIu64 " is out of range (1..65535)", lo);
			else
				snprintf(msg, msz, "port range %" PRIu64 "-%" PRIu64 " is not within 1..65535 "
					 "in ascending order", lo, hi);
			return false;
		}
		for (uint64_t p = lo; p <= hi; p++)
			bm[p >> 3] |= (uint8_t)(1u << (p & 7));
		if (!*s)
			return true;
		if (*s != ',')
			goto bad;
		s++;
	}
bad:
	snprintf(msg, msz, "is not a port list (use 5060,5061 or 5060-5070)");
	return false;
}

static void list_free(struct rv_config_list *l)
{
	if (l->items)
		for (size_t i = 0; i < l->count; i++)
			free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

/* Comma-separated, items trimmed, empty items refused; all-blank = empty. */
static int parse_list(const char *s, struct rv_config_list *l, char *msg, size_t msz)
{
	size_t n = 1, i = 0;
	const char *p = s;
	l->items = NULL;
	l->count = 0;
	while (is_ws(*p))
		p++;
	if (!*p) {
		l->items = calloc(1, sizeof(char *));
		return l->items ? 0 : -1;
	}
	for (const char *q = s; *q; q++)
		n += (*q == ',');
	l->items = calloc(n + 1, sizeof(char *));
	if (!l->items)
		return -1;
	for (;;) {
		const char *e = strchr(p, ',');
		const char *end = e ? e : p + strlen(p);
		const char *a = p, *b = end;
		while (a < b && is_ws(*a))
			a++;
		while (b > a && is_ws(b[-1]))
			b--;
		if (a == b) {
			snprintf(msg, msz, "has an empty item (use a,b,c)");
			l->count = i;
			list_free(l);
			return 1;
		}
		l->items[i] = strndup(a, (size_t)(b - a));
		if (!l->items[i]) {
			l->count = i;
			list_free(l);
			return -1;
		}
		i++;
		if (!e)
			break;
		p = e + 1;
	}
	l->count = i;
	return 0;
}

/*
 * Parse text for key k into the field at base + k->off, replacing (and
 * freeing) what was there.  Returns 0, 1 with msg set (message after the
 * "[section] key: " prefix), or -1 when out of memory.
 */
static int set_value(const struct key_desc *k, void *base, const char *text, char *msg, size_t msz)
{
	char *field = (char *)base + k->off;
	uint64_t u, lo, hi;
	int64_t i, ilo, ihi;
	bool b;
	bool has_lo = k->min[0] != 0, has_hi = k->max[0] != 0;

	msg[0] = 0;
	switch (k->type) {
	case CT_BOOL:
		if (!parse_bool(text, &b)) {
			snprintf(msg, msz, "is not a boolean (use true or false)");
			return 1;
		}
		memcpy(field, &b, sizeof(b));
		return 0;
	case CT_INT:
		if (!parse_int(text, &i)) {
			snprintf(msg, msz, "is not an integer");
			return 1;
		}
		if ((has_lo && (!parse_int(k->min, &ilo) || i < ilo)) ||
		    (has_hi && (!parse_int(k->max, &ihi) || i > ihi)))
			goto range;
		memcpy(field, &i, sizeof(i));
		return 0;
	case CT_SIZE:
	case CT_DURATION: {
		bool (*fn)(const char *, uint64_t *) = k->type == CT_SIZE ? parse_size : parse_duration;
		if (!fn(text, &u)) {
			if (k->type == CT_SIZE)
				snprintf(msg, msz, "is not a size (use 65536, 64K, 8M, 1G)");
			else
				snprintf(msg, msz, "is not a duration (use 30s, 5m, 1h)");
			return 1;
		}
		if ((has_lo && (!fn(k->min, &lo) || u < lo)) || (has_hi && (!fn(k->max, &hi) || u > hi)))
			goto range;
		memcpy(field, &u, sizeof(u));
		return 0;
	}
	case CT_ENUM:
		for (int j = 0; k->vals[j]; j++) {
			if (!strcmp(text, k->vals[j])) {
				memcpy(field, &j, sizeof(j));
				return 0;
			}
		}
		{
			size_t n = (size_t)snprintf(msg, msz, "is not one of:");
			for (int j = 0; k->vals[j] && n < msz; j++)
				n += (size_t)snprintf(msg + n, msz - n, "%s %s", j ? "," : "", k->vals[j]);
		}
		return 1;
	case CT_REGEX:
		if (text[0]) {
			regex_t re;
			int rc = regcomp(&re, text, REG_EXTENDED | REG_NOSUB);
			if (rc) {
				char e[128];
				regerror(rc, &re, e, sizeof(e));
				snprintf(msg, msz, "is not a valid regular expression: %s", e);
				return 1;
			}
			regfree(&re);
		}
		/* fall through */
	case CT_STRING: {
		char *s = strdup(text), *old;
		if (!s)
			return -1;
		memcpy(&old, field, sizeof(old));
		free(old);
		memcpy(field, &s, sizeof(s));
		return 0;
	}
	case CT_LIST: {
		struct rv_config_list l, old;
		int rc = parse_list(text, &l, msg, msz);
		if (rc)
			return rc;
		memcpy(&old, field, sizeof(old));
		list_free(&old);
		memcpy(field, &l, sizeof(l));
		return 0;
	}
	case CT_PORTS: {
		uint8_t bm[RV_CONFIG_PORTS_BYTES];
		if (!parse_ports(text, bm, msg, msz))
			return 1;
		memcpy(field, bm, sizeof(bm));
		return 0;
	}
	}
	snprintf(msg, msz, "has an unknown type");
	return 1;
range:
	if (has_lo && has_hi)
		snprintf(msg, msz, "is out of range (%s..%s)", k->min, k->max);
	else if (has_lo)
		snprintf(msg, msz, "is below the minimum %s", k->min);
	else
		snprintf(msg, msz, "is above the maximum %s", k->max);
	return 1;
}

static void free_fields(const struct key_desc *ks, size_t n, void *base)
{
	for (size_t j = 0; j < n; j++) {
		char *field = (char *)base + ks[j].off;
		if (ks[j].type == CT_STRING || ks[j].type == CT_REGEX) {
			char *s;
			memcpy(&s, field, sizeof(s));
			free(s);
		} else if (ks[j].type == CT_LIST) {
			list_free((struct rv_config_list *)(void *)field);
		}
	}
}

/* Set every key of the table to its default.  0, or -1 (OOM / table bug). */
static int set_defaults(const struct key_desc *ks, size_t n, void *base)
{
	char msg[256];
	for (size_t j = 0; j < n; j++)
		if (set_value(&ks[j], base, ks[j].def, msg, sizeof(msg)))
			return -1;
	return 0;
}

void config_free(struct rv_config *c)
{
	if (!c)
		return;
	free_fields(keys, N_KEYS, c);
	for (size_t p = 0; p < c->profile_count; p++)
		free_fields(pkeys, N_PKEYS, &c->profiles[p]);
	free(c->path);
	free(c);
}

static struct rv_config *config_new(const char *path)
{
	struct rv_config *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->path = strdup(path);
	if (!c->path || set_defaults(keys, N_KEYS, c)) {
		config_free(c);
		return NULL;
	}
	return c;
}

struct rv_config *config_default(void)
{
	return config_new("(defaults)");
}

const char *config_path(const struct rv_config *c)
{
	return c && c->path ? c->path : "(defaults)";
}

const char *config_enum_word(const char *section, const char *key, int value)
{
	for (size_t j = 0; j < N_KEYS; j++) {
		const struct key_desc *k = &keys[j];
		if (k->type != CT_ENUM || strcmp(sections[k->sec].name, section) || strcmp(k->name, key))
			continue;
		for (int v = 0; k->vals[v]; v++)
			if (v == value)
				return k->vals[v];
	}
	return NULL;
}

/* --------------------------------------------------------------- parsing */

struct pstate {
	const char *name;
	FILE *err;
	int problems;
	unsigned line;
	struct rv_config *cfg;
	int sec;                        /* SEC_*, or -1 none, -2 skip (bad header) */
	size_t prof;                    /* current profile when sec == SEC_profile */
	unsigned sec_line[SEC_COUNT];
	unsigned seen[N_KEYS];
	unsigned pseen[RV_CONFIG_MAX_PROFILES][N_PKEYS];
	bool oom;
};

static void problem(struct pstate *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct pstate *st, const char *fmt, ...)
{
	st->problems++;
	if (!st->err || st->problems > MAX_SHOWN)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(st->err, "%s:%u: ", st->name, st->line);
	vfprintf(st->err, fmt, ap);
	fputc('\n', st->err);
	va_end(ap);
}

/* Printable, bounded rendering of untrusted text for messages. */
static const char *show(const char *s, size_t len, char *buf, size_t bsz)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 8 < bsz; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (i >= 60) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20 || ch >= 0x7f) {
			o += (size_t)snprintf(buf + o, bsz - o, "\\x%02x", ch);
		} else {
			buf[o++] = (char)ch;
		}
	}
	buf[o] = 0;
	return buf;
}

/* Optimal string alignment distance: Levenshtein plus adjacent swaps. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[65][65];
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

static bool close_enough(const char *typed, const char *cand, size_t *best)
{
	size_t d = edit_distance(typed, cand);
	size_t lim = strlen(cand) / 3;
	if (lim < 1)
		lim = 1;
	if (lim > 3)
		lim = 3;
	if (d <= lim && d < *best) {
		*best = d;
		return true;
	}
	return false;
}

static bool name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-' || c == '.';
}

/* After a closing ']' or '"': only whitespace or a comment may follow. */
static bool only_comment(const char *p)
{
	while (is_ws(*p))
		p++;
	return !*p || *p == '#' || *p == ';';
}

static void do_section(struct pstate *st, char *s)
{
	char buf[200];
	char *end = strchr(s, ']');
	st->sec = -2;
	if (!end) {
		problem(st, "section header without closing \"]\"");
		return;
	}
	if (!only_comment(end + 1)) {
		problem(st, "unexpected text after section header");
		return;
	}
	*end = 0;
	char *a = s + 1;
	while (is_ws(*a))
		a++;
	char *b = a + strlen(a);
	while (b > a && is_ws(b[-1]))
		*--b = 0;
	char *sp = a;
	while (*sp && !is_ws(*sp))
		sp++;
	if (*sp) {
		/* two words: only "profile NAME" */
		*sp++ = 0;
		while (is_ws(*sp))
			sp++;
		if (strcmp(a, "profile")) {
			problem(st, "unknown section [%s %s] (only [profile NAME] takes a name)",
				show(a, strlen(a), buf, 100), show(sp, strlen(sp), buf + 100, 100));
			return;
		}
		size_t nl = strlen(sp);
		bool ok = nl >= 1 && nl <= RV_CONFIG_PROFILE_NAME_MAX;
		for (size_t i = 0; ok && i < nl; i++)
			ok = name_char((unsigned char)sp[i]);
		if (!ok) {
			problem(st, "profile name \"%s\" must be 1 to %d letters, digits, '_', '.' or '-'",
				show(sp, nl, buf, sizeof(buf)), RV_CONFIG_PROFILE_NAME_MAX);
			return;
		}
		struct rv_config *c = st->cfg;
		for (size_t p = 0; p < c->profile_count; p++) {
			if (!strcmp(c->profiles[p].name, sp)) {
				problem(st, "[profile %s] given twice", sp);
				return;
			}
		}
		if (c->profile_count >= RV_CONFIG_MAX_PROFILES) {
			problem(st, "more than %d [profile] sections", RV_CONFIG_MAX_PROFILES);
			return;
		}
		struct rv_config_profile *pr = &c->profiles[c->profile_count];
		memset(pr, 0, sizeof(*pr));
		memcpy(pr->name, sp, nl + 1);
		c->profile_count++;
		if (set_defaults(pkeys, N_PKEYS, pr)) {
			st->oom = true;
			return;
		}
		st->prof = c->profile_count - 1;
		st->sec = SEC_profile;
		return;
	}
	for (int i = 0; i < SEC_COUNT; i++) {
		if (strcmp(a, sections[i].name))
			continue;
		if (i == SEC_profile) {
			problem(st, "[profile] needs a name: [profile NAME]");
			return;
		}
		if (st->sec_line[i]) {
			problem(st, "section [%s] given twice (first at line %u)", a, st->sec_line[i]);
			return;
		}
		st->sec_line[i] = st->line;
		st->sec = i;
		return;
	}
	size_t best = SIZE_MAX;
	const char *sugg = NULL;
	for (int i = 0; i < SEC_COUNT; i++)
		if (close_enough(a, sections[i].name, &best))
			sugg = sections[i].name;
	if (sugg)
		problem(st, "unknown section [%s] (did you mean [%s]?)", show(a, strlen(a), buf, sizeof(buf)),
			sugg);
	else
		problem(st, "unknown section [%s]", show(a, strlen(a), buf, sizeof(buf)));
}

/* Unquote/cut the raw value in place.  Returns false with msg on error. */
static bool extract_value(char *v, char **out, const char **msg)
{
	char *start = v; /* just after '=': a '#' right after blanks is a comment */
	while (is_ws(*v))
		v++;
	if (*v == '"') {
		char *r = v + 1, *w = v;
		for (;;) {
			if (!*r) {
				*msg = "quoted value has no closing '\"'";
				return false;
			}
			if (*r == '"')
				break;
			if (*r == '\\') {
				if (r[1] != '"' && r[1] != '\\') {
					*msg = "unknown escape in quoted value (only \\\" and \\\\)";
					return false;
				}
				r++;
			}
			*w++ = *r++;
		}
		if (!only_comment(r + 1)) {
			*msg = "unexpected text after closing '\"'";
			return false;
		}
		*w = 0;
		*out = v;
		return true;
	}
	for (char *p = v; *p; p++) {
		if ((*p == '#' || *p == ';') && p > start && is_ws(p[-1])) {
			*p = 0;
			break;
		}
	}
	char *e = v + strlen(v);
	while (e > v && is_ws(e[-1]))
		*--e = 0;
	*out = v;
	return true;
}

static void do_key(struct pstate *st, char *s)
{
	char buf[200], msg[300];
	char *eq = strchr(s, '=');
	if (st->sec == -2)
		return; /* keys of a bad section header: already reported */
	if (!eq) {
		problem(st, "expected \"key = value\", \"[section]\" or a comment");
		return;
	}
	char *ke = eq;
	while (ke > s && is_ws(ke[-1]))
		ke--;
	*ke = 0;
	for (char *p = s; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) {
			problem(st, "invalid key name \"%s\" (lower-case letters, digits and _)",
				show(s, strlen(s), buf, sizeof(buf)));
			return;
		}
	}
	if (!*s) {
		problem(st, "missing key name before \"=\"");
		return;
	}
	if (st->sec == -1) {
		problem(st, "key \"%s\" outside of any [section]", show(s, strlen(s), buf, sizeof(buf)));
		return;
	}
	bool prof = st->sec == SEC_profile;
	const struct key_desc *ks = prof ? pkeys : keys;
	size_t nk = prof ? N_PKEYS : N_KEYS;
	const struct key_desc *k = NULL;
	size_t idx = 0;
	for (size_t j = 0; j < nk; j++) {
		if (ks[j].sec == st->sec && !strcmp(ks[j].name, s)) {
			k = &ks[j];
			idx = j;
			break;
		}
	}
	char secname[RV_CONFIG_PROFILE_NAME_MAX + 16];
	if (prof)
		snprintf(secname, sizeof(secname), "profile %s", st->cfg->profiles[st->prof].name);
	else
		snprintf(secname, sizeof(secname), "%s", sections[st->sec].name);
	if (!k) {
		size_t best = SIZE_MAX;
		const char *sugg = NULL, *other = NULL;
		for (size_t j = 0; j < nk; j++)
			if (ks[j].sec == st->sec && close_enough(s, ks[j].name, &best))
				sugg = ks[j].name;
		for (size_t j = 0; j < N_KEYS && !sugg; j++)
			if (!strcmp(keys[j].name, s))
				other = sections[keys[j].sec].name;
		show(s, strlen(s), buf, sizeof(buf));
		if (sugg)
			problem(st, "unknown key \"%s\" in [%s] (did you mean \"%s\"?)", buf, secname, sugg);
		else if (other)
			problem(st, "unknown key \"%s\" in [%s] (it belongs in [%s])", buf, secname, other);
		else
			problem(st, "unknown key \"%s\" in [%s]", buf, secname);
		return;
	}
	unsigned *seen = prof ? &st->pseen[st->prof][idx] : &st->seen[idx];
	if (*seen) {
		problem(st, "[%s] %s given twice (first at line %u)", secname, k->name, *seen);
		return;
	}
	*seen = st->line;

	char *val;
	const char *emsg = NULL;
	if (!extract_value(eq + 1, &val, &emsg)) {
		problem(st, "[%s] %s: %s", secname, k->name, emsg);
		return;
	}
	size_t vl = strlen(val);
	if (vl > RV_CONFIG_VALUE_MAX) {
		problem(st, "[%s] %s: value is longer than %d bytes", secname, k->name, RV_CONFIG_VALUE_MAX);
		return;
	}
	for (size_t i = 0; i < vl; i++) {
		unsigned char ch = (unsigned char)val[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			problem(st, "[%s] %s: control character in value", secname, k->name);
			return;
		}
	}
	if (!vl && k->type != CT_STRING && k->type != CT_REGEX && k->type != CT_LIST &&
	    k->type != CT_PORTS) {
		problem(st, "[%s] %s: empty value", secname, k->name);
		return;
	}
	void *base = prof ? (void *)&st->cfg->profiles[st->prof] : (void *)st->cfg;
	int rc = set_value(k, base, val, msg, sizeof(msg));
	if (rc < 0)
		st->oom = true;
	else if (rc > 0)
		problem(st, "[%s] %s: \"%s\" %s", secname, k->name, show(val, vl, buf, sizeof(buf)), msg);
}

static int load_buf(const char *name, const char *text, size_t len, struct rv_config **out, FILE *err)
{
	struct pstate *st = calloc(1, sizeof(*st));
	*out = NULL;
	if (!st) {
		if (err)
			fprintf(err, "%s: out of memory\n", name);
		return 1;
	}
	st->name = name;
	st->err = err;
	st->sec = -1;
	st->cfg = config_new(name);
	if (!st->cfg) {
		st->oom = true;
		goto done;
	}
	size_t off = 0;
	while (off < len && !st->oom) {
		const char *lp = text + off;
		const char *nl = memchr(lp, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - lp) : len - off;
		off += ll + (nl ? 1 : 0);
		st->line++;
		if (memchr(lp, 0, ll)) {
			problem(st, "NUL byte in line");
			continue;
		}
		char *s = strndup(lp, ll);
		if (!s) {
			st->oom = true;
			break;
		}
		char *p = s;
		while (is_ws(*p))
			p++;
		char *e = p + strlen(p);
		while (e > p && is_ws(e[-1]))
			*--e = 0;
		if (*p == '[')
			do_section(st, p);
		else if (*p && *p != '#' && *p != ';')
			do_key(st, p);
		free(s);
	}
done:
	if (st->oom) {
		st->problems++;
		if (err)
			fprintf(err, "%s: out of memory\n", name);
	}
	if (err && st->problems > MAX_SHOWN)
		fprintf(err, "%s: %d more problems not shown\n", name, st->problems - MAX_SHOWN);
	int n = st->problems;
	if (n == 0)
		*out = st->cfg;
	else
		config_free(st->cfg);
	free(st);
	return n;
}

int config_load_string(const char *name, const char *text, struct rv_config **out, FILE *err)
{
	return load_buf(name, text, strlen(text), out, err);
}

int config_load(const char *path, struct rv_config **out, FILE *err)
{
	struct stat sb;
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (err)
			fprintf(err, "%s: cannot open: %s\n", path, strerror(errno));
		return 1;
	}
	if (fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode)) {
		if (err)
			fprintf(err, "%s: not a regular file\n", path);
		fclose(f);
		return 1;
	}
	if (sb.st_size > RV_CONFIG_FILE_MAX) {
		if (err)
			fprintf(err, "%s: larger than %d bytes\n", path, RV_CONFIG_FILE_MAX);
		fclose(f);
		return 1;
	}
	char *buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		fclose(f);
		if (err)
			fprintf(err, "%s: out of memory\n", path);
		return 1;
	}
	size_t n = fread(buf, 1, (size_t)sb.st_size + 1, f);
	int rerr = ferror(f);
	fclose(f);
	if (rerr || n > (size_t)sb.st_size) {
		if (err)
			fprintf(err, "%s: read error or file changed while reading\n", path);
		free(buf);
		return 1;
	}
	int rc = load_buf(path, buf, n, out, err);
	free(buf);
	return rc;
}

/* -------------------------------------------------------------- printing */

/* Write a value in file syntax, quoted when the bare form would not survive. */
static void put_value(FILE *f, const char *v)
{
	bool q = !v[0] || is_ws(v[0]) || is_ws(v[strlen(v) - 1]) || v[0] == '"';
	for (const char *p = v; *p && !q; p++)
		q = *p == '#' || *p == ';' || *p == '"' || *p == '\\';
	if (!q) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

static void put_range(FILE *f, const struct key_desc *k, bool md)
{
	const char *tick = md ? "`" : "";
	if (k->type == CT_ENUM) {
		for (int v = 0; k->vals[v]; v++)
			fprintf(f, "%s%s%s%s", v ? (md ? " \\| " : " | ") : "", tick, k->vals[v], tick);
	} else if (k->min[0] && k->max[0]) {
		fprintf(f, "%s%s..%s%s", tick, k->min, k->max, tick);
	} else if (k->min[0]) {
		fprintf(f, "%s>= %s%s", tick, k->min, tick);
	} else if (k->max[0]) {
		fprintf(f, "%s<= %s%s", tick, k->max, tick);
	} else if (k->type == CT_PORTS) {
		fprintf(f, "%s1..65535%s", tick, tick);
	} else if (k->type == CT_BOOL) {
		fprintf(f, "%strue%s%s%sfalse%s", tick, tick, md ? " \\| " : " | ", tick, tick);
	} else if (k->type == CT_STRING || k->type == CT_REGEX || k->type == CT_LIST) {
		fprintf(f, "%d bytes max", RV_CONFIG_VALUE_MAX);
	}
}

static void doc_table(FILE *f, const struct key_desc *ks, size_t n, int sec)
{
	fprintf(f, "| key | type | default | range / values | description |\n");
	fprintf(f, "| --- | --- | --- | --- | --- |\n");
	for (size_t j = 0; j < n; j++) {
		const struct key_desc *k = &ks[j];
		if (k->sec != sec)
			continue;
		fprintf(f, "| `%s` | %s | ", k->name, type_names[k->type]);
		if (k->def[0])
			fprintf(f, "`%s`", k->def);
		else
			fprintf(f, "(empty)");
		fprintf(f, " | ");
		put_range(f, k, true);
		fprintf(f, " | %s |\n", k->doc);
	}
}

void config_write_doc(FILE *f)
{
	fputs("# rtpvault configuration\n"
	      "\n"
	      "<!-- Generated by `rtpvault config-doc` (config_write_doc() from engine/config_keys.h);\n"
	      "     do not edit: change the key table and regenerate. -->\n"
	      "\n"
	      "rtpvault reads one INI-style file. The commented default, `etc/rtpvault.conf`, is\n"
	      "printed by `rtpvault config-default`. Every key has a default, so a file may hold\n"
	      "only the sections and keys it changes; an empty file is valid.\n"
	      "\n"
	      "## Syntax\n"
	      "\n"
	      "- `[section]` starts a section; `key = value` sets a key in the current section.\n"
	      "  Keys are lower-case letters, digits and `_`. Whitespace around keys and values is ignored.\n"
	      "- A line whose first non-blank character is `#` or `;` is a comment.\n"
	      "- A trailing comment starts at a `#` or `;` that follows whitespace:\n"
	      "  `linger = 5s   # short` sets `5s`. To keep such text in a value, quote it.\n"
	      "- `\"...\"` quotes a value verbatim; inside quotes `\\\"` is a quote and `\\\\` a backslash\n"
	      "  (no other escapes). `\"\"` is the empty value.\n"
	      "- Values are at most 4096 bytes; the file at most 1 MiB. Control characters are refused.\n"
	      "- These are errors: an unknown section or key, a key given twice in a section, a\n"
	      "  section header given twice, a key before any section, a value of the wrong type or\n"
	      "  outside its range. Every problem is reported as `FILE:LINE: message` and the daemon\n"
	      "  does not start until there are none.\n"
	      "- `[profile NAME]` may be repeated with different names (at most 32); each profile\n"
	      "  has its own copy of the profile keys. Profiles are reserved for the compliance\n"
	      "  work and are validated but not yet acted on.\n"
	      "\n"
	      "## Types and units\n"
	      "\n"
	      "| type | written as |\n"
	      "| --- | --- |\n"
	      "| bool | `true` `yes` `on` `1` / `false` `no` `off` `0` |\n"
	      "| integer | decimal, optional leading `-` |\n"
	      "| size | bytes, with optional suffix `K` `M` `G` (1024-based; `k` `m` `g` also accepted): `65536`, `64K`, `8M`, `1G` |\n"
	      "| duration | number with suffix `ms` `s` `m` `h` `d` `y` (y = 365 d; lower-case only); a plain number is seconds; no fractions or spaces: `100ms`, `30s`, `5m`, `180d` |\n"
	      "| string | any text (quote it to keep `#`, `;` or surrounding spaces) |\n"
	      "| enum | one of the listed words |\n"
	      "| list | comma-separated items, each trimmed, none empty: `a, b, c`; empty value = empty list |\n"
	      "| ports | comma-separated ports or ranges, 1..65535: `5060,5061,5080-5089`; empty = none |\n"
	      "| regex | POSIX extended regular expression, checked at load; empty = none |\n",
	      f);
	for (int s = 0; s < SEC_COUNT; s++) {
		if (s == SEC_profile)
			fprintf(f, "\n## [profile NAME]\n\n%s.\n\n", sections[s].doc);
		else
			fprintf(f, "\n## [%s]\n\n%s\n\n", sections[s].name, sections[s].doc);
		if (s == SEC_profile)
			doc_table(f, pkeys, N_PKEYS, s);
		else
			doc_table(f, keys, N_KEYS, s);
	}
}

static void default_keys(FILE *f, const struct key_desc *ks, size_t n, int sec)
{
	for (size_t j = 0; j < n; j++) {
		const struct key_desc *k = &ks[j];
		if (k->sec != sec)
			continue;
		fprintf(f, "\n# %s\n# (%s", k->doc, type_names[k->type]);
		if (k->type != CT_STRING && k->type != CT_REGEX && k->type != CT_LIST) {
			fputs(k->type == CT_ENUM ? ": " : ", ", f);
			put_range(f, k, false);
		}
		fprintf(f, ")\n#%s = ", k->name);
		put_value(f, k->def);
		fputc('\n', f);
	}
}

/* Shipped example profiles (docs/compliance.md), commented out. */
static const char profile_examples[] =
	"\n# Example profiles (docs/compliance.md). Uncomment and adapt; the first\n"
	"# matching [profile] in file order wins, \"default\" applies otherwise.\n"
	"#\n"
	"# Trading desk: kept 5 years (MiFID II); `rtpvault hold` keeps a call longer.\n"
	"#[profile finance]\n"
	"#retention = 5y\n"
	"#match_callee_prefixes = 4969555\n"
	"#match_trunks = 192.0.2.10\n"
	"#read_roles = admin, compliance, supervisor\n"
	"#export_roles = admin, compliance\n"
	"#erase_roles = admin, compliance\n"
	"#purposes = dispute, regulator request, legal hold\n"
	"#\n"
	"# Patient lines: own key-encryption key, export only by compliance, with a purpose.\n"
	"#[profile healthcare]\n"
	"#retention = 10y\n"
	"#match_header = X-Line: clinic\n"
	"#key_file = /var/lib/rtpvault/healthcare.key\n"
	"#read_roles = compliance\n"
	"#export_roles = compliance\n"
	"#erase_roles = compliance\n"
	"#purposes = patient request, complaint, legal claim\n"
	"#\n"
	"# School line: a minor's call is kept only with a guardian's consent signal.\n"
	"#[profile education]\n"
	"#retention = 1y\n"
	"#match_callee_regex = ^4930777[0-9]+$\n"
	"#minor_header = X-Subject-Minor: yes\n"
	"#guardian_sequence = 71\n"
	"#guardian_header = X-Guardian-Consent\n"
	"#\n"
	"# Everything else.\n"
	"#[profile default]\n"
	"#retention = 180d\n";

void config_write_default(FILE *f)
{
	fputs("# rtpvault configuration file.\n"
	      "#\n"
	      "# Generated by `rtpvault config-default` from engine/config_keys.h.\n"
	      "# Every key is shown commented out with its default value: uncomment a\n"
	      "# line and edit it to change that key. Syntax and units: docs/config.md\n"
	      "# (sizes 64K 8M 1G; durations 100ms 30s 5m 1h 7d; trailing \" # ...\" is a comment).\n",
	      f);
	for (int s = 0; s < SEC_COUNT; s++) {
		if (s == SEC_profile) {
			fprintf(f, "\n# %s.\n# Example:\n#[profile example]\n", sections[s].doc);
			default_keys(f, pkeys, N_PKEYS, s);
			fputs(profile_examples, f);
		} else {
			fprintf(f, "\n# %s\n[%s]\n", sections[s].doc, sections[s].name);
			default_keys(f, keys, N_KEYS, s);
		}
	}
}

static void dump_scaled(FILE *f, uint64_t v, bool dur)
{
	if (dur) {
		for (size_t i = 0; i < sizeof(dur_units) / sizeof(dur_units[0]); i++) {
			if (v && v % dur_units[i].us == 0) {
				fprintf(f, "%" PRIu64 "%s", v / dur_units[i].us, dur_units[i].suffix);
				return;
			}
		}
		if (v == 0) {
			fputs("0s", f);
			return;
		}
		/* sub-millisecond values cannot be written; round down to ms */
		fprintf(f, "%" PRIu64 "ms", v / 1000);
		return;
	}
	static const char sfx[] = "GMK";
	for (int i = 0; i < 3; i++) {
		uint64_t m = 1ULL << (10 * (3 - i));
		if (v && v % m == 0) {
			fprintf(f, "%" PRIu64 "%c", v / m, sfx[i]);
			return;
		}
	}
	fprintf(f, "%" PRIu64, v);
}

static void dump_key(FILE *f, const struct key_desc *k, const void *base)
{
	const char *field = (const char *)base + k->off;
	fprintf(f, "%s = ", k->name);
	switch (k->type) {
	case CT_BOOL: {
		bool b;
		memcpy(&b, field, sizeof(b));
		fputs(b ? "true" : "false", f);
		break;
	}
	case CT_INT: {
		int64_t i;
		memcpy(&i, field, sizeof(i));
		fprintf(f, "%" PRId64, i);
		break;
	}
	case CT_SIZE:
	case CT_DURATION: {
		uint64_t u;
		memcpy(&u, field, sizeof(u));
		dump_scaled(f, u, k->type == CT_DURATION);
		break;
	}
	case CT_ENUM: {
		int e;
		memcpy(&e, field, sizeof(e));
		fputs(k->vals[e], f);
		break;
	}
	case CT_STRING:
	case CT_REGEX: {
		const char *s;
		memcpy(&s, field, sizeof(s));
		put_value(f, s);
		break;
	}
	case CT_LIST: {
		const struct rv_config_list *l = (const struct rv_config_list *)(const void *)field;
		size_t need = 1;
		for (size_t i = 0; i < l->count; i++)
			need += strlen(l->items[i]) + 2;
		char *s = malloc(need);
		if (!s)
			break;
		s[0] = 0;
		size_t o = 0;
		for (size_t i = 0; i < l->count; i++) {
			o += (size_t)snprintf(s + o, need - o, "%s%s", i ? ", " : "", l->items[i]);
		}
		put_value(f, s);
		free(s);
		break;
	}
	case CT_PORTS: {
		const uint8_t *bm = (const uint8_t *)field;
		bool first = true;
		for (uint32_t p = 1; p <= 65535; p++) {
			if (!config_port_in(bm, (uint16_t)p))
				continue;
			uint32_t e = p;
			while (e < 65535 && config_port_in(bm, (uint16_t)(e + 1)))
				e++;
			fprintf(f, "%s%u", first ? "" : ",", p);
			if (e > p)
				fprintf(f, "-%u", e);
			first = false;
			p = e;
		}
		if (first)
			fputs("\"\"", f);
		break;
	}
	}
	fputc('\n', f);
}

void config_dump(const struct rv_config *c, FILE *f)
{
	fprintf(f, "# effective configuration (loaded from %s)\n", config_path(c));
	for (int s = 0; s < SEC_COUNT; s++) {
		if (s == SEC_profile) {
			for (size_t p = 0; p < c->profile_count; p++) {
				fprintf(f, "\n[profile %s]\n", c->profiles[p].name);
				for (size_t j = 0; j < N_PKEYS; j++)
					dump_key(f, &pkeys[j], &c->profiles[p]);
			}
			continue;
		}
		fprintf(f, "\n[%s]\n", sections[s].name);
		for (size_t j = 0; j < N_KEYS; j++)
			if (keys[j].sec == s)
				dump_key(f, &keys[j], c);
	}
}
