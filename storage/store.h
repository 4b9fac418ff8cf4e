/*
 * store.h - the recording store: one LMDB environment, named databases.
 *
 *   calls   record id (u64 BE)            -> record: plaintext header + sealed metadata
 *   callid  HMAC(Call-ID) (16 B), dupsort -> record id (u64 BE); a Call-ID can repeat
 *   chunks  record id . stream (u16 BE) . seq (u32 BE) -> sealed run of RTP packets
 *   expiry  deadline (u64 BE) . record id -> empty (retention sweep order)
 *   audit   sequence (u64 BE)             -> audit entry (placeholder for the compliance issue)
 *   meta    name                          -> store-wide values (format version, next record id)
 *
 * Big-endian integer keys make key order time order.  The plaintext header
 * holds nothing personal: ids, times, flags, consent state, the wrapped data
 * key, and HMACs of the phone numbers for filtering.  Everything else
 * (Call-ID, numbers, consent evidence, stream endpoints) is in the sealed
 * metadata, see record.h.
 *
 * Durability: default LMDB sync flags only (never MDB_NOSYNC, MDB_MAPASYNC or
 * MDB_NOMEMINIT); a commit that returned 0 survives kill -9 and power loss.
 * One writer (the caller serialises write transactions); any number of
 * readers, also from other processes.  MDB_MAP_FULL is returned as
 * STORE_E_MAP_FULL after the transaction is aborted: with map_grow the map
 * is enlarged (up to map_max) and the caller retries, otherwise the caller
 * stops accepting new recordings.  Every function returns 0 or a negative
 * code (store_strerror()).  Returned pointers into LMDB stay valid until the
 * transaction that produced them ends.
 *
 * Threads: the environment is opened with MDB_NOTLS, so a read transaction
 * (store_read_*) may be begun, used and ended on any thread (one thread at a
 * time per transaction) and readers never block the writer.  A write
 * transaction (store_txn_*) must be begun, used and committed/aborted on one
 * thread (an LMDB rule); write transactions are serialised by LMDB's writer
 * mutex, so a second writer blocks.  store_grow() remaps: no read or write
 * transaction of this process may be open while it runs.
 *
 * After a put returned STORE_E_MAP_FULL the LMDB transaction is already
 * aborted; every further call on t returns STORE_E_MAP_FULL and the caller
 * still ends t with store_txn_abort() (or store_txn_commit(), which then
 * returns STORE_E_MAP_FULL); both free t.  The byte formats are in
 * docs/storage-format.md.
 */
#ifndef RV_STORE_H
#define RV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

enum store_err {
	STORE_OK = 0,
	STORE_E_LMDB = -1,        /* other LMDB error (logged with mdb_strerror) */
	STORE_E_MAP_FULL = -2,
	STORE_E_NOT_FOUND = -3,
	STORE_E_CORRUPT = -4,     /* a value that does not decode */
	STORE_E_NOMEM = -5,
	STORE_E_IO = -6,          /* directory cannot be created / opened */
	STORE_E_READONLY = -7,
	STORE_E_ARG = -8,         /* invalid argument (added: e.g. a value too long to encode) */
	STORE_E_EMPTY = -9,       /* read-only open of an environment no writer has initialised yet */
};

const char *store_strerror(int code);

struct store_opts {
	const char *path;     /* directory, created 0700 if missing */
	uint64_t map_size;    /* initial map size in bytes */
	bool map_grow;        /* on MAP_FULL double the map up to map_max */
	uint64_t map_max;
	bool readonly;
};

struct store;
struct store_txn;   /* a write transaction */
struct store_rtxn;  /* a read transaction */

/* readonly (MDB_RDONLY, for CLI readers): never creates anything; a
 * missing directory or data file is STORE_E_IO, a store of another format
 * version STORE_E_CORRUPT.  map_size 0 = LMDB's default (or the file's). */
int store_open(const struct store_opts *o, struct store **out);
void store_close(struct store *s);
/* Current map size, and bytes in use (pages * page size). */
void store_usage(struct store *s, uint64_t *map_size, uint64_t *used);
/* After STORE_E_MAP_FULL with map_grow: doubles the map (no transaction may
 * be open).  STORE_E_MAP_FULL when already at map_max or map_grow is off. */
int store_grow(struct store *s);

#define REC_F_COMPLETE 0x0001u   /* the call ended and every chunk was committed */
#define REC_F_AUDIO 0x0002u      /* chunks exist */
#define REC_F_TRUNCATED 0x0004u  /* stopped early (map full, eviction): what is stored is whole and verified */
#define REC_F_HOLD 0x0008u       /* legal hold: never deleted by sweep or erase until unhold (cli_retention.c) */

/* The plaintext header of a record (encoded big-endian, versioned). */
struct store_rec {
	uint64_t record_id;
	uint64_t invite_us, end_us, deadline_us;
	uint32_t flags;
	uint8_t consent_state;   /* enum consent_state of engine/consent.h, stored as a number */
	uint32_t kek_id;
	uint32_t meta_version;   /* incremented on every rewrite: part of the metadata nonce */
	uint8_t wrapped_dek[RV_WRAPPED_LEN];
	uint8_t caller_hmac[RV_HMAC_LEN], callee_hmac[RV_HMAC_LEN];
};

/* ---- writing ---- */
int store_txn_begin(struct store *s, struct store_txn **t);
/* Commits and frees t.  STORE_E_MAP_FULL: nothing of t was written. */
int store_txn_commit(struct store_txn *t);
void store_txn_abort(struct store_txn *t);
/* A fresh record id (monotonic, never reused, persisted in meta). */
int store_new_record_id(struct store_txn *t, uint64_t *id);
/* Inserts or replaces a record: header + sealed metadata. */
int store_put_record(struct store_txn *t, const struct store_rec *r, const uint8_t *sealed, size_t len);
int store_put_callid(struct store_txn *t, const uint8_t hmac[RV_HMAC_LEN], uint64_t record_id);
/* ct = sealed chunk (ciphertext || tag), 1 <= len; keep len <= STORE_CHUNK_MAX
 * (not enforced, so the chunk-size benchmark can store larger ones). */
