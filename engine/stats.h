/*
 * stats.h - counters of a running capture for `rtpvault stats` and a
 * Prometheus text endpoint, plus the DPDK backend's extras.
 *
 * Thread-safety: the capture loop (the only thread that may read engine
 * state) renders a snapshot every ~100 ms with stats_publish(); the serving
 * threads only copy that rendered snapshot under a mutex.  They never read
 * the engine, the recorder or the capture backend.
 *
 * Serving: a unix stream socket ([stats] socket, default
 * <storage path>/stats.sock, mode 0600) answers every connection with the
 * snapshot as text and closes; [stats] prometheus_port > 0 serves the same
 * lines over HTTP/1.0 on 127.0.0.1 (one tiny blocking responder thread).
 *
 * Does NOT: authenticate (the socket's mode and the loopback address are
 * the access control), keep history, or push anywhere.
 */
#ifndef RV_STATS_H
#define RV_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "config.h"
#include "counters.h"

/* One extra counter of a backend: name{labels} value. */
struct stats_kv {
	char name[48];
	char labels[48];  /* e.g. port="0",queue="1"; "" for none */
	uint64_t v;
};

struct stats_server;

/* Starts the socket (and Prometheus) server for cfg; NULL with a message in
 * err when it cannot (the caller decides whether that is fatal). */
struct stats_server *stats_server_start(const struct rv_config *cfg, char *err, size_t errlen);
/* Renders a new snapshot (called from the capture loop only). */
void stats_publish(struct stats_server *s, const char *backend, const struct capture_stats *cs,
		   const struct stats_kv *kv, size_t nkv, const struct rv_counters *ec, uint64_t uptime_us);
/* Stops the threads, removes the socket; NULL is fine. */
void stats_server_stop(struct stats_server *s);
/* The socket path for cfg into buf; -1 when it does not fit. */
int stats_socket_path(const struct rv_config *cfg, char *buf, size_t len);

struct engine;
/* The capture loop of cli_run_capture() (engine/main.c) for a device that is
 * already open: signals, stats server (cmd "capture"), DPDK stop/drain,
 * engine_finish and the summary on stderr.  Does not close cap. */
struct pipeline;
int cli_capture_loop(struct engine *e, struct pipeline *pl, const struct rv_config *cfg,
		     const struct capture_ops *ops, struct capture *cap, bool live, bool progress, const char *cmd);

#if RV_HAVE_DPDK
extern const struct capture_ops capture_dpdk_ops;
/* Stop receiving: workers stop polling; next() then drains what was already
 * received and returns CAP_EOF. */
void dpdk_capture_request_stop(struct capture *c);
/* True when the ports are live (not a finite net_pcap file replay). */
bool dpdk_capture_live(const struct capture *c);
/* Per-queue and per-port counters; returns how many were written. */
size_t dpdk_capture_detail(struct capture *c, struct stats_kv *kv, size_t max);
/* Multi-worker pipeline (engine/pipeline.h) on the RX lcores:
 * work(ctx, w) runs worker w's share on RX lcore w (returns units done, 0
 * when idle, < 0 once that worker has finished); frame() replaces the
 * capture callback and may keep the mbuf (owner), returning true; it is
 * then freed with dpdk_capture_release().  Call before the first next(). */
typedef int (*dpdk_work_fn)(void *ctx, unsigned worker);
typedef bool (*dpdk_frame_fn)(void *ctx, uint64_t ts, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
			      void *owner);
unsigned dpdk_capture_workers(const struct capture *c);
void dpdk_capture_attach(struct capture *c, dpdk_work_fn work, dpdk_frame_fn frame, void *ctx);
/* Stops RX and waits for every RX lcore to return (before freeing what
 * they work on). */
void dpdk_capture_join(struct capture *c);
void dpdk_capture_release(void *mbuf);
/* Totals: frames received from the NIC, handed to the engine, dropped on a
 * full ring, and what IP reassembly (rte_ip_frag) did with fragments:
 * merged into a completed datagram (k - 1 of its k fragments), freed by the
 * death row (timeouts, malformed sets, full table, end of capture), still
 * held in the tables.  Once drained: received == processed + ring_full +
 * frag_absorbed + frag_freed + frag_held, and frag_held is 0 once every
 * queue has stopped. */
struct dpdk_totals {
	uint64_t received, processed, ring_full;
	uint64_t frag_reassembled, frag_absorbed, frag_freed, frag_held;
};
void dpdk_capture_totals(struct capture *c, struct dpdk_totals *t);
#endif

#endif
