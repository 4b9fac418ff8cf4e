/*
 * inband.h - DTMF tones inside G.711 audio, detected by spandsp's DTMF
 * receiver (ITU-T Q.23/Q.24 compliant, well tested) rather than a
 * hand-written Goertzel.  One detector per media stream (80 bytes: only
 * the receiver's changing fields, see inband.c); digits are returned from
 * the feed call in which spandsp confirms them.
 */
#ifndef RV_INBAND_H
#define RV_INBAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct inband;

/* returns owned, NULL on allocation failure */
struct inband *inband_new(void);
/* Feeds G.711 bytes (A-law when alaw, else µ-law).  Digits confirmed while
 * reading them are written to digits (at most max) and counted in the
 * return value. */
int inband_feed(struct inband *ib, const uint8_t *g711, size_t n, bool alaw, char *digits, int max);
void inband_free(struct inband *ib);
/* For tests: writes the spandsp receiver state (dtmf_rx_state_t, size bytes)
 * this detector stands for; -1 if size is not that struct's size. */
int inband_export(const struct inband *ib, void *state, size_t size);
/* For tests: the quiet-frame energy (sum of the squared linear samples) of
 * n G.711 bytes by implementation impl, 0 <= impl < inband_energy_impls()
 * (0: the table loop; the others: vector versions).  Returns -1 when this
 * CPU cannot run impl.  inband_feed uses the fastest one it can. */
int inband_energy_impls(void);
int inband_energy(int impl, const uint8_t *g711, size_t n, bool alaw, uint64_t *out);

#endif
