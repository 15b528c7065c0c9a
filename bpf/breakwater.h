/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Breakwater's kernel/user contract. Both sides include this file: the XDP
 * program (bpf/breakwater.bpf.c) and the N-API addon (native/). It holds only
 * data: every struct, enum, flag and limit that crosses the boundary. Nothing
 * here is redeclared anywhere else.
 */
#ifndef BREAKWATER_H
#define BREAKWATER_H

#ifdef __BPF__
#include <linux/types.h>
#else
#include <linux/types.h>
#include <assert.h>
#define _Static_assert static_assert
#endif

/* Limits. Each can be overridden at build time (-DBW_MAX_RULES=...). */
#ifndef BW_MAX_RULES
#define BW_MAX_RULES 65536	/* drop/log rules, IPv4 and IPv6 together */
#endif
#ifndef BW_MAX_ALLOW
#define BW_MAX_ALLOW 4096	/* allowlist prefixes per family */
#endif
#ifndef BW_MAX_SRC_TALKERS
#define BW_MAX_SRC_TALKERS 8192	/* sampled top-source table */
#endif
#ifndef BW_MAX_PORT_TALKERS
#define BW_MAX_PORT_TALKERS 4096	/* sampled top-port table */
#endif
#ifndef BW_MAX_VLAN
#define BW_MAX_VLAN 2		/* 802.1Q / 802.1ad tags parsed */
#endif
#ifndef BW_MAX_VLAN_SEEK
#define BW_MAX_VLAN_SEEK 8	/* tags skipped at most to find the source of a deeper
				 * stack (counted malformed); past it, passed: the
				 * stack drops more than 8 (VLAN_MAX_DEPTH) itself */
#endif
#ifndef BW_MAX_EXT_HDRS
#define BW_MAX_EXT_HDRS 6	/* IPv6 extension headers walked */
#endif
#ifndef BW_RINGBUF_BYTES
#define BW_RINGBUF_BYTES (1 << 20)
#endif

#define BW_TALKER_ADMIT 4
#define BW_HLL_BITS 12		/* 4096 registers: ~1.6% standard error */
#define BW_HLL_REGS (1 << BW_HLL_BITS)
#define BW_SAMPLE_BYTES 128	/* packet head copied into a sample */
#define BW_TTL_BUCKETS 256

/*
 * Per-CPU counters, indices into bw_stats.counters. One list, expanded into
 * the enum here and into the names user space reports: X(ENUM, name).
 */
#define BW_COUNTER_LIST(X)						\
	X(PACKETS, packets)						\
	X(BYTES, bytes)							\
	X(IPV4, ipv4)							\
	X(IPV6, ipv6)							\
	X(NON_IP, nonIp)						\
	X(TCP, tcp)							\
	X(UDP, udp)							\
	X(UDP_LATER_FRAGMENTS, udpLaterFragments) /* UDP past the first fragment: no ports */ \
	X(ICMP, icmp)		/* ICMP and ICMPv6 */			\
	X(OTHER_IP, otherIp)	/* another L4 protocol (GRE, ESP...) */	\
	X(TCP_BYTES, tcpBytes)						\
	X(UDP_BYTES, udpBytes)						\
	X(ICMP_BYTES, icmpBytes)					\
	X(TCP_SYN, tcpSyn)	/* SYN without ACK */			\
	X(TCP_SYNACK, tcpSynAck)					\
	X(TCP_ACK, tcpAck)	/* ACK without SYN */			\
	X(TCP_FIN, tcpFin)						\
	X(TCP_RST, tcpRst)						\
	X(TCP_PSH, tcpPsh)						\
	X(TCP_URG, tcpUrg)						\
	X(TCP_NULL, tcpNull)	/* no flag at all */			\
	X(TCP_XMAS, tcpXmas)	/* FIN, PSH and URG together */		\
	X(FRAGMENTS, fragments)	/* any fragment, first or not */	\
	X(MALFORMED, malformed)	/* not parsed in full; rules see the rest */ \
	X(VLAN, vlan)		/* carried at least one VLAN tag */	\
	X(PASSED, passed)	/* verdicts: exactly one per packet */	\
	X(DROPPED, dropped)						\
	X(ALLOWLISTED, allowlisted) /* matched a rule, allowlisted */	\
	X(LOGGED, logged)	/* log-only match, or any under kill switch */ \
	X(RULE_EXPIRED, ruleExpired) /* matched only expired rules */	\
	X(SAMPLED, sampled)	/* heads written to the ring buffer */	\
	X(SAMPLES_LOST, samplesLost) /* ring full or over budget */

