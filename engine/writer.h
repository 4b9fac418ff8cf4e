/*
 * writer.h - the one LMDB writer thread.
 *
 * The engine thread seals records and chunks and queues them; the writer
 * applies them in queue order in batched transactions (at most
 * commit_batch items, at least every commit_interval).  Queue order plus
 * LMDB's atomic commits give the recorder its crash guarantee: a record
 * queued after its chunks is never visible without them.
 *
 * The queue is bounded ([storage] writer_queue); a full queue blocks the
 * producer (counted), it never drops silently.  MDB_MAP_FULL: with map_grow
 * the map is doubled and the batch retried; otherwise (or at map_max) the
 * batch is dropped, the store is marked full, and writer_full() tells the
 * recorder to stop starting new recordings.
 */
#ifndef RV_WRITER_H
#define RV_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

struct writer;

struct writer_stats {
	uint64_t items;          /* items applied */
	uint64_t commits;        /* transactions committed */
	uint64_t bytes;          /* value bytes written */
	uint64_t queue_waits;    /* times the producer waited for room */
	uint64_t map_grown;      /* map size doublings */
	uint64_t map_full_drops; /* items dropped because the store was full */
	uint64_t errors;         /* other store errors (items dropped) */
};

/* returns owned; s is borrowed and must outlive the writer */
struct writer *writer_start(struct store *s, const struct rv_config *cfg, char *err, size_t errlen);
/* Waits for everything queued to be committed, stops the thread, frees. */
void writer_stop(struct writer *w);
/* Blocks until everything queued so far is committed (or dropped). */
void writer_sync(struct writer *w);
bool writer_full(const struct writer *w);
void writer_stats(struct writer *w, struct writer_stats *st);

/* Reserves n fresh record ids (synchronously); the first is in *first. */
int writer_reserve_ids(struct writer *w, uint32_t n, uint64_t *first);

/* Queue operations; each takes the buffer it is given (owned, freed and
 * wiped by the writer). */
void writer_put_record(struct writer *w, const struct store_rec *r, uint8_t *sealed, size_t len);
void writer_put_callid(struct writer *w, const uint8_t hmac[RV_HMAC_LEN], uint64_t record_id);
void writer_put_chunk(struct writer *w, uint64_t record_id, uint16_t stream, uint32_t seq, uint8_t *ct, size_t len);
void writer_put_expiry(struct writer *w, uint64_t deadline_us, uint64_t record_id);
/* Audit entries written by the engine (consent decisions): set once the key
 * that chains the audit log and who runs the capture; then each
 * writer_put_audit() appends one entry in queue order (after the records
 * queued before it).  Without writer_set_audit they are dropped. */
void writer_set_audit(struct writer *w, const struct rv_kek *kek, uint32_t uid, const char *user);
void writer_put_audit(struct writer *w, const char *command, int result, const char *detail);

#endif
