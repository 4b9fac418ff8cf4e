/*
 * analyze.c - report sink for `rtpvault analyze` (see analyze.h).
 */
#include "analyze.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "orphan.h"

struct report {
	uint64_t invite_us;
	uint64_t id;
	char *text;
	size_t len;
};

struct analyze {
	FILE *out;
	bool json;
	size_t cap;
	size_t n;
	struct report *r;
	bool started;
	bool any_call;
	uint64_t calls;
};

struct analyze *analyze_new(FILE *out, bool json, size_t report_buffer)
{
	struct analyze *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->out = out;
	a->json = json;
	a->cap = report_buffer ? report_buffer : 1;
	return a;
}

void analyze_free(struct analyze *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->r[i].text);
	free(a->r);
	free(a);
}

static void fmt_ep(char *buf, size_t n, const struct ip_addr *a, uint16_t port)
{
	ip_addr_format(a, port, true, buf, n);
}

static void write_json_call(FILE *f, const struct rv_call *c)
{
	struct json j;
	char ep[64];
	json_init(&j, f, false);
	json_obj_open(&j, NULL);
	json_strn(&j, "call_id", c->call_id, c->call_id_len);
	json_str(&j, "caller", c->caller);
	json_str(&j, "callee", c->callee);
	json_str(&j, "state", call_outcome_name(call_outcome(c)));
	if (c->final_status)
		json_i64(&j, "status", c->final_status);
	else
		json_null(&j, "status");
	json_time(&j, "invite_time", c->invite_us);
	json_time(&j, "answer_time", c->answer_us);
	json_time(&j, "end_time", c->end_us);
	json_str(&j, "end_reason", end_reason_name(c->end_reason));
	json_u64(&j, "sip_messages", c->sip_messages);
	json_u64(&j, "rtcp_packets", c->rtcp_packets);
	json_arr_open(&j, "streams");
	for (const struct list *l = c->streams.next; l != &c->streams; l = l->next) {
		const struct rv_stream *s = container_of(l, struct rv_stream, call_link);
		if (s->packets + s->event_packets == 0)
			continue; /* never passed probation */
		json_obj_open(&j, NULL);
		json_str(&j, "party", party_name(s->party));
		fmt_ep(ep, sizeof(ep), &s->src, s->sport);
		json_str(&j, "src", ep);
		fmt_ep(ep, sizeof(ep), &s->dst, s->dport);
		json_str(&j, "dst", ep);
		json_arr_open(&j, "ssrcs");
		for (unsigned i = 0; i < s->n_ssrcs; i++) {
			char hx[16];
			snprintf(hx, sizeof(hx), "0x%08" PRIx32, s->ssrcs[i]);
			json_str(&j, NULL, hx);
		}
		json_arr_close(&j);
		json_arr_open(&j, "payload_types");
		for (unsigned pt = 0; pt < 128; pt++)
			if (s->pt_bits[pt >> 6] & (1ULL << (pt & 63)))
				json_u64(&j, NULL, pt);
		json_arr_close(&j);
		json_str(&j, "codec", stream_codec(s));
		json_u64(&j, "packets", s->packets);
		json_u64(&j, "event_packets", s->event_packets);
		json_u64(&j, "lost", stream_lost(s));
		json_u64(&j, "duplicates", s->dups);
		json_time(&j, "first_time", s->first_us);
		json_time(&j, "last_time", s->last_us);
		json_bool(&j, "port_only_match", s->port_only);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_arr_open(&j, "dtmf");
	for (unsigned i = 0; i < c->n_dtmf; i++) {
		const struct rv_dtmf *d = &c->dtmf[i];
		char dg[2] = { d->digit, 0 };
		json_obj_open(&j, NULL);
		json_str(&j, "digit", dg);
		json_str(&j, "source", dtmf_source_name(d->source));
		json_str(&j, "party", party_name(d->party));
		json_time(&j, "time", d->ts_us);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
}

static void fmt_time(char *buf, size_t n, uint64_t us)
{
	if (!us) {
		snprintf(buf, n, "-");
		return;
	}
	time_t t = (time_t)(us / 1000000u);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t k = strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + k, n - k, ".%03" PRIu64, (us % 1000000u) / 1000u);
}

/* One row per call (the columns of table_header()), then its streams and
 * digits indented under it. */
static void write_table_call(FILE *f, const struct rv_call *c)
{
	char t1[40], ep1[64], ep2[64], st[8];
	fmt_time(t1, sizeof(t1), c->invite_us);
	if (c->final_status)
		snprintf(st, sizeof(st), "%d", c->final_status);
	else
		snprintf(st, sizeof(st), "-");
	uint64_t end = c->end_us ? c->end_us : c->last_us;
	double dur = c->answer_us && end > c->answer_us ? (end - c->answer_us) / 1e6 : 0;
	fprintf(f, "%-23s  %-10s %-6s %-14s %8.1f  %-16s %-16s %.*s\n", t1, call_outcome_name(call_outcome(c)), st,
		end_reason_name(c->end_reason), dur, c->caller[0] ? c->caller : "-", c->callee[0] ? c->callee : "-",
		(int)(c->call_id_len > 200 ? 200 : c->call_id_len), c->call_id);
	for (const struct list *l = c->streams.next; l != &c->streams; l = l->next) {
		const struct rv_stream *s = container_of(l, struct rv_stream, call_link);
		if (s->packets + s->event_packets == 0)
			continue;
		fmt_ep(ep1, sizeof(ep1), &s->src, s->sport);
		fmt_ep(ep2, sizeof(ep2), &s->dst, s->dport);
		fprintf(f, "    stream %-6s %s -> %s %-6s ssrc", party_name(s->party), ep1, ep2,
			stream_codec(s)[0] ? stream_codec(s) : "-");
		for (unsigned i = 0; i < s->n_ssrcs; i++)
			fprintf(f, "%s0x%08" PRIx32, i ? "," : " ", s->ssrcs[i]);
		fprintf(f, " audio %" PRIu64 " events %" PRIu64 " lost %" PRIu64 " dup %" PRIu64 "\n", s->packets,
			s->event_packets, stream_lost(s), s->dups);
	}
	for (unsigned i = 0; i < c->n_dtmf; i++) {
		const struct rv_dtmf *d = &c->dtmf[i];
		fmt_time(t1, sizeof(t1), d->ts_us);
		fprintf(f, "    dtmf   %c from %-6s via %-8s at %s\n", d->digit, party_name(d->party),
			dtmf_source_name(d->source), t1);
	}
}

static void table_header(FILE *f)
{
	fprintf(f, "%-23s  %-10s %-6s %-14s %8s  %-16s %-16s %s\n", "invite (UTC)", "state", "status", "ended by",
		"talk s", "caller", "callee", "call-id");
}

static int cmp_report(const void *a, const void *b)
{
	const struct report *x = a, *y = b;
	if (x->invite_us != y->invite_us)
		return x->invite_us < y->invite_us ? -1 : 1;
	return x->id < y->id ? -1 : (x->id > y->id);
}

static void start(struct analyze *a)
{
	if (a->started)
		return;
	a->started = true;
	if (a->json)
		fputs("{\"calls\":[", a->out);
	else
		table_header(a->out);
}

static void flush(struct analyze *a)
{
	start(a);
	if (a->n)
		qsort(a->r, a->n, sizeof(*a->r), cmp_report);
	for (size_t i = 0; i < a->n; i++) {
		if (a->json && a->any_call)
			fputc(',', a->out);
		a->any_call = true;
		fwrite(a->r[i].text, 1, a->r[i].len, a->out);
		free(a->r[i].text);
	}
	a->n = 0;
}

static void on_call_end(void *ctx, struct rv_call *c)
{
	struct analyze *a = ctx;
	if (a->n == a->cap)
		flush(a);
	if (!a->r) {
		a->r = calloc(a->cap, sizeof(*a->r));
		if (!a->r)
			return;
	}
	struct report *r = &a->r[a->n];
	FILE *m = open_memstream(&r->text, &r->len);
	if (!m)
		return;
	if (a->json)
		write_json_call(m, c);
	else
		write_table_call(m, c);
	fclose(m);
	r->invite_us = c->invite_us;
	r->id = c->id;
	a->n++;
	a->calls++;
}

static const struct engine_sink sink = {
	.call_end = on_call_end,
};

const struct engine_sink *analyze_sink(void)
{
	return &sink;
}

struct orphan_ctx {
	struct analyze *a;
	struct json *j;
	unsigned n;
};

static void orphan_out(void *ctx, const struct orphan *s)
{
	struct orphan_ctx *o = ctx;
	char src[64], dst[64];
	fmt_ep(src, sizeof(src), &s->src, s->sport);
	fmt_ep(dst, sizeof(dst), &s->dst, s->dport);
	o->n++;
	if (!o->j) {
		if (o->n == 1)
			fprintf(o->a->out, "streams without signalling (RTP that no SDP announced; never recorded):\n");
		fprintf(o->a->out, "  %s -> %s ssrc", src, dst);
		for (unsigned i = 0; i < s->n_ssrcs; i++)
			fprintf(o->a->out, "%s0x%08" PRIx32, i ? "," : " ", s->ssrcs[i]);
		fprintf(o->a->out, " packets %" PRIu64 " events %" PRIu64 " digits %.*s\n", s->packets, s->event_packets,
			s->n_digits ? (int)s->n_digits : 1, s->n_digits ? s->digits : "-");
		return;
	}
	struct json *j = o->j;
	char hx[16];
	json_obj_open(j, NULL);
	json_str(j, "src", src);
	json_str(j, "dst", dst);
	json_arr_open(j, "ssrcs");
	for (unsigned i = 0; i < s->n_ssrcs; i++) {
		snprintf(hx, sizeof(hx), "0x%08" PRIx32, s->ssrcs[i]);
		json_str(j, NULL, hx);
	}
	json_arr_close(j);
	json_arr_open(j, "payload_types");
	for (unsigned pt = 0; pt < 128; pt++)
		if (s->pt_bits[pt >> 6] & (1ULL << (pt & 63)))
			json_u64(j, NULL, pt);
	json_arr_close(j);
	json_u64(j, "packets", s->packets);
	json_u64(j, "event_packets", s->event_packets);
	json_time(j, "first_time", s->first_us);
	json_time(j, "last_time", s->last_us);
	json_arr_open(j, "dtmf");
	for (unsigned i = 0; i < s->n_digits; i++) {
		char dg[2] = { s->digits[i], 0 };
		json_obj_open(j, NULL);
		json_str(j, "digit", dg);
		json_str(j, "source", "rfc4733");
		json_time(j, "time", s->digit_us[i]);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_obj_close(j);
}

void analyze_finish(struct analyze *a, struct engine *e, const struct rv_counters *cnt)
{
	flush(a);
	if (a->json) {
		struct json j;
		fputs("],", a->out);
		json_init(&j, a->out, false);
		j.need_comma[0] = false;
		fputs("\"orphan_streams\":", a->out);
		json_arr_open(&j, NULL);
		struct orphan_ctx oc = { a, &j, 0 };
		if (e)
			engine_each_orphan(e, orphan_out, &oc);
		json_arr_close(&j);
		fputs(",\"counters\":", a->out);
		json_init(&j, a->out, false);
		json_obj_open(&j, NULL);
		counters_json(cnt, &j);
		json_obj_close(&j);
		fputs("}\n", a->out);
	} else {
		fprintf(a->out, "\n%" PRIu64 " call%s\n\n", a->calls, a->calls == 1 ? "" : "s");
		struct orphan_ctx oc = { a, NULL, 0 };
		if (e)
			engine_each_orphan(e, orphan_out, &oc);
		if (oc.n)
			fputc('\n', a->out);
		fprintf(a->out, "counters (non-zero):\n");
		counters_print(cnt, a->out, 0);
	}
}
