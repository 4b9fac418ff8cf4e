/*
 * bench_pipeline.c - per-stage cost of the recorder pipeline, from memory.
 *
 * Loads a whole pcap into RAM (so disk and libpcap are out of the picture),
 * then replays it RUNS times through each of these pipelines, every run with
 * fresh state:
 *
 *   decode    decode_frame() on every frame (L2..L4 only)
 *   engine    engine_packet() with a null sink: decode, IP/TCP reassembly,
 *             SIP/SDP parsing, dialog tracking, media lookup, streams, the
 *             in-band DTMF detector on G.711
 *   recorder  engine + the recorder sink (consent gate, pending audio,
 *             AES-256-GCM chunk sealing) + the real writer thread + an LMDB
 *             store in a fresh temp dir with a freshly generated key; the
 *             clock stops when every item is committed (writer_sync)
 *   workers   the same on the multi-worker pipeline (engine/pipeline.h) with
 *             N worker threads (--workers N, default 2): call control on
 *             this thread (pipeline_frame for every frame, the frames stay
 *             in RAM so nothing is copied), worker w on a pthread looping on
 *             pipeline_work until it has finished, one recorder per worker,
 *             all on the one writer; the clock stops when every item is
 *             committed, as for the recorder run.  Only in builds with DPDK
 *             (the rings are rte_ring, no EAL needed): otherwise pipeline_new
 *             fails and the run is reported as not available.
 *
 * and, to split the engine and the recorder into the stages the issue names
 * (every one in ns per packet of the whole trace, median (min-max) of the
 * per-run values, each run's parts paired):
 *
 *   lookup    decode_frame() + one stream lookup per UDP datagram, as
 *             engine/media.c's stream_find does it (keyed SipHash of the
 *             5-tuple through rv_hash_u64_u32 / rv_hash, the util.h hash
 *             table, key compare), on a table of struct rv_stream built
 *             before the clock starts with every UDP flow off the SIP ports;
 *             stage = lookup - decode
 *   sip       the engine with the null sink fed only the frames it hands to
 *             SIP by port (UDP/TCP with a port in [sip] ports, as engine.c's
 *             is_sip_port), minus decode_frame() of those frames; times the
 *             SIP frames' share of all frames; the median of SIP_REPS paired
 *             repetitions per run (they take tens of milliseconds)
 *   media     the rest of the null-sink engine: engine - decode - sip -
 *             lookup (RTP parsing and stream tracking, stream creation, the
 *             in-band DTMF detector, the dispatch and housekeeping)
 *   seal      aead_seal_ctx() as the recorder calls it, on plaintexts of the
 *             recorder run's mean chunk size (its chunks' bytes in the store),
 *             in a loop: ns per chunk times the chunks that run sealed
 *   gate      the engine thread's CPU in the recorder run minus the engine
 *             run's, minus seal: the consent gate, held audio, chunk building
 *
 * Timings are CLOCK_MONOTONIC wall time per packet, except where CPU is
 * said.  The writer thread's CPU time (process CPU minus the engine
 * thread's CPU) is the LMDB commit cost (the writer runs on another core in
 * parallel).
 *
 * Memory: glibc mallinfo2() (all arenas) sampled every 16384 packets gives
 * the engine's bytes per tracked call at the peak number of calls (null
 * sink: call + streams + expectations + detector state + probation
 * buffers).  The recorder run minus the engine run at the same packet
 * index, at its largest, is the recorder's RAM (held pre-consent audio,
 * chunk buffers, writer queue, per-call state); divided by the calls whose
 * audio was held (decided or timed out, not exempt) it is an upper bound of
 * the pre-consent RAM per call.
 *
 * After every recorder run the store is checked against the truth given on
 * the command line: number of records, RTP packets kept, chunks in LMDB ==
 * chunks sealed, no writer errors.  A mismatch makes the program exit 2, so
 * the benchmark cannot pass by skipping work.
 *
 * Output: a human summary on stderr and "key value" lines on stdout for
 * scripts/bench.sh.  Timings are reported, never asserted.
 *
 * The workers run is checked against the same truth (records, packets kept
 * summed over the workers' recorders, chunks in LMDB == chunks sealed).  Its
 * CPU is split into call control (this thread), the workers (their thread
 * clocks, including their polling of empty rings) and the rest of the
 * process (the writer thread).  On a machine with fewer cores than busy
 * threads (call control + N workers + writer) its wall time is an
 * oversubscribed figure, not a scaling measurement.
 *
 * Does NOT: measure libpcap (scripts/bench.sh times `rtpvault capture -r`
 * for that) or the DPDK RX path (scripts/bench.sh runs `capture --dpdk`).
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "decode.h"
#include "engine.h"
#include "pipeline.h"
#include "recorder.h"
#include "store.h"
#include "writer.h"

#define SAMPLE_EVERY 16384u
#define MAX_RUNS 32

struct frame {
	uint64_t ts_us;
	uint32_t caplen, wirelen;
	const uint8_t *data;
};

struct trace {
	struct frame *f;
	size_t n;
	uint8_t *arena;
	size_t arena_len;
	enum dec_link link;
	uint64_t bytes;
};

struct opts {
	const char *pcap;
	int runs;
	const char *exempt_regex;
	long long truth_calls, truth_kept;
	double truth_call_minutes;
	long long truth_rtp_bytes;
	const char *tmpdir;
	int workers; /* pipeline workers of the "workers" run; 0: no such run */
};