#define BW_COUNTER_ENUM(e, name) BW_C_##e,
enum bw_counter {
	BW_COUNTER_LIST(BW_COUNTER_ENUM)
	BW_C_MAX,
};
#undef BW_COUNTER_ENUM

/* Packet-length buckets: 0-64, 65-128, 129-256, 257-512, 513-1024, 1025-1500, >1500. */
#define BW_LEN_BUCKETS 7

/* PERCPU_ARRAY "stats", one entry. */
struct bw_stats {
	__u64 counters[BW_C_MAX];
	__u64 len_hist[BW_LEN_BUCKETS];
	__u64 ttl_hist[BW_TTL_BUCKETS];
	__u64 sample_window_ns;	/* sample rate limiter, kernel-private */
	__u64 sample_window_count;
	__u64 talker_countdown;	/* packets to the next talker sample, kernel-private */
};

/*
 * PERCPU_ARRAY "hll", two entries indexed by (epoch & 1): HyperLogLog of
 * sources. A register holds the ranks it has seen as bits (bit r - 1 for rank
 * r, at most 33 - BW_HLL_BITS), not their maximum: the packet ORs in its bit,
 * with no rank to count and no compare; the register's rank, the maximum, is
 * its highest bit, which user space takes when it reads them.
 */
struct bw_hll {
	__u32 reg[BW_HLL_REGS];
};

/* ARRAY "config", one entry. Written by user space, read by every packet. */
struct bw_config {
	__u32 kill_switch;		/* non-zero: never drop, keep counting */
	__u32 sample_period;		/* 1 in N packets sampled to the ring buffer; 0 = off */
	__u32 sample_max_per_sec;	/* per-CPU cap on samples; 0 = no cap */
	__u32 talker_sample_period;	/* 1 in N packets updates the talker tables; power of 2.
					 * Above 1, a sample of a key not yet in a table is
					 * admitted 1 time in BW_TALKER_ADMIT (and weighted
					 * up), so a spoofed flood rarely pays an insert. */
	__u32 epoch;			/* window number; talkers and hll roll over with it */
	__u32 rule_classes;		/* BW_CLASS_BIT()s: which rule shapes exist */
	__u32 allow_families;		/* bit 0: IPv4 allowlist non-empty; bit 1: IPv6 */
	__u32 reserved;
};

/*
 * Rule shapes. A packet is looked up once per shape present, and per kind:
 * single-host rules (/32, /128) by one exact probe, shorter prefixes by one
 * probe per prefix length in use near the source (see "blocks_v4" below),
 * longest first, the first hit being the longest match.
 */
enum bw_rule_class {
	BW_CLASS_ANY = 0,		/* prefix only */
	BW_CLASS_PROTO = 1,		/* prefix and protocol */
	BW_CLASS_PORT = 2,		/* prefix, protocol and destination port */
	BW_CLASS_MAX = 3,
};
#define BW_CLASS_BIT(family6, host, class) \
	(1u << ((class) + BW_CLASS_MAX * (((family6) ? 2 : 0) + ((host) ? 1 : 0))))

enum bw_rule_mode {
	BW_MODE_DROP = 0,
	BW_MODE_LOG = 1,
};

/* An ICMP or ICMPv6 rule's port is 0x100 | type (0x100: so that type 0, echo
 * reply, differs from no type); the parser sets such a packet's dport alike. */
