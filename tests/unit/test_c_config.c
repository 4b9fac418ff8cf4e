/*
 * test_c_config.c - unit tests for engine/config.c (linked alone, with no
 * engine objects): defaults, every value type with its suffixes and bounds,
 * the exact FILE:LINE messages, all-problems-at-once, quoting and comments,
 * profiles, robustness on huge and binary input, and that the shipped
 * etc/rtpvault.conf and docs/config.md are exactly what the generators print.
 *
 * Run from the repository root (the shipped-file tests open etc/ and docs/).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define SEC_US 1000000ULL

/* Load text; returns problems, *errs = everything printed (caller frees). */
static int load(const char *text, struct rv_config **c, char **errs)
{
	size_t sz = 0;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, &sz);
	assert_non_null(f);
	int n = config_load_string("t.conf", text, c, f);
	fclose(f);
	if (errs)
		*errs = buf;
	else
		free(buf);
	return n;
}

/* Expect exactly one problem whose message is want. */
static void expect_error(const char *text, const char *want)
{
	struct rv_config *c = (struct rv_config *)1;
	char *errs;
	int n = load(text, &c, &errs);
	assert_string_equal(errs, want);
	assert_int_equal(n, 1);
	assert_null(c);
	free(errs);
}

static struct rv_config *load_ok(const char *text)
{
	struct rv_config *c = NULL;
	char *errs;
	int n = load(text, &c, &errs);
	assert_string_equal(errs, "");
	assert_int_equal(n, 0);
	assert_non_null(c);
	free(errs);
	return c;
}

static char *dump_str(const struct rv_config *c)
{
	size_t sz = 0;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, &sz);
	assert_non_null(f);
	config_dump(c, f);
	fclose(f);
	/* drop the first line: it names the path */
	char *nl = strchr(buf, '\n');
	assert_non_null(nl);
	memmove(buf, nl + 1, strlen(nl + 1) + 1);
	return buf;
}

static char *gen(void (*fn)(FILE *))
{
	size_t sz = 0;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, &sz);
	assert_non_null(f);
	fn(f);
	fclose(f);
	return buf;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run the test from the repository root)", path);
	size_t cap = 1 << 20;
	char *buf = malloc(cap + 1);
	assert_non_null(buf);
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

static void assert_same_as_defaults(const struct rv_config *c)
{
	struct rv_config *d = config_default();
	assert_non_null(d);
	char *a = dump_str(c), *b = dump_str(d);
	assert_string_equal(a, b);
	free(a);
	free(b);
	config_free(d);
}

/* ------------------------------------------------------------------ */

static void test_defaults(void **state)
{
	(void)state;
	struct rv_config *c = load_ok("");
	assert_string_equal(config_path(c), "t.conf");
	assert_int_equal(c->capture_backend, RV_CAPTURE_PCAP);
	assert_string_equal(c->capture_interface, "");
	assert_string_equal(c->capture_bpf_filter, "");
	assert_int_equal(c->capture_snaplen, 65535);
	assert_int_equal(c->capture_buffer_size, 64ULL << 20);
	assert_int_equal(c->capture_poll_timeout, 100000);
	assert_true(config_port_in(c->sip_ports, 5060));
	assert_true(config_port_in(c->sip_ports, 5061));
	assert_false(config_port_in(c->sip_ports, 5062));
	assert_false(config_port_in(c->sip_ports, 5059));
	assert_false(config_port_in(c->sip_ports, 0));
	assert_true(c->sip_detect_any_port);
	assert_int_equal(c->sip_invite_timeout, 120 * SEC_US);
	assert_int_equal(c->sip_linger, 5 * SEC_US);
	assert_int_equal(c->sip_max_call_duration, 4 * 3600 * SEC_US);
	assert_int_equal(c->sip_max_callid_len, 256);
	assert_int_equal(c->rtp_inactivity_timeout, 60 * SEC_US);
	assert_int_equal(c->rtp_probation, 2);
	assert_true(c->rtp_port_only_fallback);
	assert_true(c->rtp_inband_dtmf);
	assert_true(c->rtp_rtcp);
	assert_int_equal(c->limits_max_calls, 20000);
	assert_int_equal(c->limits_max_streams, 100000);
	assert_int_equal(c->limits_max_expectations, 100000);
	assert_int_equal(c->limits_max_tcp_conns, 10000);
	assert_int_equal(c->limits_tcp_buffer, 64 * 1024);
	assert_int_equal(c->limits_tcp_ooo_segments, 32);
	assert_int_equal(c->limits_tcp_idle_timeout, 300 * SEC_US);
	assert_int_equal(c->limits_max_frag_datagrams, 4096);
	assert_int_equal(c->limits_max_frag_bytes, 8 << 20);
	assert_int_equal(c->limits_frag_timeout, 5 * SEC_US);
	assert_int_equal(c->limits_report_buffer, 65536);
	assert_int_equal(c->log_level, RV_LOG_INFO);
	assert_int_equal(c->log_numbers, RV_NUMBERS_MASKED);
	assert_int_equal(c->profile_count, 0);
	assert_same_as_defaults(c);
	config_free(c);

	struct rv_config *d = config_default();
	assert_non_null(d);
	assert_string_equal(config_path(d), "(defaults)");
	config_free(d);
	config_free(NULL);

	/* whitespace, comments and empty sections only */
	c = load_ok("\n  \n# c\n; c\n[rtp]\n\t# indented\n[sip]\n");
	assert_same_as_defaults(c);
	config_free(c);

	assert_string_equal(config_enum_word("log", "level", RV_LOG_DEBUG), "debug");
	assert_null(config_enum_word("log", "level", 4));
	assert_null(config_enum_word("log", "nope", 0));
}

