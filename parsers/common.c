/*
 * common.c - span and address helpers shared by the parsers (see common.h).
 */
#include "common.h"

#include <arpa/inet.h>
#include <stdio.h>

bool span_eq_ci(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(s.p[i]) != ascii_lower((unsigned char)lit[i]))
			return false;
	return true;
}

bool span_starts_ci(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(s.p[i]) != ascii_lower((unsigned char)lit[i]))
			return false;
	return true;
}

static bool is_trim(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct span span_trim(struct span s)
{
	while (s.len && is_trim(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && is_trim(s.p[s.len - 1]))
		s.len--;
	return s;
}

int span_to_u64(struct span s, uint64_t max, uint64_t *out)
{
	s = span_trim(s);
	if (s.len == 0)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (!ascii_is_digit(s.p[i]))
			return -1;
		uint64_t d = (uint64_t)(s.p[i] - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

long span_find_byte(struct span s, uint8_t ch)
{
	const uint8_t *q = s.len ? memchr(s.p, ch, s.len) : NULL;
	return q ? (long)(q - s.p) : -1;
}

long span_find(struct span s, const char *needle, size_t n)
{
	if (n == 0)
		return 0;
	if (s.len < n)
		return -1;
	const void *q = memmem(s.p, s.len, needle, n);
	return q ? (long)((const uint8_t *)q - s.p) : -1;
}

int ip_addr_parse(struct span s, struct ip_addr *out)
{
	char buf[48];
	s = span_trim(s);
	if (s.len == 0 || s.len > 45)
		return -1;
	memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	uint8_t b[16];
	memset(out, 0, sizeof(*out));
	if (memchr(buf, ':', s.len)) {
		if (inet_pton(AF_INET6, buf, b) != 1)
			return -1;
		ip_addr_set6(out, b);
	} else {
		if (inet_pton(AF_INET, buf, b) != 1)
			return -1;
		ip_addr_set4(out, b);
	}
	return 0;
}

/* Decimal digits of v (< 100000) at p; returns the end. */
static char *put_dec(char *p, unsigned v)
{
	char t[5];
	int k = 0;
	do {
		t[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (k)
		*p++ = t[--k];
	return p;
}

size_t ip_addr_format(const struct ip_addr *a, uint16_t port, bool with_port, char *buf, size_t n)
{
	char t[INET6_ADDRSTRLEN];
	int w;
	if (n == 0)
		return 0;
	if (a->family == 4) {
		/* what inet_ntop and "%s:%u" write, without stdio (analyze and
		 * the recorder format four addresses per call) */
		char d[sizeof("255.255.255.255:65535")], *p = d;
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = put_dec(p, a->b[i]);
		}
		if (with_port) {
			*p++ = ':';
			p = put_dec(p, port);
		}
		size_t l = (size_t)(p - d);
		if (l > n - 1)
			l = n - 1;
		memcpy(buf, d, l);
		buf[l] = '\0';
		return l;
	}
	if (a->family == 6) {
		if (!inet_ntop(AF_INET6, a->b, t, sizeof(t)))
			strcpy(t, "?");
		w = with_port ? snprintf(buf, n, "[%s]:%u", t, port) : snprintf(buf, n, "%s", t);
	} else {
		w = snprintf(buf, n, "-");
	}
	if (w < 0)
		return 0;
	return (size_t)w < n ? (size_t)w : n - 1;
}