int store_put_chunk(struct store_txn *t, uint64_t record_id, uint16_t stream, uint32_t seq, const uint8_t *ct,
		    size_t len);
int store_put_expiry(struct store_txn *t, uint64_t deadline_us, uint64_t record_id);
/* (added) Deletion for retention.  store_del_record removes the record and
 * all its chunks (STORE_E_NOT_FOUND when the record does not exist; its id
 * is never handed out again).  The callid and expiry entries are removed by
 * the caller with the two functions below (it knows the HMAC and deadline);
 * each returns STORE_E_NOT_FOUND when the entry is absent. */
int store_del_record(struct store_txn *t, uint64_t record_id);
int store_del_callid(struct store_txn *t, const uint8_t hmac[RV_HMAC_LEN], uint64_t record_id);
int store_del_expiry(struct store_txn *t, uint64_t deadline_us, uint64_t record_id);

/* ---- reading ---- */
int store_read_begin(struct store *s, struct store_rtxn **r);
void store_read_end(struct store_rtxn *r);
/* *sealed points into the map (valid until store_read_end). */
int store_get_record(struct store_rtxn *r, uint64_t id, struct store_rec *rec, const uint8_t **sealed,
		     size_t *len);
/* Calls cb for every record in id order; cb returns non-zero to stop. */
int store_each_record(struct store_rtxn *r,
		      int (*cb)(void *ctx, const struct store_rec *rec, const uint8_t *sealed, size_t len),
		      void *ctx);
/* Record ids stored under a Call-ID HMAC, in id order.  *n = number written
 * to ids (at most max; 0 and return 0 when the Call-ID is unknown). */
int store_find_callid(struct store_rtxn *r, const uint8_t hmac[RV_HMAC_LEN], uint64_t *ids, size_t max,
		      size_t *n);
/* Calls cb for every chunk of a record in (stream, seq) order. */
int store_each_chunk(struct store_rtxn *r, uint64_t record_id,
		     int (*cb)(void *ctx, uint16_t stream, uint32_t seq, const uint8_t *ct, size_t len),
		     void *ctx);
/* (added) Calls cb for every expiry entry in (deadline, record id) order;
 * cb returns non-zero to stop.  Used by the retention sweep. */
int store_each_expiry(struct store_rtxn *r, int (*cb)(void *ctx, uint64_t deadline_us, uint64_t record_id),
		      void *ctx);

/* ---- audit database (added for the compliance issue; see audit.h) ----
 * Key: sequence number (u64 BE); value: an encoded audit entry (audit.c owns
 * the format; the store only keeps bytes). */
/* Puts (or overwrites) entry seq. */
int store_put_audit(struct store_txn *t, uint64_t seq, const uint8_t *val, size_t len);
/* The newest entry seen by the write transaction t: *seq = 0 and *val = NULL
 * when the log is empty.  *val points into the map until t ends. */
int store_last_audit(struct store_txn *t, uint64_t *seq, const uint8_t **val, size_t *len);
/* Entry seq as seen by the write transaction t (STORE_E_NOT_FOUND if absent). */
int store_get_audit(struct store_txn *t, uint64_t seq, const uint8_t **val, size_t *len);
/* Calls cb for every entry with key >= from in key order; cb returns
 * non-zero to stop.  key_len is the stored key length (8 unless tampered
 * with); seq is 0 when key_len != 8. */
int store_each_audit(struct store_rtxn *r, uint64_t from,
		     int (*cb)(void *ctx, uint64_t seq, size_t key_len, const uint8_t *val, size_t len), void *ctx);

/* Chunk key bytes (14) and AAD: "RVC1" || key || final flag (19 bytes). */
#define STORE_CHUNK_KEY_LEN 14
#define STORE_CHUNK_AAD_LEN 19
void store_chunk_aad(uint64_t record_id, uint16_t stream, uint32_t seq, bool final, uint8_t aad[STORE_CHUNK_AAD_LEN]);
/* Chunk nonce: "C" || stream (BE16) || seq (BE32) || 0 pad: unique per data key. */
void store_chunk_nonce(uint16_t stream, uint32_t seq, uint8_t nonce[RV_NONCE_LEN]);
/* Metadata nonce "M" || meta_version (BE32) || 0 pad.  The metadata AAD is
 * "RVR1" || record id (BE64) || meta_version (BE32), see record.h.
 * A (stream, seq) chunk is sealed at most once per data key and every
 * metadata rewrite increments meta_version: that is what makes nonces unique. */
void store_meta_nonce(uint32_t meta_version, uint8_t nonce[RV_NONCE_LEN]);

/* Chunk plaintext: a run of entries
 *   u64 BE capture time (µs) | u16 BE length | u8 kind | length bytes
 * kind 0 = RTP packet as captured (header + payload), 1 = pause start,
 * 2 = pause end (length 0).  Sealed ciphertext + tag fits one run of LMDB
 * overflow pages: STORE_CHUNK_MAX bytes (2 pages of 4096 minus the page
 * header), so every chunk costs exactly two pages. */
#define STORE_CHUNK_MAX 8176
#define STORE_CHUNK_PLAIN_MAX (STORE_CHUNK_MAX - RV_TAG_LEN)
#define STORE_ENTRY_HDR 11
enum chunk_kind { CHUNK_RTP = 0, CHUNK_PAUSE_START = 1, CHUNK_PAUSE_END = 2 };

#endif