/* Every key's min and max text must load: the table is self-consistent. */
static void test_table_bounds_load(void **state)
{
	(void)state;
	char text[8192];
	for (int which = 0; which < 2; which++) {
		size_t o = 0;
		const char *last = "";
#define T_X(sec, key, type, def, mn, mx, vals, doc) \
	if (strcmp(last, #sec)) \
		o += (size_t)snprintf(text + o, sizeof(text) - o, "[%s]\n", #sec); \
	last = #sec; \
	if ((which ? mx : mn)[0]) \
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s = %s\n", #key, which ? mx : mn);
		RV_CONFIG_KEYS(T_X)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "[profile p]\n");
		last = "profile";
		RV_CONFIG_PROFILE_KEYS(T_X)
#undef T_X
		assert_true(o < sizeof(text));
		struct rv_config *c = load_ok(text);
		if (which) {
			assert_int_equal(c->capture_buffer_size, 4ULL << 30);
			assert_int_equal(c->profiles[0].retention, 100ULL * 365 * 86400 * SEC_US);
		} else {
			assert_int_equal(c->sip_linger, 0);
		}
		config_free(c);
	}
}

static void test_bool(void **state)
{
	(void)state;
	static const char *const t[] = { "true", "yes", "on", "1" };
	static const char *const f[] = { "false", "no", "off", "0" };
	char text[128];
	for (int i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "[rtp]\nrtcp = %s\n", f[i]);
		struct rv_config *c = load_ok(text);
		assert_false(c->rtp_rtcp);
		config_free(c);
		snprintf(text, sizeof(text), "[rtp]\nrtcp = %s\ninband_dtmf = %s\n", t[i], f[i]);
		c = load_ok(text);
		assert_true(c->rtp_rtcp);
		assert_false(c->rtp_inband_dtmf);
		config_free(c);
	}
	expect_error("[rtp]\nrtcp = maybe\n",
		     "t.conf:2: [rtp] rtcp: \"maybe\" is not a boolean (use true or false)\n");
	expect_error("[rtp]\nrtcp = TRUE\n",
		     "t.conf:2: [rtp] rtcp: \"TRUE\" is not a boolean (use true or false)\n");
	expect_error("[rtp]\nrtcp =\n", "t.conf:2: [rtp] rtcp: empty value\n");
}

static void test_int(void **state)
{
	(void)state;
	struct rv_config *c = load_ok("[limits]\nmax_calls = 10000000\ntcp_ooo_segments = 0\n"
				      "[capture]\nsnaplen=64\n");
	assert_int_equal(c->limits_max_calls, 10000000);
	assert_int_equal(c->limits_tcp_ooo_segments, 0);
	assert_int_equal(c->capture_snaplen, 64);
	config_free(c);
	expect_error("[limits]\nmax_calls = 0\n",
		     "t.conf:2: [limits] max_calls: \"0\" is out of range (1..10000000)\n");
	expect_error("[limits]\nmax_calls = 10000001\n",
		     "t.conf:2: [limits] max_calls: \"10000001\" is out of range (1..10000000)\n");
	expect_error("[limits]\nmax_calls = -5\n",
		     "t.conf:2: [limits] max_calls: \"-5\" is out of range (1..10000000)\n");
	expect_error("[limits]\nmax_calls = 12abc\n",
		     "t.conf:2: [limits] max_calls: \"12abc\" is not an integer\n");
	expect_error("[limits]\nmax_calls = 1e6\n",
		     "t.conf:2: [limits] max_calls: \"1e6\" is not an integer\n");
	expect_error("[limits]\nmax_calls = +5\n",
		     "t.conf:2: [limits] max_calls: \"+5\" is not an integer\n");
	expect_error("[limits]\nmax_calls = 99999999999999999999999\n",
		     "t.conf:2: [limits] max_calls: \"99999999999999999999999\" is not an integer\n");
	expect_error("[limits]\nmax_calls = -9223372036854775808\n",
		     "t.conf:2: [limits] max_calls: \"-9223372036854775808\" is out of range (1..10000000)\n");
	expect_error("[limits]\nmax_calls = -\n", "t.conf:2: [limits] max_calls: \"-\" is not an integer\n");
}

static void test_size(void **state)
{
	(void)state;
	struct rv_config *c = load_ok("[capture]\nbuffer_size = 4G\n[limits]\ntcp_buffer = 4096\n"
				      "max_frag_bytes = 1g\n");
	assert_int_equal(c->capture_buffer_size, 4ULL << 30);
	assert_int_equal(c->limits_tcp_buffer, 4096);
	assert_int_equal(c->limits_max_frag_bytes, 1ULL << 30);
	config_free(c);
	c = load_ok("[capture]\nbuffer_size = 1024k\n[limits]\ntcp_buffer = 16M\nmax_frag_bytes=65536\n");
	assert_int_equal(c->capture_buffer_size, 1ULL << 20);
	assert_int_equal(c->limits_tcp_buffer, 16ULL << 20);
	assert_int_equal(c->limits_max_frag_bytes, 65536);
	config_free(c);
	expect_error("[capture]\nbuffer_size = 5X\n",
		     "t.conf:2: [capture] buffer_size: \"5X\" is not a size (use 65536, 64K, 8M, 1G)\n");
	expect_error("[capture]\nbuffer_size = 1.5M\n",
		     "t.conf:2: [capture] buffer_size: \"1.5M\" is not a size (use 65536, 64K, 8M, 1G)\n");
	expect_error("[capture]\nbuffer_size = 64MB\n",
		     "t.conf:2: [capture] buffer_size: \"64MB\" is not a size (use 65536, 64K, 8M, 1G)\n");
	expect_error("[capture]\nbuffer_size = M\n",
		     "t.conf:2: [capture] buffer_size: \"M\" is not a size (use 65536, 64K, 8M, 1G)\n");
	expect_error("[capture]\nbuffer_size = 1023K\n",
		     "t.conf:2: [capture] buffer_size: \"1023K\" is out of range (1M..4G)\n");
	expect_error("[capture]\nbuffer_size = 4097M\n",
		     "t.conf:2: [capture] buffer_size: \"4097M\" is out of range (1M..4G)\n");
	expect_error("[capture]\nbuffer_size = 99999999999999G\n",
		     "t.conf:2: [capture] buffer_size: \"99999999999999G\" is not a size (use 65536, 64K, 8M, 1G)\n");
}

static void test_duration(void **state)
{
	(void)state;
	struct rv_config *c = load_ok("[rtp]\ninactivity_timeout = 30\n[sip]\ninvite_timeout = 1h\n"
				      "linger = 0\nmax_call_duration = 7d\n[capture]\npoll_timeout = 1ms\n"
				      "[limits]\nfrag_timeout = 100ms\ntcp_idle_timeout = 2m\n"
				      "[profile a]\nretention = 1y\n");
	assert_int_equal(c->rtp_inactivity_timeout, 30 * SEC_US);
	assert_int_equal(c->sip_invite_timeout, 3600 * SEC_US);
	assert_int_equal(c->sip_linger, 0);
	assert_int_equal(c->sip_max_call_duration, 7 * 86400 * SEC_US);
	assert_int_equal(c->capture_poll_timeout, 1000);
	assert_int_equal(c->limits_frag_timeout, 100000);
	assert_int_equal(c->limits_tcp_idle_timeout, 120 * SEC_US);
	assert_int_equal(c->profiles[0].retention, 365ULL * 86400 * SEC_US);
	config_free(c);
	expect_error("\n\n\n\n\n\n\n\n\n\n[rtp]\ninactivity_timeout = 5x\n",
		     "t.conf:12: [rtp] inactivity_timeout: \"5x\" is not a duration (use 30s, 5m, 1h)\n");
	expect_error("[rtp]\ninactivity_timeout = 1.5h\n",
		     "t.conf:2: [rtp] inactivity_timeout: \"1.5h\" is not a duration (use 30s, 5m, 1h)\n");
	expect_error("[rtp]\ninactivity_timeout = 1 s\n",
		     "t.conf:2: [rtp] inactivity_timeout: \"1 s\" is not a duration (use 30s, 5m, 1h)\n");
	expect_error("[rtp]\ninactivity_timeout = 5S\n",
		     "t.conf:2: [rtp] inactivity_timeout: \"5S\" is not a duration (use 30s, 5m, 1h)\n");
	expect_error("[rtp]\ninactivity_timeout = 999ms\n",
		     "t.conf:2: [rtp] inactivity_timeout: \"999ms\" is out of range (1s..1h)\n");
	expect_error("[rtp]\ninactivity_timeout = 61m\n",
		     "t.conf:2: [rtp] inactivity_timeout: \"61m\" is out of range (1s..1h)\n");
	expect_error("[profile a]\nretention = 101y\n",
		     "t.conf:2: [profile a] retention: \"101y\" is out of range (0s..100y)\n");
	expect_error("[profile a]\nretention = 99999999999999y\n",
		     "t.conf:2: [profile a] retention: \"99999999999999y\" is not a duration (use 30s, 5m, 1h)\n");
}

static void test_string_quotes_comments(void **state)
{
	(void)state;
	struct rv_config *c = load_ok("[capture]\n"
				      "interface = eth0   # trailing comment\n"
				      "bpf_filter = \"udp and port 5060 # not a comment; \\\"q\\\" \\\\\"  ; c\n");
	assert_string_equal(c->capture_interface, "eth0");
	assert_string_equal(c->capture_bpf_filter, "udp and port 5060 # not a comment; \"q\" \\");
	config_free(c);

	c = load_ok("[capture]\ninterface = a#b;c\t;comment\nbpf_filter=\"\"\n");
	assert_string_equal(c->capture_interface, "a#b;c");
	assert_string_equal(c->capture_bpf_filter, "");
	config_free(c);

	c = load_ok("[capture]\ninterface = # only a comment\nbpf_filter = \"  spaced  \"\n");
	assert_string_equal(c->capture_interface, "");
	assert_string_equal(c->capture_bpf_filter, "  spaced  ");
	config_free(c);

	/* CRLF line endings and tabs */
	c = load_ok("[capture]\r\n\tinterface\t=\teth1\r\n[log]\r\nlevel = debug\r\n");
	assert_string_equal(c->capture_interface, "eth1");
	assert_int_equal(c->log_level, RV_LOG_DEBUG);
	config_free(c);

	expect_error("[capture]\ninterface = \"eth0\n",
		     "t.conf:2: [capture] interface: quoted value has no closing '\"'\n");
	expect_error("[capture]\ninterface = \"eth0\" x\n",
		     "t.conf:2: [capture] interface: unexpected text after closing '\"'\n");
	expect_error("[capture]\ninterface = \"a\\nb\"\n",
		     "t.conf:2: [capture] interface: unknown escape in quoted value (only \\\" and \\\\)\n");
	expect_error("[capture]\ninterface = a\x01" "b\n",
		     "t.conf:2: [capture] interface: control character in value\n");
}

static void test_enum(void **state)
{
	(void)state;
	struct rv_config *c = load_ok("[capture]\nbackend = dpdk\n[log]\nlevel = error\nnumbers = full\n");
	assert_int_equal(c->capture_backend, RV_CAPTURE_DPDK);
	assert_int_equal(c->log_level, RV_LOG_ERROR);
	assert_int_equal(c->log_numbers, RV_NUMBERS_FULL);
	config_free(c);
	assert_int_equal(RV_CFG_N_log_level, 4);
	expect_error("[capture]\nbackend = PCAP\n",
		     "t.conf:2: [capture] backend: \"PCAP\" is not one of: pcap, dpdk\n");
	expect_error("[log]\nlevel = verbose\n",
		     "t.conf:2: [log] level: \"verbose\" is not one of: error, warn, info, debug\n");
}

static void test_unknown(void **state)
{
	(void)state;
	expect_error("[sip]\n\n\n\n\n\nportz = 5060\n",
		     "t.conf:7: unknown key \"portz\" in [sip] (did you mean \"ports\"?)\n");
	expect_error("[sip]\nbananas = 1\n", "t.conf:2: unknown key \"bananas\" in [sip]\n");
	expect_error("[sip]\nprobation = 3\n",
		     "t.conf:2: unknown key \"probation\" in [sip] (it belongs in [rtp])\n");
	/* keys of an unknown section are not reported again */
	expect_error("[rpt]\nprobation = 3\nwhatever = 1\n",
		     "t.conf:1: unknown section [rpt] (did you mean [rtp]?)\n");
	expect_error("[media]\n", "t.conf:1: unknown section [media]\n");
	expect_error("[sip foo]\n", "t.conf:1: unknown section [sip foo] (only [profile NAME] takes a name)\n");
	expect_error("probation = 3\n", "t.conf:1: key \"probation\" outside of any [section]\n");
	expect_error("[rtp]\nprobation\n",
		     "t.conf:2: expected \"key = value\", \"[section]\" or a comment\n");
	expect_error("[rtp]\nProbation = 2\n",
		     "t.conf:2: invalid key name \"Probation\" (lower-case letters, digits and _)\n");
	expect_error("[rtp]\n= 2\n", "t.conf:2: missing key name before \"=\"\n");
	expect_error("[rtp\n", "t.conf:1: section header without closing \"]\"\n");
	expect_error("[rtp] x\n", "t.conf:1: unexpected text after section header\n");
	struct rv_config *c = load_ok("[ rtp ]  # comment\nprobation = 3\n");
	assert_int_equal(c->rtp_probation, 3);
	config_free(c);
}

static void test_duplicates(void **state)
{
	(void)state;
	expect_error("[rtp]\nprobation = 3\n# x\nprobation = 4\n",
		     "t.conf:4: [rtp] probation given twice (first at line 2)\n");
	expect_error("[rtp]\nprobation = 3\n[sip]\n[rtp]\nrtcp = no\n",
		     "t.conf:4: section [rtp] given twice (first at line 1)\n");
	/* the same key in two different profiles is fine */
	struct rv_config *c = load_ok("[profile a]\nretention = 1d\n[profile b]\nretention = 2d\n");
	assert_int_equal(c->profile_count, 2);
	config_free(c);
}

static void test_all_problems_reported(void **state)
{
	(void)state;
	const char *text = "[capture]\n"
			   "backend = foo\n"         /* 2 */
			   "snaplen = 1\n"           /* 3 */
			   "[sip]\n"
			   "ports = 0\n"             /* 5 */
			   "linger = 1w\n"           /* 6 */
			   "linger = 1s\n"           /* 7: duplicate */
			   "[bogus]\n"               /* 8 */
			   "x = 1\n"                 /* skipped */
			   "[limits]\n"
			   "max_callz = 1\n"         /* 11 */
			   "report_buffer = -1\n"    /* 12 */
			   "[log]\n"
			   "level = info\n";
	struct rv_config *c = (struct rv_config *)1;
	char *errs;
	int n = load(text, &c, &errs);
	assert_null(c);
	assert_string_equal(errs,
			    "t.conf:2: [capture] backend: \"foo\" is not one of: pcap, dpdk\n"
			    "t.conf:3: [capture] snaplen: \"1\" is out of range (64..262144)\n"
			    "t.conf:5: [sip] ports: \"0\" port 0 is out of range (1..65535)\n"
			    "t.conf:6: [sip] linger: \"1w\" is not a duration (use 30s, 5m, 1h)\n"
			    "t.conf:7: [sip] linger given twice (first at line 6)\n"
			    "t.conf:8: unknown section [bogus]\n"
			    "t.conf:11: unknown key \"max_callz\" in [limits] (did you mean \"max_calls\"?)\n"
			    "t.conf:12: [limits] report_buffer: \"-1\" is out of range (0..10000000)\n");
	assert_int_equal(n, 8);
	free(errs);

	/* NULL err stream: still counted */
	assert_int_equal(config_load_string("x", text, &c, NULL), 8);
	assert_null(c);
}

static void test_profiles(void **state)
{
	(void)state;
	struct rv_config *c = load_ok("[profile gold]\n"
				      "retention = 10y\n"
				      "match_callee_prefixes = +4420, 0800 ,\t112\n"
				      "match_callee_regex = ^sip:(\\+44|0)20[0-9]+@\n"
				      "[rtp]\n"
				      "probation = 4\n"
				      "[profile basic.v-2_x]\n");
	assert_int_equal(c->rtp_probation, 4);
	assert_int_equal(c->profile_count, 2);
	assert_string_equal(c->profiles[0].name, "gold");
	assert_int_equal(c->profiles[0].retention, 10ULL * 365 * 86400 * SEC_US);
	assert_int_equal(c->profiles[0].match_callee_prefixes.count, 3);
	assert_string_equal(c->profiles[0].match_callee_prefixes.items[0], "+4420");
	assert_string_equal(c->profiles[0].match_callee_prefixes.items[1], "0800");
	assert_string_equal(c->profiles[0].match_callee_prefixes.items[2], "112");
	assert_null(c->profiles[0].match_callee_prefixes.items[3]);
	assert_string_equal(c->profiles[0].match_callee_regex, "^sip:(\\+44|0)20[0-9]+@");
	assert_string_equal(c->profiles[1].name, "basic.v-2_x");
	assert_int_equal(c->profiles[1].retention, 180ULL * 86400 * SEC_US);
	assert_int_equal(c->profiles[1].match_callee_prefixes.count, 0);
	assert_non_null(c->profiles[1].match_callee_prefixes.items);
	assert_null(c->profiles[1].match_callee_prefixes.items[0]);
	assert_string_equal(c->profiles[1].match_callee_regex, "");
	config_free(c);

	expect_error("[profile a]\n[profile a]\n", "t.conf:2: [profile a] given twice\n");
	expect_error("[profile]\n", "t.conf:1: [profile] needs a name: [profile NAME]\n");
	expect_error("[profile a b]\n",
		     "t.conf:1: profile name \"a b\" must be 1 to 64 letters, digits, '_', '.' or '-'\n");
	expect_error("[profile a]\nprobation = 1\n",
		     "t.conf:2: unknown key \"probation\" in [profile a] (it belongs in [rtp])\n");
	expect_error("[profile a]\nretension = 1d\n",
		     "t.conf:2: unknown key \"retension\" in [profile a] (did you mean \"retention\"?)\n");
	expect_error("[profile a]\nretention = 1d\nretention = 2d\n",
		     "t.conf:3: [profile a] retention given twice (first at line 2)\n");

	/* 32 profiles fit, the 33rd is refused */
	char text[4096];
	size_t o = 0;
	for (int i = 0; i < 33; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "[profile p%d]\nretention = %dd\n", i, i);
	char want[128];
	snprintf(want, sizeof(want), "t.conf:%d: more than 32 [profile] sections\n", 2 * 32 + 1);
	expect_error(text, want);
	*strstr(text, "[profile p32]") = 0;
	c = load_ok(text);
	assert_int_equal(c->profile_count, 32);
	assert_int_equal(c->profiles[31].retention, 31ULL * 86400 * SEC_US);
	config_free(c);
}

static void test_list(void **state)
{
	(void)state;
	struct rv_config *c = load_ok("[profile a]\nmatch_callee_prefixes = \"#1, ;2\"\n"
				      "[profile b]\nmatch_callee_prefixes = one\n"
				      "[profile c]\nmatch_callee_prefixes =   \n");
	assert_int_equal(c->profiles[0].match_callee_prefixes.count, 2);
	assert_string_equal(c->profiles[0].match_callee_prefixes.items[0], "#1");
	assert_string_equal(c->profiles[0].match_callee_prefixes.items[1], ";2");
	assert_int_equal(c->profiles[1].match_callee_prefixes.count, 1);
	assert_string_equal(c->profiles[1].match_callee_prefixes.items[0], "one");
	assert_int_equal(c->profiles[2].match_callee_prefixes.count, 0);
	config_free(c);
	expect_error("[profile a]\nmatch_callee_prefixes = a,,b\n",
		     "t.conf:2: [profile a] match_callee_prefixes: \"a,,b\" has an empty item (use a,b,c)\n");
	expect_error("[profile a]\nmatch_callee_prefixes = a,\n",
		     "t.conf:2: [profile a] match_callee_prefixes: \"a,\" has an empty item (use a,b,c)\n");
}

static void test_ports(void **state)
{
	(void)state;
	struct rv_config *c = load_ok("[sip]\nports = 5060, 5070 - 5072,65535,1\n");
	assert_true(config_port_in(c->sip_ports, 1));
	assert_true(config_port_in(c->sip_ports, 5060));
	assert_false(config_port_in(c->sip_ports, 5061));
	assert_false(config_port_in(c->sip_ports, 5069));
	assert_true(config_port_in(c->sip_ports, 5070));
	assert_true(config_port_in(c->sip_ports, 5071));
	assert_true(config_port_in(c->sip_ports, 5072));
	assert_false(config_port_in(c->sip_ports, 5073));
	assert_true(config_port_in(c->sip_ports, 65535));
	assert_false(config_port_in(c->sip_ports, 65534));
	config_free(c);
	c = load_ok("[sip]\nports = \"\"\n");
	for (uint32_t p = 0; p <= 65535; p++)
		assert_false(config_port_in(c->sip_ports, (uint16_t)p));
	config_free(c);
	c = load_ok("[sip]\nports = 1-65535\n");
	for (uint32_t p = 1; p <= 65535; p++)
		assert_true(config_port_in(c->sip_ports, (uint16_t)p));
	assert_false(config_port_in(c->sip_ports, 0));
	config_free(c);
	expect_error("[sip]\nports = 70000\n",
		     "t.conf:2: [sip] ports: \"70000\" port 70000 is out of range (1..65535)\n");
	expect_error("[sip]\nports = 5070-5060\n",
		     "t.conf:2: [sip] ports: \"5070-5060\" port range 5070-5060 is not within 1..65535 "
		     "in ascending order\n");
	expect_error("[sip]\nports = sip\n",
		     "t.conf:2: [sip] ports: \"sip\" is not a port list (use 5060,5061 or 5060-5070)\n");
	expect_error("[sip]\nports = 5060,\n",
		     "t.conf:2: [sip] ports: \"5060,\" is not a port list (use 5060,5061 or 5060-5070)\n");
	expect_error("[sip]\nports = 5060-\n",
		     "t.conf:2: [sip] ports: \"5060-\" is not a port list (use 5060,5061 or 5060-5070)\n");
	expect_error("[sip]\nports = 99999999999999999999999\n",
		     "t.conf:2: [sip] ports: \"99999999999999999999999\" is not a port list "
		     "(use 5060,5061 or 5060-5070)\n");
}

static void test_regex(void **state)
{
	(void)state;
	struct rv_config *c = load_ok("[profile a]\nmatch_callee_regex = \"^(a|b)+[0-9]{2,}$ #x\"\n");
	assert_string_equal(c->profiles[0].match_callee_regex, "^(a|b)+[0-9]{2,}$ #x");
	config_free(c);
	struct rv_config *out = NULL;
	char *errs;
	int n = load("[profile a]\nmatch_callee_regex = (abc\n", &out, &errs);
	assert_int_equal(n, 1);
	assert_null(out);
	const char *want = "t.conf:2: [profile a] match_callee_regex: \"(abc\" is not a valid regular expression: ";
	assert_memory_equal(errs, want, strlen(want));
	assert_non_null(strchr(errs, '\n'));
	free(errs);
	n = load("[profile a]\nmatch_callee_regex = a{2,1}\n", &out, NULL);
	assert_int_equal(n, 1);
}

static void test_long_lines(void **state)
{
	(void)state;
	size_t big = 100 * 1024;
	char *text = malloc(big + 64);
	assert_non_null(text);
	/* huge comment: fine */
	memcpy(text, "[sip]\n#", 7);
	memset(text + 7, 'x', big);
	strcpy(text + 7 + big, "\nlinger = 1s\n");
	struct rv_config *c = load_ok(text);
	assert_int_equal(c->sip_linger, SEC_US);
	config_free(c);
	/* huge value: refused */
	memcpy(text, "[capture]\ninterface = ", 22);
	memset(text + 22, 'y', big);
	strcpy(text + 22 + big, "\n");
	expect_error(text, "t.conf:2: [capture] interface: value is longer than 4096 bytes\n");
	/* value of exactly 4096 bytes: accepted */
	strcpy(text + 22 + 4096, "\n");
	c = load_ok(text);
	assert_int_equal(strlen(c->capture_interface), 4096);
	config_free(c);
	/* huge key name and huge section name: refused, messages stay short */
	memset(text, 'k', big);
	strcpy(text + big, " = 1\n");
	char *errs;
	int n = load(text, &c, &errs);
	assert_int_equal(n, 1);
	assert_true(strlen(errs) < 200);
	free(errs);
	text[0] = '[';
	memset(text + 1, 's', big);
	strcpy(text + 1 + big, "]\nfoo = 1\n");
	n = load(text, &c, &errs);
	assert_int_equal(n, 1);
	assert_true(strlen(errs) < 200);
	free(errs);
	/* huge port list */
	strcpy(text, "[sip]\nports = ");
	size_t o = strlen(text);
	while (o < 4000)
		o += (size_t)snprintf(text + o, big - o, "%zu,", o);
	strcpy(text + o, "1\n");
	c = load_ok(text);
	config_free(c);
	free(text);
}

static uint32_t rng = 12345;
static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void test_garbage(void **state)
{
	(void)state;
	size_t len = 70 * 1024;
	char *buf = malloc(len + 1);
	assert_non_null(buf);
	char path[] = "/tmp/rv_cfg_test_XXXXXX";
	for (int round = 0; round < 20; round++) {
		/* mix of raw bytes and syntax characters */
		static const char syn[] = "[]=#;\"\\\n ,-";
		for (size_t i = 0; i < len; i++) {
			uint32_t r = next_rand();
			buf[i] = (r & 3) ? (char)(r >> 8) : syn[(r >> 8) % (sizeof(syn) - 1)];
		}
		buf[len] = 0;
		/* as a string (stops at the first NUL) */
		struct rv_config *c = NULL;
		int n = config_load_string("g.conf", buf, &c, NULL);
		assert_true(n >= 0);
		config_free(c);
		/* as a file, NULs included */
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, buf, len), (ssize_t)len);
		close(fd);
		n = config_load(path, &c, NULL);
		assert_true(n > 0);
		assert_null(c);
		unlink(path);
		strcpy(path, "/tmp/rv_cfg_test_XXXXXX");
	}
	/* printable garbage into every section so every type parser sees it */
	static const char *const secs[] = { "capture", "sip", "rtp", "limits", "log", "profile z" };
	static const char *const ks[] = { "backend", "interface", "snaplen", "buffer_size", "poll_timeout",
					  "ports", "detect_any_port", "linger", "probation", "max_calls",
					  "level", "retention", "match_callee_prefixes", "match_callee_regex" };
	for (int round = 0; round < 300; round++) {
		char text[512];
		size_t o = (size_t)snprintf(text, sizeof(text), "[%s]\n%s = ", secs[next_rand() % 6],
					    ks[next_rand() % 14]);
		size_t vl = next_rand() % 40;
		for (size_t i = 0; i < vl; i++)
			text[o++] = "0123456789-,kKMGmshdy.()[]{}*+?|^$\\\" #;abc"[next_rand() % 43];
		text[o++] = '\n';
		text[o] = 0;
		struct rv_config *c = NULL;
		int n = config_load_string("g.conf", text, &c, NULL);
		assert_true(n >= 0);
		assert_true((n == 0) == (c != NULL));
		config_free(c);
	}
	free(buf);
}

