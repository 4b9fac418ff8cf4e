/*
 * config_keys.h - the one table of rtpvault configuration keys.
 *
 * Every key exists exactly once, here.  The table is an X-macro: config.h
 * expands it into the fields of struct rv_config, config.c into the key
 * descriptors that drive defaults, parsing, validation, docs/config.md
 * (config_write_doc) and the commented default file etc/rtpvault.conf
 * (config_write_default).  Adding a key is adding a line here, then
 * regenerating the two files (see docs/config.md).
 *
 * Entry:  X(section, key, TYPE, "default", "min", "max", VALUES, "doc")
 *
 *   section  identifier of a section listed in RV_CONFIG_SECTIONS
 *   key      the key name as written in the file; also the C field name
 *            suffix: the field is <section>_<key> (cfg->rtp_probation),
 *            and just <key> inside a profile (cfg->profiles[i].retention)
 *   TYPE     BOOL INT SIZE DURATION STRING ENUM LIST PORTS REGEX
 *   default  the text an operator would write (parsed at startup by the same
 *            code as the file, so a default can never bypass validation)
 *   min/max  bounds as operator text ("1s", "64K", "10"), "" = unbounded;
 *            only INT, SIZE and DURATION have bounds
 *   VALUES   ENUM only: a macro V(CONSTANT, "word") listing allowed words;
 *            the constants become C enum values (0, 1, ...) stored in the
 *            int field.  Other types pass RV_NOVALS.
 *   doc      one sentence for docs and the default file
 *
 * Does NOT: hold cross-key rules (none exist yet) or per-key help longer than
 * one sentence.
 */
#ifndef RV_ENGINE_CONFIG_KEYS_H
#define RV_ENGINE_CONFIG_KEYS_H

/* S(section, "doc") - order here is the order in docs and default file. */
#define RV_CONFIG_SECTIONS(S) \
	S(capture, "Where packets come from and how they are read.") \
	S(sip, "How SIP signalling is recognised and how long call state lives.") \
	S(rtp, "How RTP media is attached to calls and when a call without BYE ends.") \
	S(limits, "Hard bounds on memory and state; excess is dropped and counted, never allocated.") \
	S(consent, "When a call's audio may be kept: the called party's consent signal and how it is read.") \
	S(exempt, "Calls recorded without a consent signal because a legal basis requires it.") \
	S(storage, "Where and how recordings are stored (LMDB, AES-256-GCM).") \
	S(retention, "When recordings are deleted (crypto-shredding: the wrapped key goes first).") \
	S(access, "Which operating-system users and groups hold which role (a comma list; @name is a group).") \
	S(service, "How the capture daemon runs: privileges it keeps, the user it becomes.") \
	S(stats, "Counters of a running engine: for rtpvault stats and a Prometheus endpoint on localhost.") \
	S(dpdk, "The DPDK poll-mode backend ([capture] backend = dpdk): EAL, ports, queues, lcores.") \
	S(log, "What the daemon writes to its log.")

/* Allowed words of ENUM keys: V(C constant, "word"). */
#define RV_NOVALS(V)
#define RV_E_CAPTURE_BACKEND(V) \
	V(RV_CAPTURE_PCAP, "pcap") \
	V(RV_CAPTURE_DPDK, "dpdk")
#define RV_E_LOG_LEVEL(V) \
	V(RV_LOG_ERROR, "error") \
	V(RV_LOG_WARN, "warn") \
	V(RV_LOG_INFO, "info") \
	V(RV_LOG_DEBUG, "debug")
#define RV_E_CONSENT_PARTY(V) \
	V(RV_PARTY_CALLEE, "callee") \
	V(RV_PARTY_CALLER, "caller") \
	V(RV_PARTY_ANY, "any")
#define RV_E_PAUSE_PARTY(V) \
	V(RV_PAUSE_BY_CALLEE, "callee") \
	V(RV_PAUSE_BY_CALLER, "caller") \
	V(RV_PAUSE_BY_ANY, "any")
#define RV_E_PRE_CONSENT(V) \
	V(RV_PRE_CONSENT_KEEP, "keep") \
	V(RV_PRE_CONSENT_DISCARD, "discard")