static double now_ns(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct stat3 {
	double med, min, max;
};

/* Median, min and max of v[0..n) (n <= MAX_RUNS); v is left as it is, so
 * per-run differences can still pair the runs afterwards. */
static struct stat3 stat3_of(const double *v0, int n)
{
	double v[MAX_RUNS];
	memcpy(v, v0, (size_t)n * sizeof(*v));
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	struct stat3 s = { v[n / 2], v[0], v[n - 1] };
	if (n % 2 == 0)
		s.med = (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

static void put3(const char *key, struct stat3 s)
{
	printf("%s %.1f %.1f %.1f\n", key, s.med, s.min, s.max);
}

/* ---------------------------------------------------------------- loading */

static enum dec_link link_of(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB: return DEC_LINK_ETH;
	case DLT_LINUX_SLL: return DEC_LINK_SLL;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2: return DEC_LINK_SLL2;
#endif
	case DLT_RAW: return DEC_LINK_RAW;
	case DLT_NULL: return DEC_LINK_NULL;
	case DLT_LOOP: return DEC_LINK_LOOP;
	default: return DEC_LINK_ETH;
	}
}

static int load_trace(const char *path, struct trace *t)
{
	char eb[PCAP_ERRBUF_SIZE];
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "bench_pipeline: %s: %s\n", path, strerror(errno));
		return -1;
	}
	pcap_t *p = pcap_open_offline(path, eb);
	if (!p) {
		fprintf(stderr, "bench_pipeline: %s\n", eb);
		return -1;
	}
	memset(t, 0, sizeof(*t));
	t->link = link_of(pcap_datalink(p));
	t->arena = malloc((size_t)st.st_size); /* frames are never larger than the file */
	size_t cap = 1u << 20;
	t->f = malloc(cap * sizeof(*t->f));
	if (!t->arena || !t->f) {
		pcap_close(p);
		return -1;
	}
	struct pcap_pkthdr *h;
	const u_char *d;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
		if (t->n == cap) {
			cap *= 2;
			struct frame *nf = realloc(t->f, cap * sizeof(*t->f));
			if (!nf) {
				pcap_close(p);
				return -1;
			}
			t->f = nf;
		}
		if (t->arena_len + h->caplen > (size_t)st.st_size)
			break;
		memcpy(t->arena + t->arena_len, d, h->caplen);
		t->f[t->n] = (struct frame){ (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec, h->caplen,
					      h->len, t->arena + t->arena_len };
		t->arena_len += h->caplen;
		t->bytes += h->caplen;
		t->n++;
	}
	pcap_close(p);
	return t->n ? 0 : -1;
}

/* ---------------------------------------------------------------- memory sampling */

struct memtrack {
	size_t base;
	size_t *at;      /* heap in use above base at sample k */
	uint64_t *calls; /* tracked calls at sample k */
	size_t n, cap;
};

static size_t heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static void mem_sample(struct memtrack *m, struct engine *e)
{
	if (!m || m->n == m->cap)
		return;
	uint64_t c, s, x;
	engine_sizes(e, &c, &s, &x);
	size_t u = heap_used();
	m->at[m->n] = u > m->base ? u - m->base : 0;
	m->calls[m->n] = c;
	m->n++;
}

/* ---------------------------------------------------------------- stage (a): decode */

static double run_decode(const struct trace *t, uint64_t *sink)
{
	struct pkt pk;
	uint64_t acc = 0;
	double t0 = now_ns(CLOCK_MONOTONIC);
	for (size_t i = 0; i < t->n; i++) {
		int rc = decode_frame(t->link, t->f[i].data, t->f[i].caplen, &pk);
		acc += rc == 0 ? pk.dport + pk.payload_len : (uint64_t)-rc;
	}
	double t1 = now_ns(CLOCK_MONOTONIC);
	*sink += acc;
	return (t1 - t0) / (double)t->n;
}

/* ---------------------------------------------------------------- stage (b): engine, null sink */

static const struct engine_sink null_sink = { 0 };

static void feed(struct engine *e, const struct trace *t, struct memtrack *m)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct frame *f = &t->f[i];
		engine_packet(e, f->ts_us, f->data, f->caplen, f->wirelen);
		if (m && (i % SAMPLE_EVERY) == SAMPLE_EVERY - 1)
			mem_sample(m, e);
	}
}

static double run_engine(const struct rv_config *cfg, const struct trace *t, double *cpu_ns, struct memtrack *m,
			 uint64_t *calls_created, uint64_t *streams_created)
{
	struct engine *e = engine_new(cfg, &null_sink, NULL);
	if (!e)
		return -1;
	engine_set_link(e, t->link);
	if (m)
		m->base = heap_used();
	double c0 = now_ns(CLOCK_THREAD_CPUTIME_ID), t0 = now_ns(CLOCK_MONOTONIC);
	feed(e, t, m);
	engine_finish(e);
	double t1 = now_ns(CLOCK_MONOTONIC), c1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	struct rv_counters cn;
	engine_counters(e, &cn);
	*calls_created = cn.c[C_calls_created];
	*streams_created = cn.c[C_streams_created];
	engine_free(e);
	*cpu_ns = (c1 - c0) / (double)t->n;
	return (t1 - t0) / (double)t->n;
}

/* ---------------------------------------------------------------- SIP/SDP: the engine on the SIP frames only */

#define SIP_REPS 7 /* paired repetitions per run (decode, engine) of the SIP frames */

/* The frames the engine hands to SIP by port: decoded, not an IP fragment,
 * UDP or TCP with either port in [sip] ports (engine.c's is_sip_port; TCP
 * segments on those ports go to reassembly and then SIP).  sub shares t's
 * frames (only the index is copied). */
static int select_sip(const struct rv_config *cfg, const struct trace *t, struct trace *sub, uint64_t *tcp,
		      uint64_t *frags)
{
	memset(sub, 0, sizeof(*sub));
	sub->link = t->link;
	sub->f = malloc((t->n ? t->n : 1) * sizeof(*sub->f));
	if (!sub->f)
		return -1;
	*tcp = *frags = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct pkt pk;
		if (decode_frame(t->link, t->f[i].data, t->f[i].caplen, &pk) != 0)
			continue;
		if (pk.is_frag) {
			(*frags)++;
			continue;
		}
		if (pk.proto != DEC_IPPROTO_UDP && pk.proto != DEC_IPPROTO_TCP)
			continue;
		if (!config_port_in(cfg->sip_ports, pk.sport) && !config_port_in(cfg->sip_ports, pk.dport))
			continue;
		if (pk.proto == DEC_IPPROTO_TCP)
			(*tcp)++;
		sub->f[sub->n++] = t->f[i];
		sub->bytes += t->f[i].caplen;
	}
	struct frame *nf = realloc(sub->f, (sub->n ? sub->n : 1) * sizeof(*sub->f));
	if (nf)
		sub->f = nf;
	return 0;
}

