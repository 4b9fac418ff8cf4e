/*
 * fuzz_engine.c - the whole pipeline on hostile frames: decode, IP and TCP
 * reassembly, SIP, SDP, expectations, RTP streams, DTMF, timers, the
 * analyze report writer.
 *
 * Input: a sequence of records [u8 link][u8 dt_ms][u16 len][len bytes]; each
 * record is one captured frame, dt_ms after the previous one (so timers
 * fire).  The engine uses a default config with small limits so eviction
 * paths run too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "config.h"
#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rv_config *cfg;
static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!cfg) {
		if (config_load_string("fuzz", "[limits]\nmax_calls = 8\nmax_streams = 16\nmax_expectations = 16\n"
					       "max_tcp_conns = 4\ntcp_buffer = 4K\nmax_frag_datagrams = 4\n"
					       "[sip]\nlinger = 1s\ninvite_timeout = 2s\n[rtp]\ninactivity_timeout = 2s\n",
				       &cfg, stderr) != 0)
			abort();
		devnull = fopen("/dev/null", "w");
	}
	struct analyze *an = analyze_new(devnull, size & 1, 4);
	struct engine *e = engine_new(cfg, analyze_sink(), an);
	if (!e)
		abort();
	engine_set_orphans(e, true);
	uint64_t ts = 1767225600000000ULL;
	size_t off = 0;
	while (off + 4 <= size) {
		uint8_t link = data[off];
		uint8_t dt = data[off + 1];
		size_t len = (size_t)data[off + 2] << 8 | data[off + 3];
		off += 4;
		if (len > size - off)
			len = size - off;
		uint8_t *frame = malloc(len ? len : 1);
		memcpy(frame, data + off, len);
		engine_set_link(e, (enum dec_link)(1 + link % 8));
		ts += (uint64_t)dt * 1000u;
		engine_packet(e, ts, frame, (uint32_t)len, (uint32_t)len);
		free(frame);
		off += len;
	}
	engine_finish(e);
	struct rv_counters cnt;
	engine_counters(e, &cnt);
	analyze_finish(an, e, &cnt);
	engine_free(e);
	analyze_free(an);
	return 0;
}