#define RV_E_LOG_NUMBERS(V) \
	V(RV_NUMBERS_MASKED, "masked") \
	V(RV_NUMBERS_FULL, "full")

/* clang-format off */
#define RV_CONFIG_KEYS(X) \
	X(capture, backend, ENUM, "pcap", "", "", RV_E_CAPTURE_BACKEND, \
	  "Capture backend: pcap (libpcap: live interface or file) or dpdk (only in a DPDK build).") \
	X(capture, interface, STRING, "", "", "", RV_NOVALS, \
	  "Network interface for live capture; empty means it is given on the command line.") \
	X(capture, bpf_filter, STRING, "", "", "", RV_NOVALS, \
	  "BPF filter (pcap-filter syntax) applied to live capture; empty captures everything.") \
	X(capture, snaplen, INT, "65535", "64", "262144", RV_NOVALS, \
	  "Bytes captured per packet; longer packets are truncated and counted.") \
	X(capture, buffer_size, SIZE, "64M", "1M", "4G", RV_NOVALS, \
	  "Kernel ring buffer for live capture (TPACKET_V3).") \
	X(capture, poll_timeout, DURATION, "100ms", "1ms", "10s", RV_NOVALS, \
	  "Longest wait for packets before timers run on an idle link.") \
	\
	X(sip, ports, PORTS, "5060,5061", "", "", RV_NOVALS, \
	  "UDP/TCP/SCTP ports always treated as SIP.") \
	X(sip, detect_any_port, BOOL, "true", "", "", RV_NOVALS, \
	  "Also recognise SIP by its first line on other ports.") \
	X(sip, invite_timeout, DURATION, "120s", "1s", "1h", RV_NOVALS, \
	  "How long a call may stay without a final response.") \
	X(sip, linger, DURATION, "5s", "0s", "5m", RV_NOVALS, \
	  "How long an ended call's state is kept to absorb retransmissions and late packets.") \
	X(sip, max_call_duration, DURATION, "4h", "1m", "7d", RV_NOVALS, \
	  "A call still up after this long is ended and flagged.") \
	X(sip, max_callid_len, INT, "256", "16", "4096", RV_NOVALS, \
	  "Longer Call-IDs are dropped and counted.") \
	\
	X(rtp, inactivity_timeout, DURATION, "60s", "1s", "1h", RV_NOVALS, \
	  "An answered call with no BYE ends after this long without RTP or SIP.") \
	X(rtp, probation, INT, "2", "1", "10", RV_NOVALS, \
	  "In-sequence packets a new SSRC needs before it is attached to a call (RFC 3550 A.1).") \
	X(rtp, port_only_fallback, BOOL, "true", "", "", RV_NOVALS, \
	  "Match RTP by port alone when no address matches (NAT).") \
	X(rtp, inband_dtmf, BOOL, "true", "", "", RV_NOVALS, \
	  "Detect DTMF tones in G.711 audio (spandsp).") \
	X(rtp, rtcp, BOOL, "true", "", "", RV_NOVALS, \
	  "Parse RTCP sent on the port above each RTP stream for quality statistics.") \
	\
	X(limits, max_calls, INT, "20000", "1", "10000000", RV_NOVALS, \
	  "Calls tracked at once; beyond it the oldest unanswered call is dropped (counted), answered calls last.") \
	X(limits, max_streams, INT, "100000", "1", "40000000", RV_NOVALS, \
	  "RTP streams tracked at once.") \
	X(limits, max_expectations, INT, "100000", "1", "40000000", RV_NOVALS, \
	  "Media addresses announced in SDP and waiting for RTP, at once.") \
	X(limits, max_tcp_conns, INT, "10000", "1", "1000000", RV_NOVALS, \
	  "TCP connections reassembled at once (SIP over TCP).") \
	X(limits, tcp_buffer, SIZE, "64K", "4K", "16M", RV_NOVALS, \
	  "Reassembly buffer per TCP connection and direction.") \
	X(limits, tcp_ooo_segments, INT, "32", "0", "1024", RV_NOVALS, \
	  "Out-of-order segments held per TCP connection and direction.") \
	X(limits, tcp_idle_timeout, DURATION, "300s", "1s", "1d", RV_NOVALS, \
	  "A TCP connection without packets for this long is forgotten.") \
	X(limits, max_frag_datagrams, INT, "4096", "1", "1000000", RV_NOVALS, \
	  "IP datagrams being reassembled from fragments at once (DPDK: per RX queue, rte_ip_frag; capped so the " \
	  "queues' tables hold at most a quarter of [dpdk] mbufs at 8 fragments per datagram).") \
	X(limits, max_frag_bytes, SIZE, "8M", "64K", "1G", RV_NOVALS, \
	  "Memory for all IP fragments waiting for reassembly.") \
	X(limits, frag_timeout, DURATION, "5s", "100ms", "120s", RV_NOVALS, \
	  "An incomplete fragmented datagram is dropped after this long, from its first fragment (capture time; " \
	  "DPDK: the TSC on live ports, the file's time on a net_pcap replay).") \
	X(limits, report_buffer, INT, "65536", "0", "10000000", RV_NOVALS, \
	  "Finished calls kept for sorting before analyze prints them.") \
	\
	X(consent, party, ENUM, "callee", "", "", RV_E_CONSENT_PARTY, \
	  "Whose digits count as consent: the callee (the customer of an outbound call), the caller, or any.") \
	X(consent, window, DURATION, "30s", "1s", "1h", RV_NOVALS, \
	  "Signals later than this after the answer are ignored; no decision by then means timeout.") \
	X(consent, grant_digit, STRING, "1", "", "", RV_NOVALS, \
	  "DTMF digit that grants consent.") \
	X(consent, refuse_digit, STRING, "0", "", "", RV_NOVALS, \
	  "DTMF digit that refuses consent.") \
	X(consent, withdraw_digit, STRING, "9", "", "", RV_NOVALS, \
	  "DTMF digit that withdraws consent: audio is no longer kept from that moment.") \
	X(consent, methods, LIST, "rfc4733, sip-info, inband, sip-header", "", "", RV_NOVALS, \
	  "Consent signals that count: rfc4733, sip-info, inband, sip-header.") \
	X(consent, header, STRING, "X-Recording-Consent", "", "", RV_NOVALS, \
	  "SIP header (any in-dialog message, either party) that carries a consent decision set by the dialer.") \
	X(consent, header_grant, LIST, "granted", "", "", RV_NOVALS, \
	  "Values of the consent header that grant (case-insensitive).") \
	X(consent, header_deny, LIST, "denied", "", "", RV_NOVALS, \
	  "Values of the consent header that refuse (case-insensitive).") \
	X(consent, pre_consent_audio, ENUM, "keep", "", "", RV_E_PRE_CONSENT, \
	  "Whether audio held before a grant (announcement, key press) is kept once consent is granted.") \
	X(consent, pause_sequence, STRING, "*1", "", "", RV_NOVALS, \
	  "DTMF digits from pause_party that pause keeping audio (payment card data); empty disables.") \
	X(consent, resume_sequence, STRING, "*2", "", "", RV_NOVALS, \
	  "DTMF digits from pause_party that resume keeping audio.") \
	X(consent, pause_party, ENUM, "caller", "", "", RV_E_PAUSE_PARTY, \
	  "Whose digits pause and resume (usually the agent, i.e. the caller of an outbound call).") \
	X(consent, pause_header, STRING, "X-Recording-Pause", "", "", RV_NOVALS, \
	  "SIP header whose value pause or resume pauses or resumes keeping audio; empty disables.") \
	X(consent, max_pending_per_call, SIZE, "2M", "64K", "1G", RV_NOVALS, \
	  "RAM holding one call's audio before a decision; beyond it the oldest packets are wiped (counted).") \
	X(consent, max_pending_total, SIZE, "256M", "1M", "64G", RV_NOVALS, \
	  "RAM holding all calls' audio before a decision; beyond it the oldest pending call is wiped (counted).") \
	\
	X(exempt, callee_prefixes, LIST, "", "", "", RV_NOVALS, \
	  "Callee numbers starting with one of these are recorded without consent (e.g. emergency services).") \
	X(exempt, caller_prefixes, LIST, "", "", "", RV_NOVALS, \
	  "Caller numbers starting with one of these are recorded without consent.") \
	X(exempt, callee_regex, REGEX, "", "", "", RV_NOVALS, \
	  "POSIX extended regular expression on the callee number; a match is exempt.") \
	X(exempt, caller_regex, REGEX, "", "", "", RV_NOVALS, \
	  "POSIX extended regular expression on the caller number; a match is exempt.") \
	X(exempt, trunks, LIST, "", "", "", RV_NOVALS, \
	  "IP addresses of trunks whose calls are exempt (signalling source or destination of the INVITE).") \
	X(exempt, header, STRING, "", "", "", RV_NOVALS, \
	  "\"Name: value\" on the initial INVITE that makes a call exempt; empty disables.") \
	X(exempt, basis, STRING, "legal obligation", "", "", RV_NOVALS, \
	  "Legal basis stored with every exempt call.") \
	\
	X(storage, path, STRING, "./var/store", "", "", RV_NOVALS, \
	  "Directory of the LMDB store (created 0700).") \
	X(storage, key_file, STRING, "./var/kek.key", "", "", RV_NOVALS, \
	  "Key-encryption key: 32 bytes, mode 0400, made by rtpvault keys init; capture refuses to start without it.") \
	X(storage, map_size, SIZE, "1G", "1M", "65536G", RV_NOVALS, \
	  "Initial LMDB map size.") \
	X(storage, map_grow, BOOL, "true", "", "", RV_NOVALS, \
	  "When the map is full, double it (up to map_max) instead of refusing new recordings.") \
	X(storage, map_max, SIZE, "64G", "1M", "65536G", RV_NOVALS, \
	  "Largest map size map_grow may reach.") \
	X(storage, commit_interval, DURATION, "200ms", "1ms", "10s", RV_NOVALS, \
	  "Longest time sealed audio waits before the writer commits it.") \
	X(storage, commit_batch, INT, "256", "1", "100000", RV_NOVALS, \
	  "Writes per LMDB transaction at most.") \
	X(storage, writer_queue, INT, "4096", "16", "1000000", RV_NOVALS, \
	  "Sealed items waiting for the writer thread; when full the engine waits (counted).") \
	\
	X(retention, sweep_interval, DURATION, "1h", "1s", "7d", RV_NOVALS, \
	  "How often the running engine deletes expired calls; 0 is not allowed (use rtpvault sweep by hand instead of a huge value).") \
	X(retention, sweep_batch, INT, "100", "1", "100000", RV_NOVALS, \
	  "Calls deleted per transaction, so a long sweep never blocks the writer for long.") \
	\
	X(access, admin, LIST, "root", "", "", RV_NOVALS, \
	  "Users (or @groups) with every right: read, export, erase, hold, audit, keys.") \
	X(access, compliance, LIST, "", "", "", RV_NOVALS, \
	  "Users (or @groups) of the compliance team: read, export, hold, erase, audit.") \
	X(access, supervisor, LIST, "", "", "", RV_NOVALS, \
	  "Users (or @groups) who may list and inspect calls and export for the purposes their profiles allow.") \
	X(access, auditor, LIST, "", "", "", RV_NOVALS, \
	  "Users (or @groups) who may read and verify the audit log, nothing else.") \
	\
	X(service, user, STRING, "", "", "", RV_NOVALS, \
	  "User capture drops to after opening the device, the store and the keys; empty keeps the current user.") \
	X(service, allow_root, BOOL, "false", "", "", RV_NOVALS, \
	  "Let capture keep running as root (refused by default when started as root without service.user).") \
	\
	X(stats, socket, STRING, "", "", "", RV_NOVALS, \
	  "Unix socket the running engine answers rtpvault stats on; empty: <storage path>/stats.sock.") \
	X(stats, prometheus_port, INT, "0", "0", "65535", RV_NOVALS, \
	  "TCP port on 127.0.0.1 serving the counters in Prometheus text format; 0 is off.") \
	\
	X(dpdk, eal, STRING, "--no-huge -m 256 --no-pci --no-shconf", "", "", RV_NOVALS, \
	  "EAL arguments, e.g. -l 0,1 --no-huge -m 256 --no-pci --no-shconf --vdev net_pcap0,rx_pcap=F.pcap.") \
	X(dpdk, ports, LIST, "0", "", "", RV_NOVALS, \
	  "DPDK port ids to receive from.") \
	X(dpdk, workers, INT, "1", "1", "64", RV_NOVALS, \
	  "Worker lcores, one RX queue each per port; with more than one, each also runs the engine for the calls whose Call-ID hashes to it (needs 1 + workers lcores).") \
	X(dpdk, rx_desc, INT, "1024", "64", "16384", RV_NOVALS, \
	  "RX descriptors per queue.") \
	X(dpdk, mbufs, INT, "8191", "1023", "4194303", RV_NOVALS, \
	  "Packet buffers in the mempool (under --no-huge each takes a 4 KiB page of -m).") \
	X(dpdk, burst, INT, "32", "1", "512", RV_NOVALS, \
	  "Packets per RX burst.") \
	X(dpdk, ring_size, INT, "4096", "64", "1048576", RV_NOVALS, \
	  "Slots of each hand-off ring between lcores (RX to main, and call control to each worker); a full RX ring drops and counts, a full worker ring makes call control wait.") \
	\
	X(log, level, ENUM, "info", "", "", RV_E_LOG_LEVEL, \
	  "Least severe log messages written.") \
	X(log, numbers, ENUM, "masked", "", "", RV_E_LOG_NUMBERS, \
	  "How phone numbers appear in log lines.")