static void test_files(void **state)
{
	(void)state;
	struct rv_config *c = (struct rv_config *)1;
	char *errs;
	size_t sz = 0;
	FILE *f = open_memstream(&errs, &sz);
	assert_int_equal(config_load("/nonexistent/rtpvault.conf", &c, f), 1);
	fclose(f);
	assert_null(c);
	assert_string_equal(errs, "/nonexistent/rtpvault.conf: cannot open: No such file or directory\n");
	free(errs);
	f = open_memstream(&errs, &sz);
	assert_int_equal(config_load("/tmp", &c, f), 1);
	fclose(f);
	assert_string_equal(errs, "/tmp: not a regular file\n");
	free(errs);

	/* a NUL byte inside a line of a file */
	char path[] = "/tmp/rv_cfg_test_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[rtp]\nprobation = 3\0\nrtcp = no\n", 31), 31);
	close(fd);
	f = open_memstream(&errs, &sz);
	assert_int_equal(config_load(path, &c, f), 1);
	fclose(f);
	char want[128];
	snprintf(want, sizeof(want), "%s:2: NUL byte in line\n", path);
	assert_string_equal(errs, want);
	free(errs);
	unlink(path);

	/* a good file: path is kept */
	strcpy(path, "/tmp/rv_cfg_test_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[rtp]\nprobation = 3\n", 20), 20);
	close(fd);
	assert_int_equal(config_load(path, &c, stderr), 0);
	assert_string_equal(config_path(c), path);
	assert_int_equal(c->rtp_probation, 3);
	config_free(c);
	unlink(path);
}