/* ---------------------------------------------------------------- media lookup: flow hash + stream table */

/* engine/media.c's flow_hash, from public functions: the IPv4 5-tuple in 12
 * bytes (rv_hash_u64_u32), other families the 38-byte key (rv_hash). */
static uint64_t bench_flow_hash(const struct pkt *p)
{
	if (p->src.family == 4 && p->dst.family == 4) {
		uint32_t s4, d4;
		memcpy(&s4, p->src.b, 4);
		memcpy(&d4, p->dst.b, 4);
		return rv_hash_u64_u32((uint64_t)d4 << 32 | s4, (uint32_t)p->dport << 16 | p->sport);
	}
	uint8_t b[38];
	b[0] = p->src.family;
	memcpy(b + 1, p->src.b, 16);
	memcpy(b + 17, p->dst.b, 16);
	b[33] = (uint8_t)(p->sport >> 8);
	b[34] = (uint8_t)p->sport;
	b[35] = (uint8_t)(p->dport >> 8);
	b[36] = (uint8_t)p->dport;
	b[37] = p->dst.family;
	return rv_hash(b, sizeof(b));
}

/* engine/media.c's stream_find on a table of struct rv_stream. */
static struct rv_stream *bench_stream_find(const struct htab *tab, const struct pkt *p, uint64_t *hout)
{
	uint64_t h = bench_flow_hash(p);
	*hout = h;
	for (struct hnode *n = htab_first(tab, h); n; n = htab_next(n, h)) {
		struct rv_stream *s = container_of(n, struct rv_stream, hn);
		if (s->sport == p->sport && s->dport == p->dport && ip_addr_eq(&s->src, &p->src) &&
		    ip_addr_eq(&s->dst, &p->dst))
			return s;
	}
	return NULL;
}

static bool is_udp_media_candidate(const struct rv_config *cfg, const struct pkt *p)
{
	return p->proto == DEC_IPPROTO_UDP && !p->is_frag && !config_port_in(cfg->sip_ports, p->sport) &&
	       !config_port_in(cfg->sip_ports, p->dport);
}

/* Decode + one stream lookup per UDP datagram (as engine_packet's
 * media_udp(known_only) does for every one, SIP included), on a table
 * holding one struct rv_stream (calloc'd one by one, like media.c's) per
 * UDP flow off the SIP ports, built before the clock starts (table sized as
 * engine_new sizes the streams table).  Returns ns per packet of the whole
 * trace, decode included (the caller subtracts its decode run). */
static double run_lookup(const struct rv_config *cfg, const struct trace *t, uint64_t *sink, uint64_t *flows)
{
	struct htab tab;
	if (htab_init(&tab, 1024, (size_t)cfg->limits_max_streams) != 0)
		return -1;
	struct rv_stream **all = NULL;
	size_t nall = 0, cap = 0;
	struct pkt pk;
	uint64_t h;
	for (size_t i = 0; i < t->n; i++) {
		if (decode_frame(t->link, t->f[i].data, t->f[i].caplen, &pk) != 0 || !is_udp_media_candidate(cfg, &pk))
			continue;
		if (bench_stream_find(&tab, &pk, &h))
			continue;
		if (nall == cap) {
			cap = cap ? 2 * cap : 4096;
			struct rv_stream **na = realloc(all, cap * sizeof(*na));
			if (!na)
				return -1;
			all = na;
		}
		struct rv_stream *s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->src = pk.src;
		s->dst = pk.dst;
		s->sport = pk.sport;
		s->dport = pk.dport;
		htab_insert(&tab, &s->hn, h);
		all[nall++] = s;
	}
	*flows = nall;
	uint64_t acc = 0;
	double t0 = now_ns(CLOCK_MONOTONIC);
	for (size_t i = 0; i < t->n; i++) {
		int rc = decode_frame(t->link, t->f[i].data, t->f[i].caplen, &pk);
		acc += rc == 0 ? pk.dport + pk.payload_len : (uint64_t)-rc;
		if (rc == 0 && pk.proto == DEC_IPPROTO_UDP && !pk.is_frag) {
			struct rv_stream *s = bench_stream_find(&tab, &pk, &h);
			acc += s ? s->sport : h & 1;
		}
	}
	double t1 = now_ns(CLOCK_MONOTONIC);
	*sink += acc;
	for (size_t i = 0; i < nall; i++) {
		htab_remove(&tab, &all[i]->hn);
		free(all[i]);
	}
	free(all);
	htab_destroy(&tab);
	return (t1 - t0) / (double)t->n;
}

/* ---------------------------------------------------------------- sealing: AES-256-GCM of one chunk */

#define SEAL_LOOP 32768u
#define SEAL_KEYS 64u

/* aead_seal_ctx as engine/recorder.c's seal_chunk calls it (one context,
 * re-keyed with the call's data key per chunk; the chunk's nonce and AAD),
 * on plain_len-byte plaintexts, SEAL_LOOP times over SEAL_KEYS data keys.
 * The plaintext and the output stay in cache; the recorder's malloc of the
 * ciphertext and wipe of the plaintext are not in the loop.  Returns ns per
 * chunk, or -1. */
