/*
 * common.h - the vocabulary every untrusted-input parser shares.
 *
 * A span is a borrowed view (pointer + length) into a parser's input; it is
 * never NUL-terminated and lives exactly as long as the input buffer.  A
 * cursor walks an input with checked getters: every read either succeeds
 * inside [p, p+len) or returns false and leaves the cursor unchanged.  No
 * parser reads a byte except through a cursor or a span-bounded loop.
 *
 * ASCII helpers deliberately avoid <ctype.h>: locale must not change parsing.
 * Depends on libc only.
 */
#ifndef RV_PARSERS_COMMON_H
#define RV_PARSERS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct span {
	const uint8_t *p;
	size_t len;
};

static inline struct span span_make(const void *p, size_t len)
{
	struct span s = { (const uint8_t *)p, len };
	return s;
}

struct cursor {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static inline void cur_init(struct cursor *c, const uint8_t *p, size_t len)
{
	c->p = p;
	c->len = len;
	c->off = 0;
}

static inline size_t cur_left(const struct cursor *c)
{
	return c->len - c->off;
}

static inline const uint8_t *cur_ptr(const struct cursor *c)
{
	return c->p + c->off;
}

static inline bool cur_skip(struct cursor *c, size_t n)
{
	if (n > cur_left(c))
		return false;
	c->off += n;
	return true;
}

static inline bool cur_take(struct cursor *c, size_t n, const uint8_t **out)
{
	if (n > cur_left(c))
		return false;
	*out = c->p + c->off;
	c->off += n;
	return true;
}

static inline bool cur_u8(struct cursor *c, uint8_t *v)
{
	if (cur_left(c) < 1)
		return false;
	*v = c->p[c->off++];
	return true;
}

static inline bool cur_peek_u8(const struct cursor *c, size_t at, uint8_t *v)
{
	if (at >= cur_left(c))
		return false;
	*v = c->p[c->off + at];
	return true;
}

static inline bool cur_be16(struct cursor *c, uint16_t *v)
{
	if (cur_left(c) < 2)
		return false;
	*v = (uint16_t)((c->p[c->off] << 8) | c->p[c->off + 1]);
	c->off += 2;
	return true;
}

static inline bool cur_be32(struct cursor *c, uint32_t *v)
{
	if (cur_left(c) < 4)
		return false;
	*v = ((uint32_t)c->p[c->off] << 24) | ((uint32_t)c->p[c->off + 1] << 16) |
	     ((uint32_t)c->p[c->off + 2] << 8) | (uint32_t)c->p[c->off + 3];
	c->off += 4;
	return true;
}

/* Reads of a known-long-enough buffer (caller has checked len). */
static inline uint16_t rd_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t rd_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* ASCII only, locale-free. */
static inline int ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static inline bool ascii_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline bool ascii_is_ws(int c)
{
	return c == ' ' || c == '\t';
}

/* true when s equals the NUL-terminated literal, ASCII case-insensitive. */
bool span_eq_ci(struct span s, const char *lit);
/* true when s begins with lit, ASCII case-insensitive. */
bool span_starts_ci(struct span s, const char *lit);
/* s without leading/trailing SP, HT, CR, LF. */
struct span span_trim(struct span s);
/* Decimal digits only (after trimming), no sign; fails (returns -1) on an
 * empty span, any non-digit, or a value above max.  Never overflows. */
int span_to_u64(struct span s, uint64_t max, uint64_t *out);
/* Index of the first occurrence of byte ch in s, or -1. */
long span_find_byte(struct span s, uint8_t ch);
/* Index of the first occurrence of needle (len n) in s, or -1. */
long span_find(struct span s, const char *needle, size_t n);

/* An IPv4 or IPv6 address.  family is 4 or 6 (0 = none); an IPv4 address
 * sits in b[0..3] and b[4..15] are zero, so memcmp over the struct works. */
struct ip_addr {
	uint8_t family;
	uint8_t pad[3];
	uint8_t b[16];
};

static inline bool ip_addr_eq(const struct ip_addr *a, const struct ip_addr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, 16) == 0;
}

static inline void ip_addr_set4(struct ip_addr *a, const uint8_t *b4)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	memcpy(a->b, b4, 4);
}

static inline void ip_addr_set6(struct ip_addr *a, const uint8_t *b16)
{
	memset(a, 0, sizeof(*a));
	a->family = 6;
	memcpy(a->b, b16, 16);
}

static inline bool ip_addr_is_unspec(const struct ip_addr *a)
{
	static const uint8_t z[16];
	return a->family == 0 || memcmp(a->b, z, 16) == 0;
}

/* Text form "1.2.3.4" or an IPv6 literal (no brackets) -> address.
 * Returns 0, or -1 when s is not an address or is longer than 45 bytes. */
int ip_addr_parse(struct span s, struct ip_addr *out);
/* "1.2.3.4:5060" or "[2001:db8::1]:5060" (port 0 omitted when with_port is
 * false).  Always NUL-terminates when n > 0; returns the length written. */
size_t ip_addr_format(const struct ip_addr *a, uint16_t port, bool with_port, char *buf, size_t n);

#endif
