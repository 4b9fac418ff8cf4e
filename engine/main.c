/*
 * main.c - the rtpvault command line: one binary, subcommands.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "capture.h"
#include "cli.h"
#include "config.h"
#include "engine.h"
#include "pipeline.h"
#include "retention.h"
#include "stats.h"

#ifndef RV_VERSION
#define RV_VERSION "0.1.0"
#endif

static volatile sig_atomic_t quit_flag;

static void on_signal(int sig)
{
	(void)sig;
	quit_flag = 1;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rtpvault COMMAND [options]\n"
		"\n"
		"recording\n"
		"  keys init -c CONF                   create the key-encryption key (mode 0400)\n"
		"  keys rotate -c CONF [--profile P]   new KEK, re-wrap every data key (resumable)\n"
		"  capture -c CONF -r FILE | -i IFACE | --dpdk   record calls with consent into the store\n"
		"  stats [-c CONF]                     counters of a running capture\n"
		"reading (role-checked, audited)\n"
		"  calls -c CONF [--json] [--since T] [--until T] [--number N] [--consent STATE]\n"
		"  show -c CONF CALL-ID [--json]       metadata and consent evidence of a call\n"
		"  export -c CONF CALL-ID --purpose TEXT [--ticket T] --format pcap|wav|all|bundle -o DIR\n"
		"  verify-bundle DIR (-c CONF | --key FILE)   check an exported evidence bundle offline\n"
		"  audit -c CONF list [--call CALL-ID] [--since T] [--json] | verify [--anchor H] | anchor\n"
		"retention\n"
		"  sweep -c CONF [--now T]             delete expired calls (crypto-shredding first)\n"
		"  hold | unhold -c CONF CALL-ID --reason TEXT\n"
		"  erase -c CONF CALL-ID --reason TEXT delete before the deadline (role-checked)\n"
		"analysis and configuration\n"
		"  analyze FILE [-c CONF] [--json]     calls, streams and DTMF of a capture (nothing stored)\n"
		"  analyze -i IFACE [-c CONF] [--json] the same, live, until SIGINT/SIGTERM\n"
		"  check-config -c CONF                report every problem in a config file\n"
		"  config-show [-c CONF] [SECTION.KEY] the effective configuration, or one value\n"
		"  config-doc                          print the config reference (docs/config.md)\n"
		"  config-default                      print the commented default config\n"
		"  version\n");
}

struct rv_config *cli_load_config(const char *path)
{
	struct rv_config *cfg = NULL;
	if (!path)
		return config_default();
	int n = config_load(path, &cfg, stderr);
	if (n != 0) {
		fprintf(stderr, "rtpvault: %s: %d problem%s, not starting\n", path, n, n == 1 ? "" : "s");
		return NULL;
	}
	return cfg;
}

struct run_ctx {
	struct engine *e;
	struct pipeline *pl;
};

static void on_frame(void *ctx, uint64_t ts, const uint8_t *frame, uint32_t caplen, uint32_t wirelen)
{
	struct run_ctx *r = ctx;
	if (r->pl)
		pipeline_frame(r->pl, ts, frame, caplen, wirelen, NULL);
	else
		engine_packet(r->e, ts, frame, caplen, wirelen);
}

static void run_counters(const struct run_ctx *r, struct rv_counters *out)
{
	if (r->pl)
		pipeline_counters(r->pl, out);
	else
		engine_counters(r->e, out);
}

#if RV_HAVE_DPDK
/* RX lcore w's share of the pipeline. */
static int dpdk_work(void *ctx, unsigned w)
{
	struct run_ctx *r = ctx;
	unsigned n = pipeline_work(r->pl, w, 32);
	if (n == 0 && pipeline_worker_finished(r->pl, w))
		return -1;
	return (int)n;
}

static bool dpdk_frame(void *ctx, uint64_t ts, const uint8_t *frame, uint32_t caplen, uint32_t wirelen, void *owner)
{
	struct run_ctx *r = ctx;
	return pipeline_frame(r->pl, ts, frame, caplen, wirelen, owner);
}
#endif

