/*
 * capture.h - capture backends behind one small ops struct (STYLE.md 6).
 *
 * A backend delivers frames with their capture time to a callback in
 * batches.  The list of backends is known in one place (capture_find());
 * asking for one this build lacks (DPDK in a DPDK=0 build) fails with a
 * clear message, never a silent fallback.
 */
#ifndef RV_CAPTURE_H
#define RV_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "decode.h"

struct capture;

typedef void (*capture_cb)(void *ctx, uint64_t ts_us, const uint8_t *frame, uint32_t caplen, uint32_t wirelen);

struct capture_stats {
	uint64_t received;  /* frames delivered */
	uint64_t dropped;   /* kernel/NIC drops (ps_drop, imissed) */
	uint64_t if_dropped;
};

enum capture_rc {
	CAP_OK = 0,      /* n >= 0 frames delivered */
	CAP_EOF = -1,    /* offline file ended */
	CAP_ERROR = -2,
};

struct capture_ops {
	const char *name;
	/* source: file path (offline) or interface name (live) */
	int (*open)(struct capture **out, const struct rv_config *cfg, const char *source, bool live, char *err,
		    size_t errlen);
	/* Delivers up to max frames; waits at most the poll timeout when live.
	 * Returns the number delivered (0 = nothing yet) or enum capture_rc. */
	int (*next)(struct capture *c, capture_cb cb, void *ctx, int max);
	enum dec_link (*link)(const struct capture *c);
	void (*stats)(struct capture *c, struct capture_stats *st);
	void (*close)(struct capture *c);
};

extern const struct capture_ops capture_pcap_ops;

/* The backend called name, or NULL (with a message in err) when unknown or
 * not built in. */
const struct capture_ops *capture_find(const char *name, char *err, size_t errlen);

/* DLT_* value -> decoder link type; 0 when unsupported. */
enum dec_link capture_map_dlt(int dlt);

#endif
