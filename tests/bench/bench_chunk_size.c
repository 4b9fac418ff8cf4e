/*
 * bench_chunk_size.c - measures what the chunk size costs on disk and in
 * write throughput (docs/storage-format.md, "Chunk size").
 *
 * For each plaintext chunk limit it stores the same stream of 180-byte RTP
 * packets (default 20 MB of packet bytes) as chunk entries (11-byte entry
 * header + packet), sealed with AES-256-GCM exactly as the recorder does
 * (store_chunk_nonce / store_chunk_aad, final flag on the last chunk), into
 * a fresh store, committing every 256 KiB of packet bytes.  It reports the
 * LMDB file size and pages used relative to the packet bytes, and the write
 * throughput including sealing and the fsync of every commit.  A second
 * pass commits after every chunk (the most durable policy) on 2 MB.
 *
 * Not built by `make test`.  Build and run by hand:
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -Istorage -o build/bench_chunk_size \
 *       tests/bench/bench_chunk_size.c storage/crypto.c storage/store.c \
 *       storage/record.c -llmdb -lcrypto
 *   build/bench_chunk_size [DIR] [MB]      (DIR on the disk to measure)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "store.h"

#define PKT_LEN 180
#define BATCH_BYTES (256u << 10)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Noreturn void die(const char *what, int rc)
{
	fprintf(stderr, "bench: %s: %d (%s / %s)\n", what, rc, store_strerror(rc), crypto_strerror(rc));
	exit(1);
}

static void rm_store(const char *dir)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

struct result {
	double secs;
	uint64_t file, used, chunks, commits;
};

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Writes payload bytes of packets in chunks of at most plain_max bytes. */
static struct result run(const char *dir, size_t plain_max, uint64_t payload, int commit_each_chunk)
{
	struct store_opts o = { .path = dir, .map_size = 4ull << 30 };
	struct store *s;
	struct store_txn *t = NULL;
	struct rv_dek dek;
	struct result res = { 0 };
	uint8_t *plain = malloc(plain_max), *ct = malloc(plain_max + RV_TAG_LEN);
	uint8_t pkt[PKT_LEN], nonce[RV_NONCE_LEN], aad[STORE_CHUNK_AAD_LEN];
	uint64_t written = 0, since_commit = 0, ts = 1700000000000000ull;
	uint32_t seq = 0;
	size_t fill = 0;
	struct stat st;
	char p[512];
	double t0;
	int rc;

	if (!plain || !ct)
		die("malloc", -1);
	rm_store(dir);
	if ((rc = store_open(&o, &s)) != 0)
		die("store_open", rc);
	if ((rc = dek_generate(&dek)) != 0)
		die("dek", rc);
	for (int i = 0; i < PKT_LEN; i++)
		pkt[i] = (uint8_t)(i * 37);
	t0 = now_s();
	while (written < payload || fill) {
		int last = written >= payload;

		if (!last && fill + STORE_ENTRY_HDR + PKT_LEN <= plain_max) {
			put_be64(plain + fill, ts);
			put_be16(plain + fill + 8, PKT_LEN);
			plain[fill + 10] = CHUNK_RTP;
			memcpy(plain + fill + STORE_ENTRY_HDR, pkt, PKT_LEN);
			pkt[2]++; /* sequence number */
			fill += STORE_ENTRY_HDR + PKT_LEN;
			ts += 20000;
			written += PKT_LEN;
			since_commit += PKT_LEN;
			continue;
		}
		/* chunk full (or end): seal and store it */
		if (!t && (rc = store_txn_begin(s, &t)) != 0)
			die("begin", rc);
		store_chunk_nonce(0, seq, nonce);
		store_chunk_aad(1, 0, seq, last, aad);
		if ((rc = aead_seal(dek.key, nonce, aad, sizeof(aad), plain, fill, ct)) != 0)
			die("seal", rc);
		if ((rc = store_put_chunk(t, 1, 0, seq, ct, fill + RV_TAG_LEN)) != 0)
			die("put", rc);
		seq++;
		fill = 0;
		res.chunks++;
		if (commit_each_chunk || since_commit >= BATCH_BYTES || last) {
			if ((rc = store_txn_commit(t)) != 0)
				die("commit", rc);
			t = NULL;
			since_commit = 0;
			res.commits++;
		}
	}
	res.secs = now_s() - t0;
	store_usage(s, NULL, &res.used);
	store_close(s);
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	if (stat(p, &st) == 0)
		res.file = (uint64_t)st.st_size;
	dek_wipe(&dek);
	free(plain);
	free(ct);
	rm_store(dir);
	return res;
}

/* Pages one chunk of exactly sealed_len bytes costs (1000 chunks stored). */
static double pages_per_chunk(const char *dir, size_t sealed_len)
{
	struct store_opts o = { .path = dir, .map_size = 1ull << 30 };
	struct store *s;
	struct store_txn *t;
	uint8_t *ct = calloc(1, sealed_len);
	uint64_t before, after;
	int rc;

	rm_store(dir);
	if (!ct || (rc = store_open(&o, &s)) != 0)
		die("store_open", -1);
	store_usage(s, NULL, &before);
	if ((rc = store_txn_begin(s, &t)) != 0)
		die("begin", rc);
	for (uint32_t i = 0; i < 1000; i++)
		if ((rc = store_put_chunk(t, 1, 0, i, ct, sealed_len)) != 0)
			die("put", rc);
	if ((rc = store_txn_commit(t)) != 0)
		die("commit", rc);
	store_usage(s, NULL, &after);
	store_close(s);
	rm_store(dir);
	free(ct);
	return (double)(after - before) / 4096.0 / 1000.0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 1024, 2048, 4096, STORE_CHUNK_PLAIN_MAX, 8176, 16384 };
	const char *dir = argc > 1 ? argv[1] : "build/bench-chunk-store";
	uint64_t payload = (argc > 2 ? strtoull(argv[2], NULL, 10) : 20) * 1000000ull;

	static const size_t exact[] = { 1024, 2064, 4080, 4081, 8176, 8177, 8192, 12272, 16400 };

	printf("| sealed chunk bytes | LMDB pages per chunk (4096-byte pages, 1000 chunks) |\n| ---: | ---: |\n");
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		printf("| %zu | %.3f |\n", exact[i], pages_per_chunk(dir, exact[i]));
	printf("\n");
	printf("payload: %llu bytes of %d-byte RTP packets (%d-byte entries)\n", (unsigned long long)payload,
	       PKT_LEN, PKT_LEN + STORE_ENTRY_HDR);
	printf("| plaintext max | sealed max | pkts/chunk | chunks | file MB | file/payload | used/payload "
	       "| MB/s (commit 256 KiB, median of 3) | chunks/s (commit per chunk) |\n");
	printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct result r[3], pc;
		double secs[3];

		for (int k = 0; k < 3; k++) {
			r[k] = run(dir, sizes[i], payload, 0);
			secs[k] = r[k].secs;
		}
		qsort(secs, 3, sizeof(secs[0]), cmp_d);
		pc = run(dir, sizes[i], 2000000, 1);
		printf("| %zu | %zu | %zu | %llu | %.2f | %.3f | %.3f | %.1f | %.0f |\n", sizes[i], sizes[i] + RV_TAG_LEN,
		       sizes[i] / (PKT_LEN + STORE_ENTRY_HDR), (unsigned long long)r[0].chunks, r[0].file / 1e6,
		       (double)r[0].file / (double)payload, (double)r[0].used / (double)payload,
		       (double)payload / 1e6 / secs[1], (double)pc.chunks / pc.secs);
		fflush(stdout);
	}
	return 0;
}