static int cmd_analyze(int argc, char **argv)
{
	const char *conf = NULL, *file = NULL, *iface = NULL;
	bool json = false, progress = isatty(2);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
			iface = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--progress") == 0)
			progress = true;
		else if (strcmp(argv[i], "--no-progress") == 0)
			progress = false;
		else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "rtpvault analyze: unknown option %s\n", argv[i]);
			return 2;
		} else if (!file)
			file = argv[i];
		else {
			fprintf(stderr, "rtpvault analyze: more than one capture file given\n");
			return 2;
		}
	}
	if (!file == !iface) {
		fprintf(stderr, "usage: rtpvault analyze FILE [-c CONF] [--json] | analyze -i IFACE ...\n");
		return 2;
	}
	struct rv_config *cfg = cli_load_config(conf);
	if (!cfg)
		return 1;
	struct analyze *an = analyze_new(stdout, json, (size_t)cfg->limits_report_buffer);
	struct engine *e = an ? engine_new(cfg, analyze_sink(), an) : NULL;
	if (e)
		engine_set_orphans(e, true);
	if (!e) {
		fprintf(stderr, "rtpvault analyze: out of memory\n");
		analyze_free(an);
		config_free(cfg);
		return 1;
	}
	int status = cli_run_capture(e, NULL, cfg, file ? file : iface, iface != NULL, progress, "analyze");
	if (status == 0 || iface) {
		struct rv_counters cnt;
		engine_counters(e, &cnt);
		analyze_finish(an, e, &cnt);
	}
	engine_free(e);
	analyze_free(an);
	config_free(cfg);
	fflush(stdout);
	return status;
}

/* Copies a snapshot of the counters for the stats server (main loop only). */
static void publish_stats(struct stats_server *srv, const struct capture_ops *ops, struct capture *cap,
			  const struct run_ctx *r, uint64_t t0)
{
	struct capture_stats cs;
	struct rv_counters cnt;
	static struct stats_kv kv[512];
	size_t nkv = 0;
	ops->stats(cap, &cs);
#if RV_HAVE_DPDK
	if (ops == &capture_dpdk_ops)
		nkv = dpdk_capture_detail(cap, kv, sizeof(kv) / sizeof(kv[0]));
#endif
	for (unsigned i = 0; r->pl && i < pipeline_workers(r->pl) && nkv + 5 <= sizeof(kv) / sizeof(kv[0]); i++) {
		struct pipeline_wstats ws;
		pipeline_worker_stats(r->pl, i, &ws);
		const uint64_t v[5] = { ws.units, ws.done, ws.waits, ws.streams_full, ws.calls };
		static const char *const n[5] = { "pipeline_worker_units", "pipeline_worker_units_done",
						  "pipeline_worker_ring_waits", "pipeline_worker_streams_table_full",
						  "pipeline_worker_calls" };
		for (int k = 0; k < 5; k++) {
			struct stats_kv *x = &kv[nkv++];
			snprintf(x->name, sizeof(x->name), "%s", n[k]);
			snprintf(x->labels, sizeof(x->labels), "worker=\"%u\"", i);
			x->v = v[k];
		}
	}
	run_counters(r, &cnt);
	stats_publish(srv, ops->name, &cs, kv, nkv, &cnt, util_mono_us() - t0);
}

int cli_run_capture(struct engine *e, struct pipeline *pl, const struct rv_config *cfg, const char *source, bool live,
		    bool progress, const char *cmd)
{
	char err[512];
	const struct capture_ops *ops = capture_find(config_enum_word("capture", "backend", cfg->capture_backend),
						     err, sizeof(err));
	struct capture *cap = NULL;
	if (!ops) {
		fprintf(stderr, "rtpvault %s: %s\n", cmd, err);
		return 1;
	}
	if (ops->open(&cap, cfg, source, live, err, sizeof(err)) < 0) {
		fprintf(stderr, "rtpvault %s: %s\n", cmd, err);
		return 1;
	}
	int status = cli_capture_loop(e, pl, cfg, ops, cap, live, progress, cmd);
	ops->close(cap);
	return status;
}