#define BW_ICMP_TYPE_PORT 0x100

/*
 * The protocols a rule may name, as user space names them (contract/rule.ts):
 * X(name, IPv4 protocol number, IPv6 next header). The addon encodes a rule's
 * protocol with this list alone and reports the names, which native/ checks
 * at load against the contract's. A port needs tcp or udp, a type icmp.
 */
#define BW_RULE_PROTOCOL_LIST(X)	\
	X(tcp, 6, 6)			\
	X(udp, 17, 17)			\
	X(icmp, 1, 58)

/*
 * HASH "rules_v4" / "rules_v6": every rule, host or prefix, keyed by its
 * source prefix length, protocol (0: any), port (0: any) and the source
 * address with the bits past the length zeroed.
 */
struct bw_rule_key4 {
	__u8 prefixlen;		/* source prefix length, 0-32 */
	__u8 proto;
	__u8 port[2];		/* network byte order */
	__u32 addr;		/* network byte order */
};

struct bw_rule_key6 {
	__u8 prefixlen;		/* 0-128 */
	__u8 proto;
	__u8 port[2];
	__u32 addr[4];		/* network byte order */
};

/*
 * The prefix lengths in use, which the program probes (the addon keeps them
 * in step with the rules: a length is in use while one rule has it). A set
 * of lengths is a __u32 per 32 of them: bit 31 - (L % 32) stands for length
 * L, so the longest length is the lowest bit set, which BPF finds without a
 * loop (x & -x). Host rules are never listed: their class bit says whether
 * to probe them.
 *
 * IPv4: every length is listed in each /16 block it covers: a /24 in the
 * block it lies in, a /8 in the 256 blocks it spans, a /0 in all 65,536. A
 * packet reads one entry for its lengths. IPv6 cannot list a length shorter
 * than its block (/32) in every block it spans (a /16 spans 65,536 of them,
 * a /0 2^32), so those lengths are listed for the whole family instead.
 */
#define BW_BLOCK_LEN4 16
#define BW_BLOCK_LEN6 32

/* A length's bit in the word of its 32 lengths (IPv4: the only word). */
#define BW_LEN_BIT(len) (1u << (31 - (len) % 32))

/* ARRAY "prefix_lens", one entry: IPv6 lengths 0-31 in use per class. */
struct bw_prefix_lens {
	__u32 v6[BW_CLASS_MAX];
};

/* ARRAY "blocks_v4", 65536 entries indexed by the source's first 16 bits:
 * BW_LEN_BIT(L) of lens[class] set when a rule of that class and length L
 * (0-31) covers that /16 (lies in it, or spans it when shorter than /16).
 * Bit s % 32 of sub24[s / 32] set when a rule longer than a /16 (/17-/31,
 * any class) lies in or covers the block's /24 number s (the source's third
 * byte): a packet from a /24 without one probes only the lengths that span
 * its whole block, /0-/16 (BW_WIDE_LENS4), so a miss beside such rules costs
 * no probe. */
#define BW_BLOCKS4 (1u << BW_BLOCK_LEN4)
#define BW_WIDE_LENS4 (~0u << (31 - BW_BLOCK_LEN4))
struct bw_block4 {
	__u32 lens[BW_CLASS_MAX];
	__u32 sub24[8];
};

/* /24 number sub's mark in a block's sub24 (word, then bit). */
#define BW_SUB24_WORD(sub) ((sub) / 32)
#define BW_SUB24_BIT(sub) (1u << ((sub) % 32))

/* The mask of the lengths a source in the block's /24 number sub probes:
 * every one if marked, else those that span the block. Without a branch
 * (in BPF, one per value would double the verifier's paths after it). */
#define BW_BLOCK4_KEEP(b, sub) \
	(BW_WIDE_LENS4 | (0u - (((b)->sub24[BW_SUB24_WORD(sub)] & BW_SUB24_BIT(sub)) != 0)))

