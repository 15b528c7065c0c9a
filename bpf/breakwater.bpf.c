// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Breakwater's XDP program: counts every packet (protocols, TCP flags,
 * fragments, sizes, TTLs, distinct sources, top talkers) and drops by rule.
 * A packet it cannot parse in full is counted as malformed; the rules still
 * judge it by what could be parsed (its source, once the IP header is read).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "breakwater.h"
#include "maps.bpf.h"
#include "parsing.bpf.h"
#include "bits.bpf.h"
#include "counters.bpf.h"
#include "rules.bpf.h"
#include "samples.bpf.h"


/* Benchmark only: draw a random number per packet and replace the IPv4
 * source bits under bench_src_mask with it (all ones: a spoofed flood from
 * one test packet; zero: the same work, a single source). Set before load;
 * bench_random_src 0 removes the code. */
const volatile __u32 bench_random_src = 0;
const volatile __u32 bench_src_mask = 0;

enum bw_parsed {
	BW_PARSED_MALFORMED = -1,	/* *p holds what could be parsed */
	BW_PARSED_NON_IP = 0,
	BW_PARSED_IP = 1,
};

/*
 * Parses every header into *p. A global function: the verifier checks it
 * once on its own, so the many paths through the headers do not multiply
 * the paths through the counting and rule code that follows. Malformed:
 * a header truncated or inconsistent, or past a limit (BW_MAX_VLAN tags,
 * BW_MAX_EXT_HDRS extension headers); the fields before it are filled, and
 * past the VLAN limit only the source is looked for (seek_source).
 */
__noinline int parse_packet(struct xdp_md *ctx, struct bw_pkt *p)
{
	struct bw_cursor c;
	int proto;

	if (!p || !ctx)
		return BW_PARSED_MALFORMED;
	c.pos = (void *)(long)ctx->data;
	c.end = (void *)(long)ctx->data_end;
	c.l4_len = 0;
	proto = parse_eth(&c, p);
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
		seek_source(&c, p, proto);
		return BW_PARSED_MALFORMED;
	}
	if (proto == ETH_P_IP)
		proto = parse_ipv4(&c, p);
	else if (proto == ETH_P_IPV6)
		proto = parse_ipv6(&c, p);
	else if (proto >= 0)
		return BW_PARSED_NON_IP;
	if (proto < 0)
		return BW_PARSED_MALFORMED;
	if (p->frag != BW_FRAG_LATER) {
		switch (p->ip_proto) {
		case IPPROTO_TCP:
			proto = parse_tcp(&c, p);
			break;
		case IPPROTO_UDP:
			proto = parse_udp(&c, p);
			break;
		case IPPROTO_ICMP:
		case IPPROTO_ICMPV6:
			proto = parse_icmp(&c, p);
			break;
		default:
			proto = 0;
		}
		if (proto < 0)
			return BW_PARSED_MALFORMED;
		p->l4 = 1;
	}
	return BW_PARSED_IP;
}

SEC("xdp")
int breakwater(struct xdp_md *ctx)
{
	enum bw_verdict verdict = BW_VERDICT_PASS;
	__u64 len = ctx->data_end - ctx->data;
	struct bw_pkt p = {};
	struct bw_config *cfg;
	struct bw_stats *st;
	__u32 key = 0;
	int parsed;

	st = bpf_map_lookup_elem(&stats, &key);
	cfg = bpf_map_lookup_elem(&config, &key);
	if (!st || !cfg)
		return XDP_PASS;
	st->counters[BW_C_PACKETS]++;
	st->counters[BW_C_BYTES] += len;
	st->len_hist[len_bucket(len)]++;

	parsed = parse_packet(ctx, &p);
	if (p.vlan)
		st->counters[BW_C_VLAN]++;
	if (parsed == BW_PARSED_NON_IP) {
		st->counters[BW_C_NON_IP]++;
		goto out;
	}
	/* No IP header to read (or none found): nothing a rule could match. */
	if (!p.family) {
		st->counters[BW_C_MALFORMED]++;
		verdict = BW_VERDICT_MALFORMED;
		goto out;
	}

	if (bench_random_src && p.family == 4)
		p.saddr4 = (bpf_get_prandom_u32() & bench_src_mask) |
			   (p.saddr4 & ~bench_src_mask);

	st->counters[p.family == 4 ? BW_C_IPV4 : BW_C_IPV6]++;
	st->ttl_hist[p.ttl]++;
	if (p.frag)
		st->counters[BW_C_FRAGMENTS]++;
	/* The source is known: a malformed packet meets the rules too, with the
	 * fields that were parsed, but moves no L4 counter or port talker. */
	if (parsed == BW_PARSED_MALFORMED)
		st->counters[BW_C_MALFORMED]++;
	else if (p.l4 || (p.frag == BW_FRAG_LATER && p.ip_proto))
		count_l4(st, &p, len);
	hll_add(cfg, &p);
	talkers_add(cfg, st, &p, len, parsed != BW_PARSED_MALFORMED);
	verdict = apply_rules(cfg, st, &p, len);
	if (verdict == BW_VERDICT_PASS && parsed == BW_PARSED_MALFORMED)
		verdict = BW_VERDICT_MALFORMED;
out:
	switch (verdict) {
	case BW_VERDICT_DROP:
		st->counters[BW_C_DROPPED]++;
		break;
	case BW_VERDICT_ALLOW:
		st->counters[BW_C_ALLOWLISTED]++;
		break;
	case BW_VERDICT_LOG:
		st->counters[BW_C_LOGGED]++;
		break;
	default:
		st->counters[BW_C_PASSED]++;
	}
	sample_packet(ctx, cfg, st, len, verdict);
	return verdict == BW_VERDICT_DROP ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
