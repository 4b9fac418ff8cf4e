/*
 * retention.h - the running engine's periodic retention sweep.
 *
 * `capture` calls retention_start() after opening the store and the keys
 * (before any privilege drop: it loads every profile key file), the capture
 * loop calls retention_tick(now) often (cheap when nothing is due), and
 * retention_stop() before the store is closed.  Every [retention]
 * sweep_interval a sweep is due; each tick then deletes at most one batch
 * (sweep_batch calls, two short write transactions) until nothing expired is
 * left, so the packet loop is never blocked for long.  The same deletion code
 * serves `rtpvault sweep` (cli_retention.c).
 *
 * Call it for live capture (-i) only: deadlines are compared with the wall
 * clock, so replaying an old trace (-r FILE) into a store would delete the
 * expired calls of earlier captures mid-replay; use `rtpvault sweep` there.
 * Deletions are printed on stdout ("sweep: deleted record ...") and receipted
 * in the audit log.
 *
 * Does NOT: run on its own thread; sweep when retention_tick is not called.
 */
#ifndef RV_RETENTION_H
#define RV_RETENTION_H

#include <stdint.h>

#include "config.h"
#include "store.h"

/* 0, or -1 with a message on stderr (then no periodic sweep runs). */
int retention_start(const struct rv_config *cfg, struct store *st);
/* now: wall clock in µs (util_wall_us()).  No-op before retention_start. */
void retention_tick(uint64_t now_us);
void retention_stop(void);

#endif
