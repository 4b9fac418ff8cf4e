/*
 * fuzz_pcapfile.c - differential: the pcap backend reading a file
 * (engine/capture_pcap.c, whose record loop walks classic pcap files through
 * a mapping and hands the file to libpcap at the first record it does not
 * take) against plain libpcap reading the same file.
 *
 * Input: the file's bytes, written to a memfd (a regular file, as the record
 * loop requires) and opened through /proc/self/fd/N.  An input shorter than
 * a global header (24 bytes) is taken as records after a fixed header
 * (version 2.4, microseconds, this host's order, snaplen 65535, Ethernet).
 * Two global header fields that neither reader uses (thiszone, sigfigs)
 * steer the harness, so the fuzzer reaches both settings by mutation:
 *
 *   byte 8 (thiszone)       frames asked for per next(); 0 means 256 (main.c)
 *   bytes 12-13 (sigfigs)   nonzero, with a snaplen of 0 or at least 4096:
 *                           filler records move the input's records to
 *                           4 MiB - (that value % 8192), across the edge of
 *                           the record loop's first mapping window
 *
 * Both readers must deliver the same frames (time in microseconds computed
 * as capture_pcap.c's handler does, caplen, wire length, a hash of the bytes)
 * and end the same way: the backend's CAP_EOF where pcap_next_ex() returns
 * PCAP_ERROR_BREAK (end of file), CAP_ERROR where it returns PCAP_ERROR
 * (pcap_next_() maps every negative pcap_dispatch() but a break to
 * CAP_ERROR).  The backend must open where libpcap opens and the link type
 * decodes, and fail elsewhere.  next() must return at most the frames asked
 * for, as many as it delivered, and never 0 offline.  Anything else is
 * abort() with both sides printed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "capture.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GHDR 24
#define WINDOW ((size_t)4 << 20) /* FAST_WINDOW in capture_pcap.c: the first window ends there */

struct frame {
	uint64_t ts_us;
	uint64_t hash;
	uint32_t caplen, wirelen;
};

struct side {
	struct frame *f;
	size_t n, cap;
	int end; /* 0 opened and read to EOF, 1 read error, 2 open failed */
};

static struct rv_config *cfg;
static int fd = -1;
static char path[64];
static struct side fast_side, ref_side;
static size_t calls_frames; /* frames delivered during the current next() */

static uint64_t hash_bytes(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h ^ (h >> 32);
}

static void side_add(struct side *s, uint64_t ts, const uint8_t *p, uint32_t caplen, uint32_t wirelen)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 256;
		struct frame *nf = realloc(s->f, nc * sizeof(*nf));
		if (!nf)
			abort();
		s->f = nf;
		s->cap = nc;
	}
	if (caplen && !p)
		abort();
	s->f[s->n++] = (struct frame){ ts, hash_bytes(p, caplen), caplen, wirelen };
}

static void on_frame(void *ctx, uint64_t ts_us, const uint8_t *frame, uint32_t caplen, uint32_t wirelen)
{
	side_add(ctx, ts_us, frame, caplen, wirelen);
	calls_frames++;
}

static void setup(void)
{
	cfg = config_default();
	if (!cfg)
		abort();
	fd = memfd_create("fuzz_pcapfile", MFD_CLOEXEC);
	if (fd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct stat st;
	/* the record loop only runs on a regular file: without one this target
	 * would compare libpcap with itself */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || access(path, R_OK) < 0) {
		fprintf(stderr, "fuzz_pcapfile: %s is not a readable regular file\n", path);
		abort();
	}
}

static void put(const void *p, size_t len, off_t at)
{
	if (len && pwrite(fd, p, len, at) != (ssize_t)len)
		abort();
}

/* Filler from offset 24 up to to: valid host-order records of at most
 * min(snaplen, 64 KiB) bytes (zeros: a hole), the last ones sized so that
 * the input's records start exactly at to. */
static void put_filler(uint32_t snaplen, off_t to)
{
	uint32_t c = snaplen == 0 || snaplen > 65536 ? 65536 : snaplen;
	off_t at = GHDR;
	while (at < to) {
		size_t left = (size_t)(to - at), rec;
		if (left <= 16 + (size_t)c)
			rec = left;
		else if (left < 32 + (size_t)c)
			rec = left - 16; /* leaves one empty record */
		else
			rec = 16 + (size_t)c;
		uint32_t h[4] = { 0, 0, (uint32_t)(rec - 16), (uint32_t)(rec - 16) };
		put(h, sizeof(h), at);
		at += (off_t)rec;
	}
}