static double run_seal(size_t plain_len, uint64_t *sink)
{
	struct aead *a = aead_new();
	uint8_t *in = malloc(plain_len ? plain_len : 1), *out = malloc(plain_len + RV_TAG_LEN);
	struct rv_dek keys[SEAL_KEYS];
	if (!a || !in || !out) {
		aead_free(a);
		free(in);
		free(out);
		return -1;
	}
	for (size_t i = 0; i < plain_len; i++)
		in[i] = (uint8_t)(i * 131u + 7u);
	int bad = 0;
	for (unsigned k = 0; k < SEAL_KEYS; k++)
		bad |= dek_generate(&keys[k]);
	uint8_t aad[STORE_CHUNK_AAD_LEN], nonce[RV_NONCE_LEN];
	double t0 = now_ns(CLOCK_MONOTONIC);
	for (uint32_t i = 0; i < SEAL_LOOP; i++) {
		uint32_t seq = i / SEAL_KEYS;
		uint16_t idx = (uint16_t)(i & 1u);
		store_chunk_aad(1000u + (i % SEAL_KEYS), idx, seq, false, aad);
		store_chunk_nonce(idx, seq, nonce);
		bad |= aead_seal_ctx(a, keys[i % SEAL_KEYS].key, nonce, aad, sizeof(aad), in, plain_len, out);
	}
	double t1 = now_ns(CLOCK_MONOTONIC);
	*sink += out[plain_len];
	for (unsigned k = 0; k < SEAL_KEYS; k++)
		dek_wipe(&keys[k]);
	aead_free(a);
	free(in);
	free(out);
	return bad ? -1 : (t1 - t0) / SEAL_LOOP;
}

/* ---------------------------------------------------------------- stage (c): recorder + writer + LMDB */

struct rec_result {
	double wall_ns, engine_cpu_ns, writer_cpu_ns, engine_wall_ns;
	double workers_cpu_ns; /* pipeline: the worker threads' CPU (call control is engine_cpu_ns) */
	uint64_t records, chunks_in_store, chunk_bytes_in_store, rc[RC__COUNT];
	uint64_t held_calls; /* calls whose audio was held pending a decision */
	unsigned nworkers;   /* 0: the single engine; else pipeline workers */
	struct pipeline_wstats wst[PIPELINE_MAX_WORKERS];
	struct writer_stats ws;
	uint64_t file_bytes, used_bytes;
	bool ok;
	bool unavailable; /* the pipeline could not be made (a build without DPDK) */
	char why[256];
};

struct idlist {
	uint64_t *v;
	size_t n, cap;
	bool oom;
};

static int count_rec(void *ctx, const struct store_rec *rec, const uint8_t *sealed, size_t len)
{
	(void)sealed;
	(void)len;
	struct idlist *l = ctx;
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 4096;
		uint64_t *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv) {
			l->oom = true;
			return 1;
		}
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = rec->record_id;
	return 0;
}

struct chunkcount {
	uint64_t n, bytes; /* chunks, their sealed bytes (ciphertext + tag) */
};

static int count_chunk(void *ctx, uint16_t stream, uint32_t seq, const uint8_t *ct, size_t len)
{
	(void)stream;
	(void)seq;
	(void)ct;
	struct chunkcount *cc = ctx;
	cc->n++;
	cc->bytes += len;
	return 0;
}

static void rm_store(const char *dir)
{
	char p[1024];
	const char *names[] = { "store/data.mdb", "store/lock.mdb", "kek.key", "store", "" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		if (remove(p) != 0 && errno != ENOENT)
			fprintf(stderr, "bench_pipeline: cannot remove %s: %s\n", p, strerror(errno));
	}
}

/* A fresh store, key and writer in a temp dir: what every recording run starts from. */
struct bstore {
	char dir[512], storep[600];
	struct rv_config *cfg;
	struct rv_kek kek;
	struct store *st;
	struct writer *w;
};

static int bstore_open(const struct opts *o, const char *tag, int run, struct bstore *b)
{
	memset(b, 0, sizeof(*b));
	char conf[2048], keyf[600];
	snprintf(b->dir, sizeof(b->dir), "%s/bench_pipeline.%d.%s%d", o->tmpdir, (int)getpid(), tag, run);
	if (mkdir(b->dir, 0700) != 0) {
		fprintf(stderr, "bench_pipeline: mkdir %s: %s\n", b->dir, strerror(errno));
		return -1;
	}
	snprintf(keyf, sizeof(keyf), "%s/kek.key", b->dir);
	snprintf(b->storep, sizeof(b->storep), "%s/store", b->dir);
	snprintf(conf, sizeof(conf), "[exempt]\ncallee_regex = %s\n\n[storage]\npath = %s\nkey_file = %s\n",
		 o->exempt_regex ? o->exempt_regex : "", b->storep, keyf);
	if (config_load_string("bench", conf, &b->cfg, stderr) != 0)
		return -1;
	if (kek_create(keyf) != 0 || kek_load(keyf, &b->kek) != 0) {
		fprintf(stderr, "bench_pipeline: cannot create a key in %s\n", b->dir);
		config_free(b->cfg);
		return -1;
	}
	struct store_opts so = { .path = b->storep, .map_size = b->cfg->storage_map_size,
				 .map_grow = b->cfg->storage_map_grow, .map_max = b->cfg->storage_map_max };
	int rc = store_open(&so, &b->st);
	if (rc) {
		fprintf(stderr, "bench_pipeline: store %s: %s\n", b->storep, store_strerror(rc));
		kek_wipe(&b->kek);
		config_free(b->cfg);
		return -1;
	}
	char err[256] = "";
	b->w = writer_start(b->st, b->cfg, err, sizeof(err));
	if (!b->w) {
		fprintf(stderr, "bench_pipeline: %s\n", err[0] ? err : "cannot start the writer");
		return -1;
	}
	return 0;
}

/* After writer_stop: reads the store back, closes and removes it, and
 * checks it against the truth (r->rc, r->ws filled by the caller). */
