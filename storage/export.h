/*
 * export.h - writers for decrypted recordings: pcap and WAV.
 *
 * Input is what the store yields after authentication: per stream its
 * endpoints and codec, and the kept RTP packets (as captured, with capture
 * time) plus pause markers.  Storage knows nothing of packets beyond this:
 * the pcap writer rebuilds Ethernet/IPv4-or-IPv6/UDP headers around each RTP
 * packet from the stream's endpoints, with the original capture time, so the
 * file opens in Wireshark and the RTP headers and payloads are byte-identical
 * to the capture.
 *
 * WAV: 16-bit PCM, 8 kHz (G.722 is decoded with spandsp's 8 kHz output
 * option, so every codec lands on one rate), stereo: caller left, callee
 * right.  Samples are
 * placed by RTP timestamp (relative to the stream's first packet, and the
 * streams aligned by capture time of their first packets); gaps, lost
 * packets and paused spans are silence.  Decoders: G.711 A/µ-law and G.722
 * (spandsp), G.729 (bcg729), Opus (libopus, decoded at 8 kHz).  Unknown
 * codecs give silence and a warning.  Telephone-event packets are skipped.
 */
#ifndef RV_EXPORT_H
#define RV_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct export_pkt {
	uint64_t ts_us;
	uint8_t kind;        /* enum chunk_kind (store.h) */
	const uint8_t *data; /* RTP header + payload (kind 0) */
	size_t len;
};

struct export_stream {
	const struct rec_stream *desc;
	const struct export_pkt *pkts; /* in capture order */
	size_t n;
};

/* Longest WAV written: samples beyond this (hostile or absurd timestamps)
 * are dropped with a warning, so memory and file size stay bounded. */
#ifndef EXPORT_WAV_MAX_SECONDS /* a fuzz build may lower it with -D */
#define EXPORT_WAV_MAX_SECONDS (4u * 3600u)
#endif

/*
 * Both writers borrow s and create path with mode 0600 (O_TRUNC, refusing a
 * symlink).  They return 0, or -1 with a message in err (errlen may be 0;
 * err may then be NULL) and no file left behind.  On success err holds ""
 * or warnings ("; "-separated): unknown codecs, packets skipped as too long,
 * malformed or beyond the length cap.  Streams with party > 1 are ignored by
 * the WAV writer (warning).  A pcap stream whose src/dst families are not
 * both 4 or both 6 is an error.
 */

/* All streams' packets merged by capture time into one pcap (LINKTYPE_ETHERNET). */
int export_pcap(const char *path, const struct export_stream *s, size_t n, char *err, size_t errlen);
/* Stereo WAV as described above. */
int export_wav(const char *path, const struct export_stream *s, size_t n, char *err, size_t errlen);

#endif
