/*
 * decode.h - link layer to transport layer, including the encapsulations a
 * SPAN/mirror port delivers.
 *
 * decode_frame() peels L2 (Ethernet, 802.1Q / QinQ 0x8100 0x88a8 0x9100,
 * Linux SLL and SLL2, BSD NULL/LOOP, raw IP), then IPv4 / IPv6 (with
 * extension headers), then tunnels (GRE incl. ERSPAN I/II/III and
 * transparent Ethernet bridging, IP-in-IP 4/41, VXLAN on UDP 4789), down to
 * the innermost IP packet and its UDP / TCP / SCTP header.  Every length is
 * checked before it is used (RFC 791, 8200, 768, 793, 2784/2890, 7348, the
 * ERSPAN draft).  Frames whose IP total length exceeds the captured bytes
 * (snaplen) are reported as truncated, never read past.
 *
 * A fragment of the innermost IP datagram is returned with pkt.frag set and
 * no L4 fields: feed it to ipreasm and decode the result with decode_ip().
 *
 * Output spans borrow the input buffer.  Depends on libc only.
 */
#ifndef RV_PARSERS_DECODE_H
#define RV_PARSERS_DECODE_H

#include "common.h"

enum dec_link {
	DEC_LINK_ETH = 1,  /* DLT_EN10MB */
	DEC_LINK_SLL,      /* DLT_LINUX_SLL (113) */
	DEC_LINK_SLL2,     /* DLT_LINUX_SLL2 (276) */
	DEC_LINK_RAW,      /* DLT_RAW / LINKTYPE_RAW: IPv4 or IPv6 by version nibble */
	DEC_LINK_IPV4,     /* DLT_IPV4 (228) */
	DEC_LINK_IPV6,     /* DLT_IPV6 (229) */
	DEC_LINK_NULL,     /* DLT_NULL: 4-byte AF in the capturing host's byte order (either accepted) */
	DEC_LINK_LOOP,     /* DLT_LOOP: 4-byte AF in network byte order */
};

#define DEC_MAX_VLAN 4     /* stacked tags accepted */
#define DEC_MAX_TUNNEL 4   /* nested encapsulations accepted */
#define DEC_MAX_IPV6_EXT 8 /* extension headers walked */

#define DEC_IPPROTO_TCP 6
#define DEC_IPPROTO_UDP 17
#define DEC_IPPROTO_SCTP 132

struct pkt_frag {
	uint32_t id;        /* IPv4 identification or IPv6 fragment id */
	uint32_t offset;    /* in bytes */
	bool more;          /* MF bit */
	uint8_t next_proto; /* protocol of the reassembled payload */
	const uint8_t *hdr; /* v4: the IPv4 header; v6: IPv6 header + ext headers before the Fragment header */
	size_t hdr_len;
	const uint8_t *data; /* this fragment's payload */
	size_t data_len;
};

struct pkt {
	/* innermost IP */
	uint8_t ipver;       /* 4 or 6 */
	uint8_t proto;       /* L4 protocol of the innermost IP */
	struct ip_addr src, dst;
	const uint8_t *l3;   /* innermost IP header */
	size_t l3_len;       /* IP datagram length (header + payload), snaplen-checked */
	bool is_frag;
	struct pkt_frag frag;

	/* L4 (valid when !is_frag and proto is UDP, TCP or SCTP) */
	uint16_t sport, dport;
	const uint8_t *payload; /* UDP/TCP payload; for SCTP the chunk area after the common header */
	size_t payload_len;
	uint32_t tcp_seq, tcp_ack;
	uint8_t tcp_flags;   /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 */

	/* what was peeled */
	uint8_t vlan_count;
	uint16_t vlan[DEC_MAX_VLAN];
	uint8_t tunnels;     /* number of encapsulations removed */
};

/* Result codes: 0 = decoded; negative = why the frame was not decoded.
 * DEC_E_NOT_IP and DEC_E_OTHER_L4 are ordinary traffic (ARP, ICMP...), the
 * rest are malformations.  dec_err_name() gives a stable counter name. */
enum dec_err {
	DEC_OK = 0,
	DEC_E_NOT_IP = -1,
	DEC_E_OTHER_L4 = -2,
	DEC_E_TRUNC_L2 = -3,
	DEC_E_VLAN_DEPTH = -4,
	DEC_E_TRUNC_IPV4 = -5,
	DEC_E_BAD_IPV4 = -6,
	DEC_E_TRUNC_IPV6 = -7,
	DEC_E_BAD_IPV6_EXT = -8,
	DEC_E_TRUNC_UDP = -9,
	DEC_E_BAD_UDP_LEN = -10,
	DEC_E_TRUNC_TCP = -11,
	DEC_E_BAD_TCP = -12,
	DEC_E_TRUNC_SCTP = -13,
	DEC_E_TUNNEL_DEPTH = -14,
	DEC_E_BAD_GRE = -15,
	DEC_E_BAD_ERSPAN = -16,
	DEC_E_BAD_VXLAN = -17,
	DEC_E_SNAPLEN = -18,     /* IP total length beyond captured bytes */
	DEC_E_BAD_LINK = -19,    /* unknown link type */
	DEC_E_BAD_IPV6 = -20,    /* IPv6 version nibble wrong, or payload length 0 (jumbogram) */
	DEC_E__COUNT = 21
};

/* Decodes one captured frame.  Returns 0 or a negative enum dec_err. */
int decode_frame(enum dec_link link, const uint8_t *p, size_t len, struct pkt *out);

/* Decodes starting at an IP header (version from the first nibble), e.g. a
 * datagram that ipreasm rebuilt.  Tunnels inside are still peeled. */
int decode_ip(const uint8_t *p, size_t len, struct pkt *out);

/* Stable snake_case name for a result code ("trunc_ipv4"...). */
const char *dec_err_name(int code);

/* SCTP (RFC 9260): iterates the DATA chunks of pkt.payload.  *off starts at
 * 0.  Returns 1 and the user data of the next DATA chunk that carries a
 * whole message (B and E flags both set), 0 at the end, -1 on a malformed
 * chunk (length shorter than its header or past the packet).  Fragmented
 * user messages are skipped and counted by *skipped (may be NULL). */
int sctp_next_data(const uint8_t *chunks, size_t len, size_t *off, struct span *data,
		   uint32_t *ppid, unsigned *skipped);

/* SCTP DATA chunk with its framing fields, for callers that reassemble
 * user messages split over several chunks (RFC 9260 sec. 6.9). */
struct sctp_data {
	struct span data;
	uint32_t tsn;
	uint16_t stream;
	uint16_t ssn;
	uint32_t ppid;
	uint8_t flags; /* 0x02 B (first fragment), 0x01 E (last), 0x04 U */
};

/* Like sctp_next_data() but returns every DATA chunk, whole or fragment:
 * 1 with *out filled, 0 at the end, -1 on a malformed chunk. */
int sctp_next_chunk(const uint8_t *chunks, size_t len, size_t *off, struct sctp_data *out);

#endif
