/*
 * cli.h - pieces shared by the subcommands in main.c and cli_store.c.
 */
#ifndef RV_CLI_H
#define RV_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "config.h"
#include "engine.h"
#include "store.h"

/* Loads CONF (NULL: defaults), printing every problem; NULL on failure. */
struct rv_config *cli_load_config(const char *path);

struct pipeline;
/* Reads a capture (file, or interface when live) into the engine (or, with
 * pl, the multi-worker pipeline of the DPDK backend) until EOF or
 * SIGINT/SIGTERM.  Returns 0, or 1 on a capture error (message printed). */
int cli_run_capture(struct engine *e, struct pipeline *pl, const struct rv_config *cfg, const char *source, bool live,
		    bool progress, const char *cmd);

/* "2026-01-01T00:00:00Z", "2026-01-01 00:00:00", "2026-01-01" or epoch
 * seconds (fractions allowed) -> microseconds; -1 when not a time. */
int cli_parse_time(const char *s, uint64_t *us);

/* The store options [storage] describes (path, map size, growth). */
struct store_opts cli_store_opts(const struct rv_config *cfg, bool readonly);

int cmd_keys(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_calls(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_export(int argc, char **argv);

/* cli_retention.c: retention and keys (compliance) */
int cmd_sweep(int argc, char **argv);
int cmd_hold(int argc, char **argv);
int cmd_unhold(int argc, char **argv);
int cmd_erase(int argc, char **argv);
int cmd_keys_rotate(int argc, char **argv);

/* cli_audit.c: the audit log and evidence bundles */
int cmd_audit(int argc, char **argv);
int cmd_verify_bundle(int argc, char **argv);

/* stats.c: counters of a running engine */
int cmd_stats(int argc, char **argv);

#endif