static void test_shipped_files(void **state)
{
	(void)state;
	char *want = gen(config_write_default);
	char *have = slurp("etc/rtpvault.conf");
	assert_string_equal(have, want);
	free(have);
	free(want);
	want = gen(config_write_doc);
	have = slurp("docs/config.md");
	assert_string_equal(have, want);
	free(have);
	free(want);
	struct rv_config *c = NULL;
	assert_int_equal(config_load("etc/rtpvault.conf", &c, stderr), 0);
	assert_same_as_defaults(c);
	config_free(c);
}

static void test_default_file(void **state)
{
	(void)state;
	char *text = gen(config_write_default);
	struct rv_config *c = load_ok(text);
	assert_same_as_defaults(c);
	config_free(c);

	/* every key of it, uncommented, still loads and still equals the defaults */
	size_t n = strlen(text);
	char *un = malloc(n + 1);
	assert_non_null(un);
	size_t o = 0, keys = 0;
	for (size_t i = 0; i < n;) {
		bool bol = (i == 0 || text[i - 1] == '\n');
		if (bol && text[i] == '#' && i + 1 < n && (text[i + 1] == '[' || (text[i + 1] >= 'a' && text[i + 1] <= 'z'))) {
			i++;
			keys++;
			continue;
		}
		un[o++] = text[i++];
	}
	un[o] = 0;
	assert_true(keys > 30);
	c = load_ok(un);
	/* the shipped example profiles, in file order */
	assert_int_equal(c->profile_count, 5);
	assert_string_equal(c->profiles[0].name, "example");
	assert_int_equal(c->profiles[0].retention, 180ULL * 86400 * SEC_US);
	assert_string_equal(c->profiles[1].name, "finance");
	assert_int_equal(c->profiles[1].retention, 5ULL * 365 * 86400 * SEC_US);
	assert_string_equal(c->profiles[2].name, "healthcare");
	assert_true(c->profiles[2].key_file[0] != '\0');
	assert_string_equal(c->profiles[3].name, "education");
	assert_true(c->profiles[3].minor_header[0] != '\0');
	assert_string_equal(c->profiles[4].name, "default");
	/* every key outside the profiles is at its default */
	struct rv_config *d = load_ok("[profile example]\n");
	char *x = dump_str(c), *y = dump_str(d);
	char *px = strstr(x, "[profile"), *py = strstr(y, "[profile");
	assert_non_null(px);
	assert_non_null(py);
	*px = *py = '\0';
	assert_string_equal(x, y);
	free(x);
	free(y);
	config_free(d);
	config_free(c);
	free(un);
	free(text);
}

