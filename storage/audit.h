/*
 * audit.h - the tamper-evident audit log in the store's `audit` database.
 *
 * One entry per access or change: who (uid, user name), when, the command,
 * call ids (record ids and Call-IDs), purpose, ticket, result (allowed,
 * refused, failed), sha256 of exported files, and for engine events
 * (capture start/stop with the config hash, consent decisions, retention
 * deletions, key operations) a short detail text.  Entries are keyed by a
 * sequence number (u64 BE) and chained: each carries HMAC-SHA256(audit_key,
 * previous entry's MAC || this entry's encoding), so changing, deleting or
 * reordering any entry breaks the chain from there on; a chain head kept off
 * the machine (`audit anchor`) detects removal of the newest entries.
 * Entry text holds no phone numbers.
 *
 * audit_append() is called inside the caller's write transaction so that an
 * export's entry is committed before any output is written (the caller
 * commits, then writes files).
 */
#ifndef RV_AUDIT_H
#define RV_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "store.h"

enum audit_result { AUDIT_ALLOWED = 0, AUDIT_REFUSED = 1, AUDIT_FAILED = 2, AUDIT_INFO = 3 };

struct audit_entry {
	uint64_t seq;          /* assigned by audit_append */
	uint64_t time_us;
	uint32_t uid;
	char user[64];
	char command[32];      /* "export", "show", "calls", "erase", "sweep", "capture-start", "consent", "keys-rotate"... */
	uint8_t result;        /* enum audit_result */
	char purpose[256];
	char ticket[128];
	char detail[1024];     /* call ids, file hashes, config hash, reason... (JSON text) */
	uint8_t mac[32];       /* chain MAC, filled by audit_append / read back by audit_each */
};

/* Appends e in the open write transaction t; sets e->seq and e->mac. */
int audit_append(struct store_txn *t, const struct rv_kek *kek, struct audit_entry *e);
/* Calls cb for every entry in sequence order (from seq >= from). */
int audit_each(struct store_rtxn *r, uint64_t from, int (*cb)(void *ctx, const struct audit_entry *e), void *ctx);
/* Verifies the whole chain.  Returns 0 when intact; otherwise a negative
 * code and *bad_seq = the first entry that does not verify (or is missing,
 * or out of order).  With anchor (hex of a head MAC and its seq), also
 * checks that the entry anchor_seq still has that MAC and that the log did not
 * shrink below it. */
int audit_verify(struct store_rtxn *r, const struct rv_kek *kek, uint64_t *bad_seq, const char *anchor,
		 char *msg, size_t msglen);
/* The chain MAC of one entry: HMAC-SHA256(kek->audit_key, "RVAC1" || prev ||
 * enc), enc being the entry's encoding without its MAC.  Exposed for key
 * rotation, which re-chains the log under a new key. */
int audit_chain_mac(const struct rv_kek *kek, const uint8_t prev[32], const uint8_t *enc, size_t len,
		    uint8_t out[32]);

/* "SEQ:HEXMAC" of the newest entry (the chain head), for keeping off-box. */
int audit_head(struct store_rtxn *r, char *out, size_t n);

#endif