int cli_capture_loop(struct engine *e, struct pipeline *pl, const struct rv_config *cfg,
		     const struct capture_ops *ops, struct capture *cap, bool live, bool progress, const char *cmd)
{
	char err[512];
	bool dpdk = false;
#if RV_HAVE_DPDK
	if (ops == &capture_dpdk_ops) {
		dpdk = true;
		live = dpdk_capture_live(cap); /* a finite net_pcap replay runs on file time */
	}
#endif
	struct run_ctx rc = { e, pl };
	if (pl) {
#if RV_HAVE_DPDK
		if (!dpdk || dpdk_capture_workers(cap) != pipeline_workers(pl)) {
			fprintf(stderr, "rtpvault %s: internal error: a pipeline needs the DPDK backend's workers\n", cmd);
			return 1;
		}
		dpdk_capture_attach(cap, dpdk_work, dpdk_frame, &rc);
#endif
		pipeline_set_link(pl, ops->link(cap));
	} else {
		engine_set_link(e, ops->link(cap));
	}
	install_signals();
	struct stats_server *srv = NULL;
	if (strcmp(cmd, "capture") == 0) {
		srv = stats_server_start(cfg, err, sizeof(err));
		if (!srv)
			fprintf(stderr, "rtpvault %s: stats server not started: %s\n", cmd, err);
	}
	uint64_t t0 = util_mono_us(), last_prog = t0, last_pub = 0, packets = 0;
	int status = 0;
	bool stopping = false;
	for (;;) {
		if (quit_flag && !stopping) {
			if (!dpdk)
				break;
#if RV_HAVE_DPDK
			dpdk_capture_request_stop(cap); /* stop RX; next() drains the rings, then EOF */
#endif
			stopping = true;
		}
		int n = ops->next(cap, on_frame, &rc, 256);
		if (n == CAP_EOF)
			break;
		if (n == CAP_ERROR) {
			fprintf(stderr, "rtpvault %s: capture error\n", cmd);
			status = 1;
			break;
		}
		packets += (uint64_t)(n > 0 ? n : 0);
		if (live && n == 0) {
			if (pl)
				pipeline_tick(pl, util_wall_us());
			else
				engine_tick(e, util_wall_us());
		}
		if (live)
			retention_tick(util_wall_us()); /* no-op unless capture started a sweep */
		if (srv || progress) {
			uint64_t now = util_mono_us();
			if (srv && now - last_pub >= 100000u) {
				publish_stats(srv, ops, cap, &rc, t0);
				last_pub = now;
			}
			if (progress && now - last_prog > 2000000u) {
				fprintf(stderr, "\r%s: %" PRIu64 " packets, %.0f packets/s ...", cmd, packets,
					packets * 1e6 / (double)(now - t0));
				last_prog = now;
			}
		}
	}
	if (pl) {
		/* call control ends its calls, then each worker ends (and seals) its own */
		pipeline_finish(pl);
		while (!pipeline_done(pl))
			usleep(100);
#if RV_HAVE_DPDK
		dpdk_capture_join(cap);
#endif
	} else {
		engine_finish(e);
	}
	if (srv)
		publish_stats(srv, ops, cap, &rc, t0);
	struct rv_counters cnt;
	run_counters(&rc, &cnt);
	uint64_t dt = util_mono_us() - t0;
	struct capture_stats cs;
	ops->stats(cap, &cs);
	if (progress)
		fputc('\n', stderr);
	fprintf(stderr, "%s: %" PRIu64 " packets in %.3f s (%.0f packets/s)", cmd, cnt.c[C_packets], dt / 1e6,
		dt ? cnt.c[C_packets] * 1e6 / (double)dt : 0.0);
	if (live && !dpdk)
		fprintf(stderr, ", kernel dropped %" PRIu64, cs.dropped);
	fputc('\n', stderr);
	for (unsigned i = 0; pl && i < pipeline_workers(pl); i++) {
		struct pipeline_wstats ws;
		pipeline_worker_stats(pl, i, &ws);
		fprintf(stderr,
			"%s: pipeline worker %u: %" PRIu64 " units, %" PRIu64 " calls, %" PRIu64
			" streams refused (table full); call control waited for room %" PRIu64 " times\n",
			cmd, i, ws.units, ws.calls, ws.streams_full, ws.waits);
	}
#if RV_HAVE_DPDK
	if (dpdk) {
		uint64_t imissed = 0, nombuf = 0, ierr = 0;
		struct dpdk_totals t;
		struct stats_kv kv[512];
		size_t nkv = dpdk_capture_detail(cap, kv, sizeof(kv) / sizeof(kv[0]));
		dpdk_capture_totals(cap, &t);
		for (size_t i = 0; i < nkv; i++) {
			if (strcmp(kv[i].name, "dpdk_port_imissed") == 0)
				imissed += kv[i].v;
			else if (strcmp(kv[i].name, "dpdk_port_rx_nombuf") == 0)
				nombuf += kv[i].v;
			else if (strcmp(kv[i].name, "dpdk_port_ierrors") == 0)
				ierr += kv[i].v;
		}
		fprintf(stderr,
			"%s: dpdk received %" PRIu64 " processed %" PRIu64 " ring_full_drops %" PRIu64 " imissed %" PRIu64
			" rx_nombuf %" PRIu64 " ierrors %" PRIu64 " frag_absorbed %" PRIu64 " frag_freed %" PRIu64
			" frag_held %" PRIu64 "\n",
			cmd, t.received, t.processed, t.ring_full, imissed, nombuf, ierr, t.frag_absorbed, t.frag_freed,
			t.frag_held);
		for (size_t i = 0; i < nkv; i++)
			if (strncmp(kv[i].name, "dpdk_queue_", 11) == 0)
				fprintf(stderr, "%s: %s{%s} %" PRIu64 "\n", cmd, kv[i].name, kv[i].labels, kv[i].v);
	}
#endif
	stats_server_stop(srv);
	return status;
}

