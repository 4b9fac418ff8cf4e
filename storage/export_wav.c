/*
 * export_wav.c - a decrypted recording as a stereo WAV file.
 *
 * Output: RIFF/WAVE, PCM 16-bit little-endian, 8000 Hz, 2 channels: caller
 * (party 0) left, callee (party 1) right.
 *
 * Placement.  t0 is the capture time of the earliest well-formed RTP packet
 * of the call.  A party's streams are processed in order of their first
 * packet.  Within a stream, every synchronisation source (SSRC) is anchored
 * at the capture time of its first packet; a packet's samples go to
 *   (anchor capture time - t0) * 8000 + (ts - anchor ts) * 8000 / clock rate
 * where ts is extended across 32-bit wrap (RFC 3550 A.1 style signed
 * deltas).  A change of SSRC (also back to an earlier one) re-anchors and
 * resets the decoder.  A packet that would land before the start or past
 * the cap is dropped without moving the timestamp reference (16 in a row
 * re-anchor at the next packet's capture time).  Duplicates (same extended sequence number within a
 * 1024-packet window; 16-bit wrap handled) are skipped, first copy wins;
 * packets older than the window are skipped as too late.  Overlapping
 * packets: the later one overwrites.  Gaps, lost packets and packets between
 * a pause start and a pause end marker are silence.  Telephone events
 * (desc->event_pt) and comfort noise (PT 13) are not audio.
 *
 * Bounds.  Nothing is allocated from packet values: the channels are sparse
 * pages of samples allocated when first written, inside a fixed cap of
 * EXPORT_WAV_MAX_SECONDS; samples beyond it are dropped with a warning.
 * Clock rates outside 1000..192000 Hz fall back to the codec's default.
 *
 * Not done: resampling drift between RTP and capture clocks, packet loss
 * concealment, mixing of overlapping streams (the later one wins).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "export.h"
#include "store.h"

#define WAV_RATE 8000u
#define PAGE_SAMPLES 32768u
#define CAP_SAMPLES ((uint64_t)EXPORT_WAV_MAX_SECONDS * WAV_RATE)
#define N_PAGES ((size_t)((CAP_SAMPLES + PAGE_SAMPLES - 1) / PAGE_SAMPLES))
#define SEQWIN 1024
#define RATE_MIN 1000u
#define RATE_MAX 192000u
#define PT_CN 13
#define BAD_RUN_REANCHOR 16 /* consecutive unplaceable packets before re-anchoring */
#define EXT_LIMIT ((int64_t)1 << 50) /* extended timestamps never get near overflow */