/* HASH "blocks_v6", keyed by the source's first 32 bits (network byte order,
 * as in the packet), present while a rule of /32 to /127 lies in that /32:
 * BW_LEN_BIT(L) of lens[class][w] set when a rule of that class has length
 * L = 32 + 32 w + (0-31). At most one block per rule. */
struct bw_block6 {
	__u32 lens[BW_CLASS_MAX][3];
};

struct bw_rule {
	__u64 expires_ns;	/* CLOCK_MONOTONIC (read coarse: one tick); 0 = never */
	__u32 slot;		/* index into "rule_stats" */
	__u8 mode;		/* enum bw_rule_mode */
	__u8 pad[3];
};

/* PERCPU_ARRAY "rule_stats", BW_MAX_RULES entries: hits per rule slot. */
struct bw_rule_stats {
	__u64 packets;
	__u64 bytes;
};

/* LPM_TRIE "allow_v4" / "allow_v6": prefixes that are never dropped. */
struct bw_allow_key4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct bw_allow_key6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/* LRU_HASH "src_talkers": sampled sources. IPv4 is stored IPv4-mapped (::ffff:a.b.c.d). */
struct bw_addr {
	__u8 addr[16];
};

/* Kinds of "port_talkers" keys. */
enum bw_port_kind {
	BW_PORT_TCP_DST = 0,
	BW_PORT_UDP_DST = 1,
	BW_PORT_UDP_SRC = 2,
};

struct bw_port_key {
	__u16 kind;		/* enum bw_port_kind */
	__u16 port;		/* host byte order */
};

/*
 * Talker counts by window: "cur" belongs to "epoch", "prev" to epoch - 1.
 * An entry is rolled lazily by the next packet that touches it. Counts are
 * scaled by the sampling period, so they estimate real packets and bytes.
 */
struct bw_talker {
	__u32 epoch;
	__u32 pad;
	__u64 cur_packets;
	__u64 cur_bytes;
	__u64 prev_packets;
	__u64 prev_bytes;
};

/* Ring buffer "samples": one record per sampled packet. */
enum bw_verdict {
	BW_VERDICT_PASS = 0,
	BW_VERDICT_DROP = 1,
	BW_VERDICT_ALLOW = 2,
	BW_VERDICT_LOG = 3,
	BW_VERDICT_MALFORMED = 4,	/* malformed and passed (dropped: DROP) */
};

struct bw_sample {
	__u64 ts_ns;		/* CLOCK_MONOTONIC */
	__u32 len;		/* frame length on the wire */
	__u16 cap_len;		/* bytes of data[] that are valid */
	__u8 verdict;		/* enum bw_verdict */
	__u8 pad;
	__u8 data[BW_SAMPLE_BYTES];
};

_Static_assert(sizeof(struct bw_config) == 32, "bw_config size");
_Static_assert(sizeof(struct bw_rule_key4) == 8, "bw_rule_key4 size");
_Static_assert(sizeof(struct bw_rule_key6) == 20, "bw_rule_key6 size");
_Static_assert(sizeof(struct bw_prefix_lens) == 12, "bw_prefix_lens size");
_Static_assert(sizeof(struct bw_block4) == 44, "bw_block4 size");
_Static_assert(sizeof(struct bw_block6) == 36, "bw_block6 size");
_Static_assert(sizeof(struct bw_rule) == 16, "bw_rule size");
_Static_assert(sizeof(struct bw_rule_stats) == 16, "bw_rule_stats size");
_Static_assert(sizeof(struct bw_allow_key4) == 8, "bw_allow_key4 size");
_Static_assert(sizeof(struct bw_allow_key6) == 20, "bw_allow_key6 size");
_Static_assert(sizeof(struct bw_port_key) == 4, "bw_port_key size");
_Static_assert(sizeof(struct bw_talker) == 40, "bw_talker size");
_Static_assert(sizeof(struct bw_sample) == 144, "bw_sample size");

#endif /* BREAKWATER_H */