/*
 * Profiles: repeated sections "[profile NAME]", at most RV_CONFIG_MAX_PROFILES.
 * Reserved for the compliance work (which calls get which retention); the
 * engine does not act on them yet.  Same entry shape; section is "profile".
 */
#define RV_CONFIG_PROFILE_DOC \
	"Named call profiles: which calls get which retention, key, roles, export " \
	"purposes and consent rules (first match in file order; a \"default\" profile " \
	"always exists).  One [profile NAME] section per profile, NAME being 1 to 64 " \
	"letters, digits, '_', '.' or '-'"

#define RV_CONFIG_PROFILE_KEYS(X) \
	X(profile, retention, DURATION, "180d", "0s", "100y", RV_NOVALS, \
	  "How long recordings of calls matching this profile are kept; 0s keeps them forever.") \
	X(profile, match_callee_prefixes, LIST, "", "", "", RV_NOVALS, \
	  "Comma-separated callee number prefixes this profile applies to; empty matches none.") \
	X(profile, match_callee_regex, REGEX, "", "", "", RV_NOVALS, \
	  "POSIX extended regular expression on the callee number; empty matches none.") \
	X(profile, match_caller_prefixes, LIST, "", "", "", RV_NOVALS, \
	  "Caller number prefixes this profile applies to.") \
	X(profile, match_caller_regex, REGEX, "", "", "", RV_NOVALS, \
	  "POSIX extended regular expression on the caller number.") \
	X(profile, match_header, STRING, "", "", "", RV_NOVALS, \
	  "\"Name: value\" on the initial INVITE (e.g. a campaign header set by the dialer).") \
	X(profile, match_trunks, LIST, "", "", "", RV_NOVALS, \
	  "Trunk IP addresses (signalling source or destination of the INVITE).") \
	X(profile, key_file, STRING, "", "", "", RV_NOVALS, \
	  "Key-encryption key of this profile's calls; empty uses [storage] key_file.") \
	X(profile, read_roles, LIST, "admin, compliance, supervisor", "", "", RV_NOVALS, \
	  "Roles that may list and show this profile's calls.") \
	X(profile, export_roles, LIST, "admin, compliance, supervisor", "", "", RV_NOVALS, \
	  "Roles that may export this profile's calls.") \
	X(profile, erase_roles, LIST, "admin, compliance", "", "", RV_NOVALS, \
	  "Roles that may erase this profile's calls before their deadline.") \
	X(profile, purposes, LIST, "", "", "", RV_NOVALS, \
	  "Allowed export purposes; empty allows any purpose text.") \
	X(profile, minor_header, STRING, "", "", "", RV_NOVALS, \
	  "\"Name: value\" marking the called party as a minor: then only a guardian's signal counts as consent.") \
	X(profile, guardian_sequence, STRING, "", "", "", RV_NOVALS, \
	  "DTMF digits a guardian enters to consent for a minor (e.g. 71).") \
	X(profile, guardian_header, STRING, "", "", "", RV_NOVALS, \
	  "SIP header whose value granted records a guardian's consent for a minor.")
/* clang-format on */

#endif