static void test_dump_roundtrip(void **state)
{
	(void)state;
	struct rv_config *c = load_ok("[capture]\nbackend = dpdk\ninterface = \"e#0 \"\nbuffer_size = 1025K\n"
				      "poll_timeout = 1500ms\n[sip]\nports = 1,3-5,7,65535\nlinger = 0\n"
				      "[log]\nnumbers = full\n[profile q]\nmatch_callee_prefixes = a, b\n"
				      "match_callee_regex = \"x\\\\y\"\nretention = 0\n");
	char *a = dump_str(c);
	assert_non_null(strstr(a, "ports = 1,3-5,7,65535\n"));
	assert_non_null(strstr(a, "poll_timeout = 1500ms\n"));
	assert_non_null(strstr(a, "buffer_size = 1025K\n"));
	assert_non_null(strstr(a, "interface = \"e#0 \"\n"));
	assert_non_null(strstr(a, "linger = 0s\n"));
	struct rv_config *d = load_ok(a);
	char *b = dump_str(d);
	assert_string_equal(a, b);
	assert_string_equal(d->profiles[0].match_callee_regex, "x\\y");
	free(a);
	free(b);
	config_free(c);
	config_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_table_bounds_load),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_string_quotes_comments),
		cmocka_unit_test(test_enum),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_all_problems_reported),
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_regex),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_shipped_files),
		cmocka_unit_test(test_default_file),
		cmocka_unit_test(test_dump_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
