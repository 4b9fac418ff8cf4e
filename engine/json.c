/*
 * json.c - streaming JSON writer (see json.h).
 */
#include "json.h"

#include <inttypes.h>
#include <string.h>

void json_init(struct json *j, FILE *f, bool pretty)
{
	j->f = f;
	j->depth = 0;
	j->need_comma[0] = false;
	j->pretty = pretty;
}

/* One item (comma, key, value) is put together in a small buffer and
 * written with one fwrite; plain strings (no byte that needs escaping) go
 * into it as they are, anything else through json_raw_escape.  The bytes
 * are the same as writing piece by piece with fputc, only fewer stdio calls
 * (analyze writes every call this way, docs/performance.md). */
struct jbuf {
	size_t n;
	char b[256];
};

static void jb_flush(struct json *j, struct jbuf *x)
{
	if (x->n)
		fwrite(x->b, 1, x->n, j->f);
	x->n = 0;
}

static void jb_put(struct json *j, struct jbuf *x, const void *s, size_t n)
{
	if (n > sizeof(x->b) - x->n)
		jb_flush(j, x);
	if (n > sizeof(x->b)) {
		fwrite(s, 1, n, j->f);
		return;
	}
	memcpy(x->b + x->n, s, n);
	x->n += n;
}

static bool plain(uint8_t c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* s as a JSON string */
static void jb_str(struct json *j, struct jbuf *x, const void *sv, size_t n)
{
	const uint8_t *s = sv;
	size_t i = 0;
	if (n + 2 <= sizeof(x->b))
		while (i < n && plain(s[i]))
			i++;
	if (i < n || n + 2 > sizeof(x->b)) {
		jb_flush(j, x);
		json_raw_escape(j->f, s, n);
		return;
	}
	if (n + 2 > sizeof(x->b) - x->n)
		jb_flush(j, x);
	x->b[x->n++] = '"';
	memcpy(x->b + x->n, s, n);
	x->n += n;
	x->b[x->n++] = '"';
}

static void sep(struct json *j, struct jbuf *x, const char *key)
{
	if (j->need_comma[j->depth])
		jb_put(j, x, ",", 1);
	j->need_comma[j->depth] = true;
	if (j->pretty && j->depth > 0) {
		jb_put(j, x, "\n", 1);
		for (int i = 0; i < j->depth; i++)
			jb_put(j, x, "  ", 2);
	}
	if (key) {
		jb_str(j, x, key, __builtin_strlen(key));
		jb_put(j, x, ":", 1);
	}
}

static void open_(struct json *j, const char *key, char c)
{
	struct jbuf x = { 0 };
	sep(j, &x, key);
	jb_put(j, &x, &c, 1);
	jb_flush(j, &x);
	if (j->depth < 63)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_(struct json *j, char c)
{
	bool had = j->need_comma[j->depth];
	if (j->depth > 0)
		j->depth--;
	if (j->pretty && had) {
		fputc('\n', j->f);
		for (int i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	fputc(c, j->f);
}

void json_obj_open(struct json *j, const char *key) { open_(j, key, '{'); }
void json_obj_close(struct json *j) { close_(j, '}'); }
void json_arr_open(struct json *j, const char *key) { open_(j, key, '['); }
void json_arr_close(struct json *j) { close_(j, ']'); }

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	size_t need;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

/* Bytes written as they are (printable ASCII but the two that need a
 * backslash) go out in runs: one fwrite per run, not a fputc per byte. */
void json_raw_escape(FILE *f, const void *sv, size_t n)
{
	const uint8_t *s = sv;
	fputc('"', f);
	for (size_t i = 0; i < n;) {
		size_t r = i;
		while (r < n && plain(s[r]))
			r++;
		if (r > i) {
			fwrite(s + i, 1, r - i, f);
			i = r;
			continue;
		}
		uint8_t c = s[i];
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n': fputs("\\n", f); break;
			case '\r': fputs("\\r", f); break;
			case '\t': fputs("\\t", f); break;
			default: fprintf(f, "\\u%04x", c); break;
			}
			i++;
		} else {
			size_t l = utf8_len(s + i, n - i);
			if (l == 0) {
				fprintf(f, "\\u%04x", c);
				i++;
			} else {
				fwrite(s + i, 1, l, f);
				i += l;
			}
		}
	}
	fputc('"', f);
}

/* Writes v in decimal (as "%" PRIu64; at least min_digits, zero-padded)
 * backwards ending just before end; returns where it starts. */
static char *fmt_u64(char *end, uint64_t v, int min_digits)
{
	char *p = end;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
		min_digits--;
	} while (v || min_digits > 0);
	return p;
}

void json_str(struct json *j, const char *key, const char *s)
{
	if (!s) {
		json_null(j, key);
		return;
	}
	json_strn(j, key, s, __builtin_strlen(s));
}

void json_strn(struct json *j, const char *key, const void *s, size_t n)
{
	struct jbuf x = { 0 };
	sep(j, &x, key);
	jb_str(j, &x, s, n);
	jb_flush(j, &x);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	struct jbuf x = { 0 };
	char b[24], *e = b + sizeof(b);
	sep(j, &x, key);
	char *p = fmt_u64(e, v, 1);
	jb_put(j, &x, p, (size_t)(e - p));
	jb_flush(j, &x);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	struct jbuf x = { 0 };
	char b[24], *e = b + sizeof(b);
	sep(j, &x, key);
	char *p = fmt_u64(e, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, 1);
	if (v < 0)
		*--p = '-';
	jb_put(j, &x, p, (size_t)(e - p));
	jb_flush(j, &x);
}

void json_bool(struct json *j, const char *key, bool v)
{
	struct jbuf x = { 0 };
	sep(j, &x, key);
	jb_put(j, &x, v ? "true" : "false", v ? 4 : 5);
	jb_flush(j, &x);
}

void json_null(struct json *j, const char *key)
{
	struct jbuf x = { 0 };
	sep(j, &x, key);
	jb_put(j, &x, "null", 4);
	jb_flush(j, &x);
}

void json_time(struct json *j, const char *key, uint64_t us)
{
	if (!us) {
		json_null(j, key);
		return;
	}
	struct jbuf x = { 0 };
	char b[48], *e = b + sizeof(b);
	sep(j, &x, key);
	char *p = fmt_u64(e, us % 1000000u, 6);
	*--p = '.';
	p = fmt_u64(p, us / 1000000u, 1);
	jb_put(j, &x, p, (size_t)(e - p));
	jb_flush(j, &x);
}