static int cmd_check_config(int argc, char **argv)
{
	const char *conf = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (!conf && argv[i][0] != '-')
			conf = argv[i];
		else {
			fprintf(stderr, "usage: rtpvault check-config -c FILE\n");
			return 2;
		}
	}
	if (!conf) {
		fprintf(stderr, "usage: rtpvault check-config -c FILE\n");
		return 2;
	}
	struct rv_config *cfg = NULL;
	int n = config_load(conf, &cfg, stderr);
	if (n) {
		fprintf(stderr, "%s: %d problem%s\n", conf, n, n == 1 ? "" : "s");
		return 1;
	}
	printf("%s: ok\n", conf);
	config_free(cfg);
	return 0;
}

/* config-show -c CONF [SECTION.KEY]: the effective configuration, or one value. */
static int cmd_config_show(int argc, char **argv)
{
	const char *conf = NULL, *key = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (!key)
			key = argv[i];
		else {
			fprintf(stderr, "usage: rtpvault config-show [-c CONF] [SECTION.KEY]\n");
			return 2;
		}
	}
	struct rv_config *cfg = cli_load_config(conf);
	if (!cfg)
		return 1;
	if (!key) {
		config_dump(cfg, stdout);
		config_free(cfg);
		return 0;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	config_dump(cfg, m);
	fclose(m);
	const char *dot = strchr(key, '.');
	int rc = 1;
	if (dot) {
		char sect[80];
		snprintf(sect, sizeof(sect), "[%.*s]", (int)(dot - key), key);
		const char *name = dot + 1;
		bool in = false;
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
			if (line[0] == '[') {
				in = strcmp(line, sect) == 0;
				continue;
			}
			size_t nl = strlen(name);
			if (in && strncmp(line, name, nl) == 0 && (line[nl] == ' ' || line[nl] == '=')) {
				const char *v = strchr(line, '=');
				v = v ? v + 1 : "";
				while (*v == ' ')
					v++;
				size_t vl = strlen(v);
				if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"')
					printf("%.*s\n", (int)(vl - 2), v + 1);
				else
					printf("%s\n", v);
				rc = 0;
				break;
			}
		}
	}
	if (rc)
		fprintf(stderr, "rtpvault config-show: no key %s (write it as section.key)\n", key);
	free(buf);
	config_free(cfg);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "analyze") == 0)
		return cmd_analyze(argc - 1, argv + 1);
	if (strcmp(cmd, "keys") == 0)
		return cmd_keys(argc - 1, argv + 1);
	if (strcmp(cmd, "capture") == 0)
		return cmd_capture(argc - 1, argv + 1);
	if (strcmp(cmd, "calls") == 0)
		return cmd_calls(argc - 1, argv + 1);
	if (strcmp(cmd, "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	if (strcmp(cmd, "export") == 0)
		return cmd_export(argc - 1, argv + 1);
	if (strcmp(cmd, "sweep") == 0)
		return cmd_sweep(argc - 1, argv + 1);
	if (strcmp(cmd, "hold") == 0)
		return cmd_hold(argc - 1, argv + 1);
	if (strcmp(cmd, "unhold") == 0)
		return cmd_unhold(argc - 1, argv + 1);
	if (strcmp(cmd, "erase") == 0)
		return cmd_erase(argc - 1, argv + 1);
	if (strcmp(cmd, "audit") == 0)
		return cmd_audit(argc - 1, argv + 1);
	if (strcmp(cmd, "verify-bundle") == 0)
		return cmd_verify_bundle(argc - 1, argv + 1);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(argc - 1, argv + 1);
	if (strcmp(cmd, "check-config") == 0)
		return cmd_check_config(argc - 1, argv + 1);
	if (strcmp(cmd, "config-show") == 0)
		return cmd_config_show(argc - 1, argv + 1);
	if (strcmp(cmd, "config-doc") == 0) {
		config_write_doc(stdout);
		return 0;
	}
	if (strcmp(cmd, "config-default") == 0) {
		config_write_default(stdout);
		return 0;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("rtpvault %s (DPDK %s)\n", RV_VERSION, RV_HAVE_DPDK ? "built in" : "not built in");
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "rtpvault: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