/* Appends a "; "-separated warning. */
static void warnf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warnf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	if (!err || errlen == 0)
		return;
	used = strnlen(err, errlen);
	if (used + 3 >= errlen)
		return;
	if (used) {
		memcpy(err + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

/* ---- sparse channel ---- */
struct chan {
	int16_t **pages; /* N_PAGES entries, NULL = silence */
	uint64_t end;    /* one past the last sample written */
};

static int chan_write(struct chan *c, uint64_t pos, const int16_t *x, size_t n, size_t *dropped)
{
	size_t i = 0;

	if (pos >= CAP_SAMPLES) {
		*dropped += n;
		return 0;
	}
	if (n > CAP_SAMPLES - pos) {
		*dropped += n - (size_t)(CAP_SAMPLES - pos);
		n = (size_t)(CAP_SAMPLES - pos);
	}
	while (i < n) {
		uint64_t at = pos + i;
		size_t pg = (size_t)(at / PAGE_SAMPLES), off = (size_t)(at % PAGE_SAMPLES);
		size_t run = PAGE_SAMPLES - off;

		if (run > n - i)
			run = n - i;
		if (!c->pages[pg]) {
			c->pages[pg] = calloc(PAGE_SAMPLES, sizeof(int16_t));
			if (!c->pages[pg])
				return -1;
		}
		memcpy(c->pages[pg] + off, x + i, run * sizeof(int16_t));
		i += run;
	}
	if (pos + n > c->end)
		c->end = pos + n;
	return 0;
}

/* ---- duplicate window over extended sequence numbers ---- */
struct seqwin {
	bool init;
	int64_t max;
	uint64_t bits[SEQWIN / 64];
};

static void sw_set(struct seqwin *w, int64_t e, bool on)
{
	uint64_t b = (uint64_t)e & (SEQWIN - 1);

	if (on)
		w->bits[b / 64] |= (uint64_t)1 << (b % 64);
	else
		w->bits[b / 64] &= ~((uint64_t)1 << (b % 64));
}

static bool sw_test(const struct seqwin *w, int64_t e)
{
	uint64_t b = (uint64_t)e & (SEQWIN - 1);

	return (w->bits[b / 64] >> (b % 64)) & 1u;
}

/* 0 new, 1 duplicate, 2 older than the window. */
static int sw_check(struct seqwin *w, uint16_t seq)
{
	int64_t e;

	if (!w->init) {
		memset(w->bits, 0, sizeof(w->bits));
		w->init = true;
		w->max = seq;
		sw_set(w, seq, true);
		return 0;
	}
	e = w->max + (int16_t)(uint16_t)(seq - (uint16_t)w->max);
	if (e > w->max) {
		if (e - w->max >= SEQWIN) {
			memset(w->bits, 0, sizeof(w->bits));
		} else {
			int64_t x;

			for (x = w->max + 1; x <= e; x++)
				sw_set(w, x, false);
		}
		w->max = e;
		sw_set(w, e, true);
		return 0;
	}
	if (w->max - e >= SEQWIN)
		return 2;
	if (sw_test(w, e))
		return 1;
	sw_set(w, e, true);
	return 0;
}

/* ---- per-stream decode ---- */
struct warns {
	size_t bad_rtp, dup, late, capped, decode_err, unknown_pt, bad_party;
};

struct sstate {
	bool have;
	uint32_t ssrc;
	uint64_t anchor_pos;
	uint32_t last_ts;
	int64_t ext;
	struct seqwin win;
	bool paused;
	unsigned bad_run;
	struct codec_dec *dec[CODEC_N_IDS];
};

static uint32_t pick_rate(uint32_t r, enum codec_id id)
{
	return (r >= RATE_MIN && r <= RATE_MAX) ? r : codec_default_rate(id);
}

static int render_stream(const struct export_stream *st, uint64_t t0, struct chan *c, int16_t *tmp,
			 struct warns *w, bool *unknown)
{
	const struct rec_stream *d = st->desc;
	enum codec_id main_id = codec_identify(d->codec, d->audio_pt);
	uint32_t main_rate = pick_rate(d->rate, main_id);
	struct sstate ss;
	size_t i;
	int rc = 0, k;

	memset(&ss, 0, sizeof(ss));
	if (main_id == CODEC_UNKNOWN)
		*unknown = true;
	for (i = 0; i < st->n && rc == 0; i++) {
		const struct export_pkt *p = &st->pkts[i];
		struct codec_rtp r;
		enum codec_id id;
		uint32_t rate;
		int64_t rel, pos, ext;
		long got;

		if (p->kind == CHUNK_PAUSE_START) {
			ss.paused = true;
			continue;
		}
		if (p->kind == CHUNK_PAUSE_END) {
			ss.paused = false;
			continue;
		}
		if (p->kind != CHUNK_RTP || ss.paused)
			continue;
		if (codec_rtp_read(p->data, p->len, &r) < 0) {
			w->bad_rtp++;
			continue;
		}
		if ((d->event_pt != 255 && r.pt == d->event_pt) || r.pt == PT_CN)
			continue;
		if (r.pt == d->audio_pt) {
			id = main_id;
			rate = main_rate;
		} else {
			id = codec_identify(NULL, r.pt);
			rate = codec_default_rate(id);
			if (id == CODEC_UNKNOWN) {
				w->unknown_pt++;
				continue;
			}
		}
		if (!ss.have || r.ssrc != ss.ssrc) {
			uint64_t dus = p->ts_us - t0; /* t0 is the minimum */

			ss.have = true;
			ss.ssrc = r.ssrc;
			ss.anchor_pos = dus / 1000000u * WAV_RATE + dus % 1000000u * WAV_RATE / 1000000u;
			ss.last_ts = r.ts;
			ss.ext = 0;
			ss.bad_run = 0;
			ss.win.init = false;
			for (k = 0; k < CODEC_N_IDS; k++)
				if (ss.dec[k] && codec_dec_reset(ss.dec[k]) < 0) {
					codec_dec_free(ss.dec[k]);
					ss.dec[k] = NULL;
				}
		}
		switch (sw_check(&ss.win, r.seq)) {
		case 1:
			w->dup++;
			continue;
		case 2:
			w->late++;
			continue;
		default:
			break;
		}
		ext = ss.ext + (int32_t)(r.ts - ss.last_ts);
		pos = -1;
		if (ext <= EXT_LIMIT && ext >= -EXT_LIMIT && ss.anchor_pos < CAP_SAMPLES) {
			rel = ext * (int64_t)WAV_RATE / (int64_t)rate;
			pos = (int64_t)ss.anchor_pos + rel;
		}
		if (pos < 0 || (uint64_t)pos >= CAP_SAMPLES) {
			/* a wild timestamp does not move the reference, so one bad
			 * packet cannot push the rest out; a run of them re-anchors */
			w->capped++;
			if (++ss.bad_run >= BAD_RUN_REANCHOR)
				ss.have = false;
			continue;
		}
		ss.bad_run = 0;
		ss.ext = ext;
		ss.last_ts = r.ts;
		if (id == CODEC_UNKNOWN) {
			/* silence, but the file covers the stream's span */
			if ((uint64_t)pos > c->end)
				c->end = (uint64_t)pos;
			continue;
		}
		if (!ss.dec[id]) {
			ss.dec[id] = codec_dec_new(id);
			if (!ss.dec[id]) {
				rc = -1;
				break;
			}
		}
		got = codec_decode(ss.dec[id], r.payload, r.payload_len, tmp, CODEC_MAX_SAMPLES);
		if (got < 0) {
			w->decode_err++;
			continue;
		}
		{
			size_t dropped = 0;

			if (chan_write(c, (uint64_t)pos, tmp, (size_t)got, &dropped) < 0)
				rc = -1;
			if (dropped)
				w->capped++;
		}
	}
	for (k = 0; k < CODEC_N_IDS; k++)
		codec_dec_free(ss.dec[k]);
	return rc;
}

/* ---- file ---- */
static void le16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	le16(p, v);
	le16(p + 2, v >> 16);
}

static int write_wav(FILE *f, const struct chan *l, const struct chan *r, uint64_t frames)
{
	static const uint8_t zeros[4096];
	uint8_t h[44], buf[4096];
	uint64_t data = frames * 4, at = 0;

	memcpy(h, "RIFF", 4);
	le32(h + 4, (uint32_t)(36 + data));
	memcpy(h + 8, "WAVEfmt ", 8);
	le32(h + 16, 16);
	le16(h + 20, 1);
	le16(h + 22, 2);
	le32(h + 24, WAV_RATE);
	le32(h + 28, WAV_RATE * 4);
	le16(h + 32, 4);
	le16(h + 34, 16);
	memcpy(h + 36, "data", 4);
	le32(h + 40, (uint32_t)data);
	if (fwrite(h, 1, sizeof(h), f) != sizeof(h))
		return -1;
	while (at < frames) {
		/* one page-aligned block at a time; silent blocks are written in bulk */
		size_t pg = (size_t)(at / PAGE_SAMPLES), i;
		const int16_t *lp = l->pages[pg], *rp = r->pages[pg];
		uint64_t stop = (uint64_t)(pg + 1) * PAGE_SAMPLES;
		size_t used = 0;

		if (stop > frames)
			stop = frames;
		if (!lp && !rp) {
			while (at < stop) {
				size_t k = sizeof(zeros) / 4;

				if (k > stop - at)
					k = (size_t)(stop - at);
				if (fwrite(zeros, 4, k, f) != k)
					return -1;
				at += k;
			}
			continue;
		}
		for (; at < stop; at++) {
			i = (size_t)(at % PAGE_SAMPLES);
			le16(buf + used, (uint16_t)(lp ? lp[i] : 0));
			le16(buf + used + 2, (uint16_t)(rp ? rp[i] : 0));
			used += 4;
			if (used == sizeof(buf)) {
				if (fwrite(buf, 1, used, f) != used)
					return -1;
				used = 0;
			}
		}
		if (used && fwrite(buf, 1, used, f) != used)
			return -1;
	}
	return 0;
}

struct order {
	uint64_t first;
	bool any;
	size_t idx;
};

static int order_cmp(const void *a, const void *b)
{
	const struct order *x = a, *y = b;

	if (x->any != y->any)
		return x->any ? -1 : 1;
	if (x->any && x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

int export_wav(const char *path, const struct export_stream *s, size_t n, char *err, size_t errlen)
{
	struct chan ch[2] = { { NULL, 0 }, { NULL, 0 } };
	struct order *ord = NULL;
	struct warns w;
	int16_t *tmp = NULL;
	uint64_t t0 = UINT64_MAX, frames;
	size_t k, i, n_unknown = 0;
	const char *unknown_name = NULL;
	int rc = -1, fd;
	FILE *f = NULL;

	memset(&w, 0, sizeof(w));
	export_errf(err, errlen, "%s", "");
	if (!path || (n && !s)) {
		export_errf(err, errlen, "export_wav: bad arguments");
		return -1;
	}
	for (k = 0; k < n; k++)
		if (!s[k].desc || (s[k].n && !s[k].pkts)) {
			export_errf(err, errlen, "stream %zu: no description or packets", k);
			return -1;
		}
	ch[0].pages = calloc(N_PAGES, sizeof(int16_t *));
	ch[1].pages = calloc(N_PAGES, sizeof(int16_t *));
	tmp = malloc(CODEC_MAX_SAMPLES * sizeof(int16_t));
	ord = calloc(n ? n : 1, sizeof(*ord));
	if (!ch[0].pages || !ch[1].pages || !tmp || !ord) {
		export_errf(err, errlen, "out of memory");
		goto out;
	}
	for (k = 0; k < n; k++) {
		ord[k].idx = k;
		if (s[k].desc->party > 1)
			continue;
		for (i = 0; i < s[k].n; i++) {
			const struct export_pkt *p = &s[k].pkts[i];
			struct codec_rtp r;

			if (p->kind != CHUNK_RTP || codec_rtp_read(p->data, p->len, &r) < 0)
				continue;
			if (!ord[k].any) {
				ord[k].any = true;
				ord[k].first = p->ts_us;
			}
			if (p->ts_us < t0)
				t0 = p->ts_us;
		}
	}
	if (n > 1)
		qsort(ord, n, sizeof(*ord), order_cmp);
	for (k = 0; k < n; k++) {
		const struct export_stream *st = &s[ord[k].idx];
		bool unknown = false;

		if (st->desc->party > 1) {
			w.bad_party++;
			continue;
		}
		if (!ord[k].any)
			continue;
		if (render_stream(st, t0, &ch[st->desc->party], tmp, &w, &unknown) < 0) {
			export_errf(err, errlen, "out of memory decoding stream %zu", ord[k].idx);
			goto out;
		}
		if (unknown) {
			n_unknown++;
			if (!unknown_name)
				unknown_name = st->desc->codec;
		}
	}

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "wb"))) {
		export_errf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		goto out;
	}
	frames = ch[0].end > ch[1].end ? ch[0].end : ch[1].end;
	if (write_wav(f, &ch[0], &ch[1], frames) < 0) {
		export_errf(err, errlen, "%s: write failed: %s", path, strerror(errno));
		fclose(f);
		unlink(path);
		goto out;
	}
	if (fclose(f) != 0) {
		export_errf(err, errlen, "%s: write failed: %s", path, strerror(errno));
		unlink(path);
		goto out;
	}
	rc = 0;
	if (n_unknown) {
		/* the name is the stream's own NUL-terminated field; bound it anyway */
		warnf(err, errlen, "%zu stream(s) with unknown codec (first: \"%.23s\"): silence", n_unknown,
		      unknown_name ? unknown_name : "");
	}
	if (w.bad_party)
		warnf(err, errlen, "%zu stream(s) with party other than caller/callee ignored", w.bad_party);
	if (w.bad_rtp)
		warnf(err, errlen, "%zu malformed RTP packets skipped", w.bad_rtp);
	if (w.unknown_pt)
		warnf(err, errlen, "%zu packets with unknown payload type skipped", w.unknown_pt);
	if (w.decode_err)
		warnf(err, errlen, "%zu packets did not decode", w.decode_err);
	if (w.late)
		warnf(err, errlen, "%zu packets too late to place", w.late);
	if (w.capped)
		warnf(err, errlen, "%zu packets outside the %u s length cap dropped", w.capped,
		      EXPORT_WAV_MAX_SECONDS);
out:
	for (k = 0; k < 2; k++) {
		if (!ch[k].pages)
			continue;
		for (i = 0; i < N_PAGES; i++)
			free(ch[k].pages[i]);
		free(ch[k].pages);
	}
	free(tmp);
	free(ord);
	return rc;
}