/* Writes the file; returns the frames to ask for per next(). */
static int write_file(const uint8_t *data, size_t size)
{
	struct pcap_file_header fixed = { .magic = 0xa1b2c3d4u, .version_major = 2, .version_minor = 4,
					  .snaplen = 65535, .linktype = 1 };
	uint8_t hdr[GHDR];
	_Static_assert(sizeof(fixed) == GHDR, "pcap global header");
	memcpy(hdr, &fixed, GHDR);
	const uint8_t *g = size < GHDR ? hdr : data;
	const uint8_t *rest = size < GHDR ? data : data + GHDR;
	size_t rest_len = size < GHDR ? size : size - GHDR;
	int max = g[8] ? g[8] : 256;
	unsigned pad = (unsigned)g[12] | (unsigned)g[13] << 8;
	uint32_t snaplen;
	memcpy(&snaplen, g + 16, sizeof(snaplen));

	if (ftruncate(fd, 0) < 0)
		abort();
	off_t rec_at = GHDR;
	if (pad && (snaplen == 0 || snaplen >= 4096)) {
		rec_at = (off_t)(WINDOW - pad % 8192);
		if (ftruncate(fd, rec_at + (off_t)rest_len) < 0)
			abort();
		put_filler(snaplen, rec_at);
	}
	put(g, GHDR, 0);
	put(rest, rest_len, rec_at);
	return max;
}

static void read_backend(struct side *s, int max, enum dec_link want_link)
{
	struct capture *cap = NULL;
	char err[512];
	s->n = 0;
	if (capture_pcap_ops.open(&cap, cfg, path, false, err, sizeof(err)) != 0) {
		s->end = 2;
		return;
	}
	if (!cap || capture_pcap_ops.link(cap) != want_link) {
		/* want 0: libpcap cannot open the file or its link type is not decoded */
		fprintf(stderr, "fuzz_pcapfile: backend opened with link %d, want %d\n",
			cap ? (int)capture_pcap_ops.link(cap) : -1, (int)want_link);
		abort();
	}
	for (;;) {
		calls_frames = 0;
		int rc = capture_pcap_ops.next(cap, on_frame, s, max);
		if (rc == CAP_EOF || rc == CAP_ERROR) {
			s->end = rc == CAP_EOF ? 0 : 1;
			break;
		}
		if (rc <= 0 || rc > max || (size_t)rc != calls_frames) {
			fprintf(stderr, "fuzz_pcapfile: next(max %d) returned %d after %zu frames\n", max, rc,
				calls_frames);
			abort();
		}
	}
	capture_pcap_ops.close(cap);
}

static void read_libpcap(struct side *s, enum dec_link *dlink)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	s->n = 0;
	*dlink = 0;
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!p) {
		s->end = 2;
		return;
	}
	*dlink = capture_map_dlt(pcap_datalink(p));
	struct pcap_pkthdr *h;
	const u_char *bytes;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &bytes)) == 1) {
		/* as capture_pcap.c's handler computes it */
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		side_add(s, ts, bytes, h->caplen, h->len);
	}
	s->end = rc == PCAP_ERROR_BREAK ? 0 : 1;
	pcap_close(p);
}

static void print_frame(const char *who, const struct side *s, size_t i)
{
	if (i < s->n)
		fprintf(stderr, "  %s frame %zu: ts %llu caplen %u wirelen %u hash %016llx\n", who, i,
			(unsigned long long)s->f[i].ts_us, s->f[i].caplen, s->f[i].wirelen,
			(unsigned long long)s->f[i].hash);
	else
		fprintf(stderr, "  %s: no frame %zu (%zu frames, end %s)\n", who, i, s->n,
			s->end == 0 ? "EOF" : s->end == 1 ? "error" : "open failed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!cfg)
		setup();
	int max = write_file(data, size);
	enum dec_link dlink;
	read_libpcap(&ref_side, &dlink);
	read_backend(&fast_side, max, dlink);

	/* the backend also refuses a file whose link type it cannot decode */
	int want_end = ref_side.end == 2 || dlink == 0 ? 2 : ref_side.end;
	if (want_end == 2)
		ref_side.n = 0;
	size_t i = 0;
	while (i < ref_side.n && i < fast_side.n && memcmp(&ref_side.f[i], &fast_side.f[i], sizeof(struct frame)) == 0)
		i++;
	if (i == ref_side.n && i == fast_side.n && want_end == fast_side.end)
		return 0;
	fprintf(stderr, "fuzz_pcapfile: backend and libpcap differ (%zu input bytes, %d per next()):\n", size, max);
	fprintf(stderr, "  libpcap: %zu frames, end %d; backend: %zu frames, end %d (0 EOF, 1 error, 2 open failed)\n",
		ref_side.n, want_end, fast_side.n, fast_side.end);
	print_frame("libpcap", &ref_side, i);
	print_frame("backend", &fast_side, i);
	abort();
}