static void bstore_close_and_check(const struct opts *o, const char *label, int run, struct bstore *b,
				   struct rec_result *r)
{
	struct store_rtxn *rt = NULL;
	struct idlist ids = { 0 };
	if (store_read_begin(b->st, &rt) == 0) {
		store_each_record(rt, count_rec, &ids);
		r->records = ids.n;
		struct chunkcount cc = { 0 };
		for (size_t i = 0; i < ids.n; i++)
			store_each_chunk(rt, ids.v[i], count_chunk, &cc);
		r->chunks_in_store = cc.n;
		r->chunk_bytes_in_store = cc.bytes;
		store_read_end(rt);
	}
	if (ids.oom)
		fprintf(stderr, "bench_pipeline: out of memory reading the store back\n");
	free(ids.v);
	uint64_t mapsz = 0;
	store_usage(b->st, &mapsz, &r->used_bytes);
	store_close(b->st);
	char dpath[700];
	snprintf(dpath, sizeof(dpath), "%s/data.mdb", b->storep);
	struct stat sb;
	if (stat(dpath, &sb) == 0)
		r->file_bytes = (uint64_t)sb.st_blocks * 512u;
	kek_wipe(&b->kek);
	config_free(b->cfg);
	rm_store(b->dir);

	r->ok = true;
	if (o->truth_calls >= 0 && r->records != (uint64_t)o->truth_calls) {
		fprintf(stderr, "bench_pipeline: CHECK FAILED %s run %d: %" PRIu64 " records in the store, truth %lld\n",
			label, run, r->records, o->truth_calls);
		r->ok = false;
	}
	if (o->truth_kept >= 0 && r->rc[RC_packets_kept] != (uint64_t)o->truth_kept) {
		fprintf(stderr, "bench_pipeline: CHECK FAILED %s run %d: %" PRIu64 " packets kept, truth %lld\n", label,
			run, r->rc[RC_packets_kept], o->truth_kept);
		r->ok = false;
	}
	if (r->chunks_in_store != r->rc[RC_chunks] || r->ws.errors || r->ws.map_full_drops ||
	    r->rc[RC_crypto_errors] || r->rc[RC_pending_bytes_persisted_without_consent]) {
		fprintf(stderr,
			"bench_pipeline: CHECK FAILED %s run %d: chunks in store %" PRIu64 " sealed %" PRIu64
			", writer errors %" PRIu64 " drops %" PRIu64 ", crypto errors %" PRIu64
			", persisted without consent %" PRIu64 "\n",
			label, run, r->chunks_in_store, r->rc[RC_chunks], r->ws.errors, r->ws.map_full_drops,
			r->rc[RC_crypto_errors], r->rc[RC_pending_bytes_persisted_without_consent]);
		r->ok = false;
	}
}

static int run_recorder(const struct opts *o, const struct trace *t, int run, struct memtrack *m,
			struct rec_result *r)
{
	memset(r, 0, sizeof(*r));
	struct bstore b;
	if (bstore_open(o, "r", run, &b) != 0)
		return -1;
	char err[256] = "";
	struct recorder *rec = recorder_new(b.cfg, &b.kek, b.w, err, sizeof(err));
	struct engine *e = rec ? engine_new(b.cfg, recorder_sink(), rec) : NULL;
	if (!e) {
		fprintf(stderr, "bench_pipeline: %s\n", err[0] ? err : "out of memory");
		return -1;
	}
	engine_set_link(e, t->link);
	if (m)
		m->base = heap_used();
	double p0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	double t0 = now_ns(CLOCK_MONOTONIC);
	feed(e, t, m);
	engine_finish(e);
	double te = now_ns(CLOCK_MONOTONIC), c1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	writer_sync(b.w);
	double t1 = now_ns(CLOCK_MONOTONIC), p1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	double n = (double)t->n;
	r->wall_ns = (t1 - t0) / n;
	r->engine_wall_ns = (te - t0) / n;
	r->engine_cpu_ns = (c1 - c0) / n;
	r->writer_cpu_ns = ((p1 - p0) - (c1 - c0)) / n;
	engine_free(e);
	writer_stats(b.w, &r->ws);
	writer_stop(b.w);
	recorder_counters(rec, r->rc);
	uint64_t states[CONSENT__COUNT];
	recorder_state_counts(rec, states);
	r->held_calls = states[CONSENT_GRANTED] + states[CONSENT_DENIED] + states[CONSENT_TIMEOUT] +
			states[CONSENT_WITHDRAWN];
	recorder_free(rec);

	/* the store must hold what the workload's truth says */
	bstore_close_and_check(o, "recorder", run, &b, r);
	return 0;
}

/* ---------------------------------------------------------------- the multi-worker pipeline */

#if RV_HAVE_DPDK
struct wthread {
	struct pipeline *pl;
	unsigned idx;
	double cpu_ns;
};

/* Worker w: its share of the pipeline until it has processed the finish.
 * Empty polls yield, then sleep briefly, so that an oversubscribed machine
 * gives the CPU to call control and the writer (as the DPDK RX lcores do). */
static void *worker_thread(void *arg)
{
	struct wthread *wt = arg;
	double c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	unsigned idle = 0;
	while (!pipeline_worker_finished(wt->pl, wt->idx)) {
		if (pipeline_work(wt->pl, wt->idx, 32) > 0) {
			idle = 0;
			continue;
		}
		if (++idle > 1024)
			usleep(20);
		else if (idle > 64)
			sched_yield();
	}
	wt->cpu_ns = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	return NULL;
}
#endif

/* The recorder run on the pipeline with nw workers.  Returns 0 with
 * r->unavailable set when this build cannot make a pipeline. */
