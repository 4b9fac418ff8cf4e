/*
 * recorder.h - the consent gate and the path from accepted RTP to sealed
 * chunks in the store: the engine sink behind `rtpvault capture`.
 *
 * Per call the gate is in one state: pending (audio is held in RAM only,
 * bounded per call and in total), then granted, denied, timeout, withdrawn,
 * or exempt; a call that ends before an answer is none.  Only an explicit
 * signal of the configured party within the window (or an exempt rule) lets
 * audio reach the store; held audio of refused, timed-out, cancelled,
 * evicted or shut-down calls is wiped, never written.  The rules are in
 * docs/operations.md ("Consent") and /docs/storage-format.md.
 *
 * Sealing (AES-256-GCM with the call's data key) happens here, on the
 * engine thread; the writer thread only commits.  Every call seen is stored
 * as a record, also when nothing was kept: its metadata is the evidence.
 */
#ifndef RV_RECORDER_H
#define RV_RECORDER_H

#include <stdint.h>
#include <stdio.h>

#include "crypto.h"
#include "engine.h"
#include "writer.h"

enum consent_state {
	CONSENT_PENDING = 0,
	CONSENT_GRANTED,
	CONSENT_DENIED,
	CONSENT_TIMEOUT,
	CONSENT_WITHDRAWN,
	CONSENT_EXEMPT,
	CONSENT_NONE,
	CONSENT__COUNT
};

enum consent_method { CM_NONE = 0, CM_RFC4733, CM_SIP_INFO, CM_INBAND, CM_SIP_HEADER, CM_EXEMPT };

const char *consent_state_name(int s);
int consent_state_parse(const char *name);
const char *consent_method_name(int m);

#define RECORDER_COUNTERS(X)                                                                      \
	X(calls, "calls seen")                                                                    \
	X(packets_kept, "RTP packets stored")                                                     \
	X(packets_held, "RTP packets held in RAM before a decision")                              \
	X(packets_discarded, "RTP packets not kept (no consent, refused, paused, withdrawn)")     \
	X(pending_bytes_wiped, "bytes of held audio wiped without being stored")                  \
	X(pending_dropped_per_call, "held packets wiped because max_pending_per_call was reached") \
	X(pending_evicted_total, "calls whose held audio was wiped because max_pending_total was reached") \
	X(bytes_sealed, "bytes of sealed chunks and records handed to the writer")                 \
	X(chunks, "chunks sealed")                                                                \
	X(signals_ignored_party, "consent digits from the other party (ignored)")                 \
	X(signals_ignored_digit, "digits that are neither grant, refuse nor withdraw (ignored)")  \
	X(signals_ignored_window, "consent signals after the window (ignored)")                   \
	X(signals_ignored_decided, "consent signals after the decision (ignored)")                \
	X(signals_ignored_method, "signals of a disabled method (ignored)")                       \
	X(pauses, "pauses of keeping audio (PCI DSS)")                                            \
	X(store_full_calls, "calls not recorded because the store was full")                      \
	X(crypto_errors, "sealing failures (call not recorded)")                                  \
	X(pending_bytes_persisted_without_consent, "bytes handed to the store for a call without consent (must be 0)")

enum rec_counter {
#define RC_ENUM(n, d) RC_##n,
	RECORDER_COUNTERS(RC_ENUM)
#undef RC_ENUM
	RC__COUNT
};

struct recorder;

/* kek and w are borrowed for the recorder's lifetime. */
struct recorder *recorder_new(const struct rv_config *cfg, const struct rv_kek *kek, struct writer *w,
			      char *err, size_t errlen);
void recorder_free(struct recorder *r);
const struct engine_sink *recorder_sink(void);
void recorder_counters(const struct recorder *r, uint64_t out[RC__COUNT]);
void recorder_state_counts(const struct recorder *r, uint64_t out[CONSENT__COUNT]);
const char *recorder_counter_name(int i);

#endif
