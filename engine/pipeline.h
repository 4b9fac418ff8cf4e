/*
 * pipeline.h - the multi-worker engine: one call-control thread and N
 * workers that each own the calls (and so the RTP streams) whose Call-ID
 * hashes to them.
 *
 *   capture ──► call control ──rte_ring──► worker 0: engine + sink (recorder)
 *   (frames in   (decode, IP/TCP           worker 1: engine + sink
 *    capture      reassembly, SIP           ...
 *    order)       dialogs, media map)
 *
 * Call control runs a full engine in router mode (engine.h, struct
 * engine_router): it owns every SIP dialog, every media expectation and the
 * flow table, so it decides which call every datagram belongs to exactly as
 * the single-threaded engine does.  It does not track RTP for the sink: it
 * hands each SIP message and each datagram of a call to the worker that
 * owns the call, over that worker's ring, in capture order.  A worker runs
 * an ordinary engine on those units: RTP bookkeeping, RFC 4733 and in-band
 * DTMF, the sink (consent gate, held audio, AES-256-GCM sealing) - the
 * expensive part, which thus scales with workers.  Because a worker sees,
 * in capture order, every message and datagram of its calls, and its timers
 * are run at the capture times call control ran its own (each unit carries
 * them), its calls end up exactly as on a single-threaded engine: the same
 * streams, digits, consent decisions and kept packets.  Both directions of
 * a call, and its SIP, reach the same worker whatever queue they arrived on.
 *
 * Zero-copy: a datagram inside the frame is passed by pointer with the
 * frame's owner (an mbuf), which the worker releases after processing;
 * SIP messages and reassembled datagrams are copied (rare).
 *
 * Threads: pipeline_frame/tick/finish from the call-control thread only;
 * pipeline_work(pl, w) from worker w's thread only.  A full worker ring
 * makes call control wait (backpressure reaches the capture rings, where
 * overload is counted).
 *
 * Limits: per-worker engines keep their own tables, so limits.max_streams
 * and the pending-audio total ([consent] max_pending_total, divided by the
 * number of workers) apply per worker; limits.max_calls is enforced by call
 * control for all calls.  Record ids are reserved per worker in blocks.
 *
 * Only in builds with DPDK (the rings are rte_ring); pipeline_new() fails
 * with a message otherwise.
 */
#ifndef RV_PIPELINE_H
#define RV_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "counters.h"
#include "decode.h"
#include "engine.h"

#define PIPELINE_MAX_WORKERS 64

struct pipeline;

/* Creates call control and n workers; worker w's engine feeds sink with
 * sink_ctx[w].  release(owner) frees a frame's owner after a worker used it
 * (NULL: frames are never released by the pipeline).  stable_frames: frames
 * stay valid until the pipeline is freed (in-memory replay), so nothing is
 * copied or released.  Returns NULL with a message in err. */
struct pipeline *pipeline_new(const struct rv_config *cfg, unsigned n, const struct engine_sink *sink,
			      void *const *sink_ctx, void (*release)(void *owner), bool stable_frames, char *err,
			      size_t errlen);
void pipeline_free(struct pipeline *pl);
unsigned pipeline_workers(const struct pipeline *pl);
void pipeline_set_link(struct pipeline *pl, enum dec_link link);

/* --- call-control thread --- */
/* One captured frame.  owner (may be NULL) is the frame's buffer; returns
 * true when a worker took it (it will call release(owner)), false when the
 * caller still owns it. */
bool pipeline_frame(struct pipeline *pl, uint64_t ts, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
		    void *owner);
/* Capture time advances without a packet (live idle): timers everywhere. */
void pipeline_tick(struct pipeline *pl, uint64_t now_us);
/* End of capture: call control ends its calls and tells every worker to end
 * theirs.  Workers must keep running pipeline_work until pipeline_done. */
void pipeline_finish(struct pipeline *pl);
/* True once every worker has processed the finish. */
bool pipeline_done(const struct pipeline *pl);

/* --- worker thread w --- */
/* Processes up to max queued units; returns how many. */
unsigned pipeline_work(struct pipeline *pl, unsigned w, unsigned max);
bool pipeline_worker_finished(const struct pipeline *pl, unsigned w);

/* --- after pipeline_done (or approximate while running) --- */
/* Counters of the whole pipeline: call control's, with the worker-only
 * ones (in-band DTMF) summed from the workers. */
void pipeline_counters(const struct pipeline *pl, struct rv_counters *out);
struct pipeline_wstats {
	uint64_t units;        /* units handed to the worker by call control */
	uint64_t waits;        /* times call control found its ring full and waited */
	uint64_t done;         /* units the worker has processed */
	uint64_t streams_full; /* streams refused: the worker's stream table was full */
	uint64_t calls;        /* calls the worker's engine has tracked */
};
/* Worker w's numbers (any thread; the worker's own are published after
 * each batch it processes). */
void pipeline_worker_stats(const struct pipeline *pl, unsigned w, struct pipeline_wstats *st);

#endif