static int run_workers(const struct opts *o, const struct trace *t, int run, unsigned nw, struct rec_result *r)
{
	memset(r, 0, sizeof(*r));
	r->nworkers = nw;
	struct bstore b;
	if (bstore_open(o, "w", run, &b) != 0)
		return -1;
	char err[256] = "";
	struct recorder *recs[PIPELINE_MAX_WORKERS] = { 0 };
	for (unsigned i = 0; i < nw; i++)
		if (!(recs[i] = recorder_new(b.cfg, &b.kek, b.w, err, sizeof(err)))) {
			fprintf(stderr, "bench_pipeline: %s\n", err[0] ? err : "out of memory");
			return -1;
		}
	/* frames stay in RAM for the whole run: nothing is copied or released */
	struct pipeline *pl = pipeline_new(b.cfg, nw, recorder_sink(), (void *const *)recs, NULL, true, err, sizeof(err));
	if (!pl) {
		r->unavailable = true;
		snprintf(r->why, sizeof(r->why), "%s", err[0] ? err : "pipeline_new failed");
		for (unsigned i = 0; i < nw; i++)
			recorder_free(recs[i]);
		writer_stop(b.w);
		store_close(b.st);
		kek_wipe(&b.kek);
		config_free(b.cfg);
		rm_store(b.dir);
		return 0;
	}
	pipeline_set_link(pl, t->link);
	double p0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	double t0 = now_ns(CLOCK_MONOTONIC);
#if RV_HAVE_DPDK
	struct wthread wt[PIPELINE_MAX_WORKERS];
	pthread_t th[PIPELINE_MAX_WORKERS];
	for (unsigned i = 0; i < nw; i++) {
		wt[i] = (struct wthread){ pl, i, 0 };
		int e = pthread_create(&th[i], NULL, worker_thread, &wt[i]);
		if (e) {
			fprintf(stderr, "bench_pipeline: pthread_create: %s\n", strerror(e));
			exit(1);
		}
	}
#endif
	for (size_t i = 0; i < t->n; i++) {
		const struct frame *f = &t->f[i];
		pipeline_frame(pl, f->ts_us, f->data, f->caplen, f->wirelen, NULL);
	}
	/* call control ends its calls, then each worker ends (and seals) its own */
	pipeline_finish(pl);
	while (!pipeline_done(pl))
		usleep(100);
	double te = now_ns(CLOCK_MONOTONIC), c1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	double wcpu = 0;
#if RV_HAVE_DPDK
	for (unsigned i = 0; i < nw; i++) {
		pthread_join(th[i], NULL);
		wcpu += wt[i].cpu_ns;
	}
#endif
	writer_sync(b.w);
	double t1 = now_ns(CLOCK_MONOTONIC), p1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	double n = (double)t->n;
	r->wall_ns = (t1 - t0) / n;
	r->engine_wall_ns = (te - t0) / n;
	r->engine_cpu_ns = (c1 - c0) / n;
	r->workers_cpu_ns = wcpu / n;
	r->writer_cpu_ns = ((p1 - p0) - (c1 - c0) - wcpu) / n;
	for (unsigned i = 0; i < nw; i++)
		pipeline_worker_stats(pl, i, &r->wst[i]);
	pipeline_free(pl);
	writer_stats(b.w, &r->ws);
	writer_stop(b.w);
	for (unsigned k = 0; k < nw; k++) {
		uint64_t rc1[RC__COUNT], s1[CONSENT__COUNT];
		recorder_counters(recs[k], rc1);
		recorder_state_counts(recs[k], s1);
		for (int i = 0; i < RC__COUNT; i++)
			r->rc[i] += rc1[i];
		r->held_calls += s1[CONSENT_GRANTED] + s1[CONSENT_DENIED] + s1[CONSENT_TIMEOUT] + s1[CONSENT_WITHDRAWN];
		recorder_free(recs[k]);
	}
	bstore_close_and_check(o, "workers", run, &b, r);
	return 0;
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
	fprintf(stderr, "usage: bench_pipeline PCAP [--runs N] [--exempt-regex RE] [--truth-calls N]\n"
			"       [--truth-kept N] [--truth-call-minutes X] [--truth-rtp-bytes N] [--tmpdir DIR]\n"
			"       [--workers N] [--only decode|lookup|sip|engine|recorder|workers]\n"
			"--workers N: also run the recorder on the multi-worker pipeline with N workers (default 2;\n"
			"0: no such run)\n");
}

static size_t peak_at(const struct memtrack *m)
{
	size_t best = 0;
	for (size_t k = 1; k < m->n; k++)
		if (m->calls[k] > m->calls[best])
			best = k;
	return best;
}

int main(int argc, char **argv)
{
	struct opts o = { .runs = 5, .truth_calls = -1, .truth_kept = -1, .truth_rtp_bytes = -1, .tmpdir = "/tmp",
			  .workers = 2 };
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--runs") && v)
			o.runs = atoi(argv[++i]);
		else if (!strcmp(a, "--exempt-regex") && v)
			o.exempt_regex = argv[++i];
		else if (!strcmp(a, "--truth-calls") && v)
			o.truth_calls = atoll(argv[++i]);
		else if (!strcmp(a, "--truth-kept") && v)
			o.truth_kept = atoll(argv[++i]);
		else if (!strcmp(a, "--truth-call-minutes") && v)
			o.truth_call_minutes = atof(argv[++i]);
		else if (!strcmp(a, "--truth-rtp-bytes") && v)
			o.truth_rtp_bytes = atoll(argv[++i]);
		else if (!strcmp(a, "--tmpdir") && v)
			o.tmpdir = argv[++i];
		else if (!strcmp(a, "--workers") && v)
			o.workers = atoi(argv[++i]);
		else if (!strcmp(a, "--only") && v)
			only = argv[++i];
		else if (a[0] != '-' && !o.pcap)
			o.pcap = a;
		else {
			usage();
			return 1;
		}
	}
	if (!o.pcap || o.runs < 1 || o.runs > MAX_RUNS || o.workers < 0 || o.workers > PIPELINE_MAX_WORKERS) {
		usage();
		return 1;
	}
	struct trace t;
	double l0 = now_ns(CLOCK_MONOTONIC);
	if (load_trace(o.pcap, &t) != 0) {
		fprintf(stderr, "bench_pipeline: cannot load %s\n", o.pcap);
		return 1;
	}
	fprintf(stderr, "loaded %zu frames (%.1f MB) in %.1f s\n", t.n, (double)t.bytes / 1e6,
		(now_ns(CLOCK_MONOTONIC) - l0) / 1e9);
	printf("packets %zu\nbytes %" PRIu64 "\nruns %d\n", t.n, t.bytes, o.runs);
	struct rv_config *cfg = config_default();
	if (!cfg)
		return 1;

	size_t ns = t.n / SAMPLE_EVERY + 2;
	struct memtrack mb = { .at = calloc(ns, sizeof(size_t)), .calls = calloc(ns, sizeof(uint64_t)), .cap = ns };
	struct memtrack mc = { .at = calloc(ns, sizeof(size_t)), .calls = calloc(ns, sizeof(uint64_t)), .cap = ns };
	double dec[MAX_RUNS], eng[MAX_RUNS], engc[MAX_RUNS], rec[MAX_RUNS], recc[MAX_RUNS], wrc[MAX_RUNS],
		recw[MAX_RUNS], wk[MAX_RUNS], wkctl[MAX_RUNS], wkw[MAX_RUNS], wkwr[MAX_RUNS];
	/* the stage split: lookup (decode + flow lookup), the SIP frames alone
	 * (decode, engine), one chunk's seal; all but seal in ns per packet of
	 * the whole trace */
	double lk[MAX_RUNS], sipdec[MAX_RUNS], sipeng[MAX_RUNS], sipengc[MAX_RUNS], sipst[MAX_RUNS], seal[MAX_RUNS];
	uint64_t rchunks[MAX_RUNS];
	uint64_t sink = 0, created = 0, screated = 0, held_calls = 0, flows = 0, sip_created = 0, sip_screated = 0;
	size_t seal_len = 0;
	bool want_split = !only, want_lookup = !only || !strcmp(only, "lookup"),
	     want_sip = !only || !strcmp(only, "sip");
	struct trace sip = { 0 };
	uint64_t sip_tcp = 0, frags = 0;
	if (want_sip && select_sip(cfg, &t, &sip, &sip_tcp, &frags) != 0) {
		fprintf(stderr, "bench_pipeline: out of memory selecting the SIP frames\n");
		return 1;
	}
	double sip_share = t.n ? (double)sip.n / (double)t.n : 0;
	int status = 0;
	struct rec_result last = { 0 }, wlast = { 0 };
	bool wavail = o.workers > 0, rec_bad = false, wk_bad = false;
	for (int k = 0; k < o.runs; k++) {
		if (!only || !strcmp(only, "decode") || !strcmp(only, "lookup"))
			dec[k] = run_decode(&t, &sink);
		if (want_lookup && (lk[k] = run_lookup(cfg, &t, &sink, &flows)) < 0) {
			fprintf(stderr, "bench_pipeline: out of memory building the flow table\n");
			return 1;
		}
		if (want_sip && sip.n) {
			/* the SIP frames take a few tens of ms: SIP_REPS paired
			 * repetitions, their median, so one scheduling hiccup does
			 * not make the run's figure */
			double d[SIP_REPS], e[SIP_REPS], ec[SIP_REPS], x[SIP_REPS];
			for (int j = 0; j < SIP_REPS; j++) {
				d[j] = run_decode(&sip, &sink) * sip_share;
				e[j] = run_engine(cfg, &sip, &ec[j], NULL, &sip_created, &sip_screated) * sip_share;
				ec[j] *= sip_share;
				x[j] = e[j] - d[j];
			}
			sipdec[k] = stat3_of(d, SIP_REPS).med;
			sipeng[k] = stat3_of(e, SIP_REPS).med;
			sipengc[k] = stat3_of(ec, SIP_REPS).med;
			sipst[k] = stat3_of(x, SIP_REPS).med;
		} else if (want_sip) {
			sipdec[k] = sipeng[k] = sipengc[k] = sipst[k] = 0;
		}
		if (!only || !strcmp(only, "engine"))
			eng[k] = run_engine(cfg, &t, &engc[k], k == 0 ? &mb : NULL, &created, &screated);
		if (!only || !strcmp(only, "recorder")) {
			struct rec_result r;
			if (run_recorder(&o, &t, k, k == 0 ? &mc : NULL, &r) != 0)
				return 1;
			rec[k] = r.wall_ns;
			recc[k] = r.engine_cpu_ns;
			wrc[k] = r.writer_cpu_ns;
			recw[k] = r.engine_wall_ns;
			if (!r.ok)
				status = 2, rec_bad = true;
			held_calls = r.held_calls;
			last = r;
			/* sealing: one chunk of this run's mean chunk size, in a loop */
			rchunks[k] = r.rc[RC_chunks];
			seal_len = r.chunks_in_store && r.chunk_bytes_in_store / r.chunks_in_store > RV_TAG_LEN
					   ? (size_t)((r.chunk_bytes_in_store + r.chunks_in_store / 2) / r.chunks_in_store) -
						     RV_TAG_LEN
					   : STORE_CHUNK_PLAIN_MAX;
			if ((seal[k] = run_seal(seal_len, &sink)) < 0) {
				fprintf(stderr, "bench_pipeline: aead_seal_ctx failed\n");
				return 1;
			}
		}
		if (wavail && (!only || !strcmp(only, "workers"))) {
			struct rec_result r;
			if (run_workers(&o, &t, k, (unsigned)o.workers, &r) != 0)
				return 1;
			if (r.unavailable) {
				wavail = false;
				fprintf(stderr, "bench_pipeline: %d workers: not available: %s\n", o.workers, r.why);
			} else {
				wk[k] = r.wall_ns;
				wkctl[k] = r.engine_cpu_ns;
				wkw[k] = r.workers_cpu_ns;
				wkwr[k] = r.writer_cpu_ns;
				if (!r.ok)
					status = 2, wk_bad = true;
			}
			wlast = r;
		}
		fprintf(stderr, "run %d done\n", k + 1);
	}
	fprintf(stderr, "(decode checksum %" PRIu64 ")\n", sink);
	if (!only || !strcmp(only, "decode") || !strcmp(only, "lookup"))
		put3("decode_ns", stat3_of(dec, o.runs));
	if (want_lookup) {
		printf("lookup_flows %" PRIu64 "\n", flows);
		double v[MAX_RUNS];
		for (int k = 0; k < o.runs; k++)
			v[k] = lk[k] - dec[k];
		put3("lookup_ns", stat3_of(lk, o.runs));
		put3("stage_lookup_ns", stat3_of(v, o.runs));
	}
	if (want_sip) {
		printf("sip_frames %zu\nsip_tcp_frames %" PRIu64 "\nip_fragments %" PRIu64 "\n", sip.n, sip_tcp, frags);
		printf("sip_calls_created %" PRIu64 "\nsip_streams_created %" PRIu64 "\n", sip_created, sip_screated);
		put3("sip_decode_ns", stat3_of(sipdec, o.runs));
		put3("sip_engine_ns", stat3_of(sipeng, o.runs));
		put3("sip_engine_cpu_ns", stat3_of(sipengc, o.runs));
		put3("stage_sip_ns", stat3_of(sipst, o.runs));
	}
	if (!only || !strcmp(only, "recorder")) {
		printf("seal_plain_bytes %zu\n", seal_len);
		put3("seal_chunk_ns", stat3_of(seal, o.runs));
	}
	if (want_split) {
		/* per run: the rest of the null-sink engine, sealing, the gate */
		double med[MAX_RUNS], sl[MAX_RUNS], gate[MAX_RUNS];
		for (int k = 0; k < o.runs; k++) {
			med[k] = eng[k] - dec[k] - sipst[k] - (lk[k] - dec[k]);
			sl[k] = seal[k] * (double)rchunks[k] / (double)t.n;
			gate[k] = recc[k] - engc[k] - sl[k];
		}
		put3("stage_media_ns", stat3_of(med, o.runs));
		put3("stage_seal_ns", stat3_of(sl, o.runs));
		put3("stage_gate_ns", stat3_of(gate, o.runs));
	}
	if (!only || !strcmp(only, "engine")) {
		put3("engine_ns", stat3_of(eng, o.runs));
		put3("engine_cpu_ns", stat3_of(engc, o.runs));
		printf("calls_created %" PRIu64 "\nstreams_created %" PRIu64 "\n", created, screated);
		if (mb.n) {
			size_t k = peak_at(&mb);
			printf("peak_calls %" PRIu64 "\n", mb.calls[k]);
			printf("state_per_call_bytes %.0f\n", mb.calls[k] ? (double)mb.at[k] / (double)mb.calls[k] : 0.0);
			/* the recorder's extra heap at its largest, over the same packet index */
			size_t best = 0;
			double extra = 0;
			for (size_t j = 0; j < mb.n && j < mc.n; j++)
				if ((double)mc.at[j] - (double)mb.at[j] > extra) {
					extra = (double)mc.at[j] - (double)mb.at[j];
					best = j;
				}
			if (extra > 0 && mc.calls[best]) {
				printf("recorder_peak_extra_bytes %.0f\n", extra);
				printf("recorder_ram_per_call_bytes %.0f\n", extra / (double)mc.calls[best]);
				if (held_calls)
					printf("pre_consent_ram_per_held_call_bytes %.0f\n", extra / (double)held_calls);
			}
		}
	}
	if (!only || !strcmp(only, "recorder")) {
		put3("pipeline_ns", stat3_of(rec, o.runs));
		put3("pipeline_engine_wall_ns", stat3_of(recw, o.runs));
		put3("recorder_engine_cpu_ns", stat3_of(recc, o.runs));
		put3("writer_cpu_ns", stat3_of(wrc, o.runs));
		printf("records %" PRIu64 "\npackets_kept %" PRIu64 "\nchunks %" PRIu64 "\nchunks_in_store %" PRIu64 "\n",
		       last.records, last.rc[RC_packets_kept], last.rc[RC_chunks], last.chunks_in_store);
		printf("commits %" PRIu64 "\nqueue_waits %" PRIu64 "\nbytes_sealed %" PRIu64 "\n", last.ws.commits,
		       last.ws.queue_waits, last.rc[RC_bytes_sealed]);
		printf("lmdb_file_bytes %" PRIu64 "\nlmdb_used_bytes %" PRIu64 "\n", last.file_bytes, last.used_bytes);
		if (o.truth_call_minutes > 0)
			printf("bytes_per_call_minute %.0f\n", (double)last.used_bytes / o.truth_call_minutes);
		if (o.truth_rtp_bytes > 0)
			printf("lmdb_vs_payload %.3f\n", (double)last.used_bytes / (double)o.truth_rtp_bytes);
		printf("store_check %s\n", rec_bad ? "FAILED" : "ok");
	}
	if (o.workers > 0 && (!only || !strcmp(only, "workers"))) {
		printf("workers_n %d\n", o.workers);
		if (!wavail) {
			printf("workers_unavailable %s\n", wlast.why);
		} else {
			put3("workers_pipeline_ns", stat3_of(wk, o.runs));
			put3("workers_ctl_cpu_ns", stat3_of(wkctl, o.runs));
			put3("workers_worker_cpu_ns", stat3_of(wkw, o.runs));
			put3("workers_writer_cpu_ns", stat3_of(wkwr, o.runs));
			printf("workers_records %" PRIu64 "\nworkers_packets_kept %" PRIu64 "\nworkers_chunks %" PRIu64
			       "\nworkers_chunks_in_store %" PRIu64 "\n",
			       wlast.records, wlast.rc[RC_packets_kept], wlast.rc[RC_chunks], wlast.chunks_in_store);
			/* per worker: units handed over, times call control waited for room */
			printf("workers_units");
			for (unsigned i = 0; i < wlast.nworkers; i++)
				printf(" %" PRIu64, wlast.wst[i].units);
			printf("\nworkers_waits");
			for (unsigned i = 0; i < wlast.nworkers; i++)
				printf(" %" PRIu64, wlast.wst[i].waits);
			printf("\nworkers_store_check %s\n", wk_bad ? "FAILED" : "ok");
		}
	}
	config_free(cfg);
	free(mb.at);
	free(mb.calls);
	free(mc.at);
	free(mc.calls);
	free(sip.f);
	free(t.f);
	free(t.arena);
	return status;
}
