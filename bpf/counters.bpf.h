/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Counting: per-CPU counters and histograms, the HyperLogLog of sources and
 * the sampled talker tables. Included only by breakwater.bpf.c.
 */
#ifndef BW_COUNTERS_BPF_H
#define BW_COUNTERS_BPF_H

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ALL (TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK | TCP_URG)
#define TCP_XMAS (TCP_FIN | TCP_PSH | TCP_URG)

static __always_inline __u32 len_bucket(__u64 len)
{
	if (len <= 64)
		return 0;
	if (len <= 128)
		return 1;
	if (len <= 256)
		return 2;
	if (len <= 512)
		return 3;
	if (len <= 1024)
		return 4;
	if (len <= 1500)
		return 5;
	return 6;
}

static __always_inline void count_tcp_flags(struct bw_stats *st, __u8 f)
{
	__u64 *c = st->counters;

	if ((f & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		c[BW_C_TCP_SYN]++;
	else if ((f & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
		c[BW_C_TCP_SYNACK]++;
	else if (f & TCP_ACK)
		c[BW_C_TCP_ACK]++;
	if (f & TCP_FIN)
		c[BW_C_TCP_FIN]++;
	if (f & TCP_RST)
		c[BW_C_TCP_RST]++;
	if (f & TCP_PSH)
		c[BW_C_TCP_PSH]++;
	if (f & TCP_URG)
		c[BW_C_TCP_URG]++;
	if (!(f & TCP_ALL))
		c[BW_C_TCP_NULL]++;
	if ((f & TCP_XMAS) == TCP_XMAS)
		c[BW_C_TCP_XMAS]++;
}

/* Counts a packet by its L4 protocol: one whose L4 header was parsed, or a
 * later fragment (its IP header names the protocol; TCP flags only with a
 * header), so that a fragmented flood shows as the protocol it is. */
static __always_inline void count_l4(struct bw_stats *st, struct bw_pkt *p,
				     __u64 len)
{
	__u64 *c = st->counters;

	switch (p->ip_proto) {
	case IPPROTO_TCP:
		c[BW_C_TCP]++;
		c[BW_C_TCP_BYTES] += len;
		if (p->l4)
			count_tcp_flags(st, p->tcp_flags);
		break;
	case IPPROTO_UDP:
		c[BW_C_UDP]++;
		c[BW_C_UDP_BYTES] += len;
		if (!p->l4)
			c[BW_C_UDP_LATER_FRAGMENTS]++;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		c[BW_C_ICMP]++;
		c[BW_C_ICMP_BYTES] += len;
		break;
	default:
		c[BW_C_OTHER_IP]++;
	}
}

/*
 * murmur3's 64-bit finaliser: cheap and well mixed. In 64-bit arithmetic
 * throughout: BPF's 32-bit operations on a 64-bit register would each need
 * the upper half cleared first.
 */
static __always_inline __u64 mix64(__u64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static __always_inline __u64 src_hash(struct bw_pkt *p)
{
	__u64 w[2];

	if (p->family == 4)
		return mix64(p->saddr4);
	__builtin_memcpy(w, p->saddr6, 16);
	return mix64(w[0] ^ mix64(w[1]));
}

static __always_inline void hll_add(struct bw_config *cfg, struct bw_pkt *p)
{
	__u32 key = cfg->epoch & 1;
	struct bw_hll *h = bpf_map_lookup_elem(&hll, &key);
	__u64 hash = src_hash(p);
	__u32 idx = hash >> (64 - BW_HLL_BITS);
	/* The rank's bit (breakwater.h): the lowest bit set of the 32 - BW_HLL_BITS
	 * bits under the index, a sentinel above them capping the rank at
	 * 33 - BW_HLL_BITS. */
	__u64 rest = (hash >> 32) | (1ull << (32 - BW_HLL_BITS));

	if (h)
		h->reg[idx & (BW_HLL_REGS - 1)] |= rest & -rest;
}

static __always_inline void talker_add(void *map, void *key, __u32 epoch,
				       __u64 pkts, __u64 bytes, int admit)
{
	struct bw_talker *t = bpf_map_lookup_elem(map, key);
	struct bw_talker fresh = {};

	if (!t) {
		if (admit <= 0)
			return;
		fresh.epoch = epoch;
		fresh.cur_packets = pkts * admit;
		fresh.cur_bytes = bytes * admit;
		bpf_map_update_elem(map, key, &fresh, BPF_NOEXIST);
		return;
	}
	if (t->epoch != epoch) {
		/* Roll the window lazily; an entry idle for two epochs restarts. */
		if (t->epoch + 1 == epoch) {
			t->prev_packets = t->cur_packets;
			t->prev_bytes = t->cur_bytes;
		} else {
			t->prev_packets = 0;
			t->prev_bytes = 0;
		}
		t->cur_packets = 0;
		t->cur_bytes = 0;
		t->epoch = epoch;
	}
	t->cur_packets += pkts;
	t->cur_bytes += bytes;
}

/*
 * Top talkers. Only 1 in talker_sample_period packets touches the tables, so
 * a spoofed flood (a new source per packet) pays the LRU insert on a sample
 * only, while a heavy hitter is sampled in proportion to its share. ports 0
 * (a malformed packet) records the source only.
 */
static __always_inline void talkers_add(struct bw_config *cfg,
					struct bw_stats *st,
					struct bw_pkt *p, __u64 len, int ports)
{
	__u32 period = cfg->talker_sample_period;
	struct bw_addr src = {};
	struct bw_port_key pk = {};
	__u32 rnd;
	int admit = 1;

	if (period > 1) {
		/* A per-CPU countdown, reloaded at random in [1, 2 x period - 1]:
		 * 1 in period on average, no periodic pattern to hide behind, and
		 * no helper call on the packets that are not sampled. */
		if (st->talker_countdown > 1) {
			st->talker_countdown--;
			return;
		}
		rnd = bpf_get_prandom_u32();
		st->talker_countdown = (rnd & (2 * period - 2)) + 1;
		/* New keys: admitted 1 in BW_TALKER_ADMIT, weighted to match. */
		admit = (rnd >> 24) % BW_TALKER_ADMIT ? 0 : BW_TALKER_ADMIT;
	} else {
		period = 1;
	}
	if (p->family == 4) {
		src.addr[10] = 0xff;
		src.addr[11] = 0xff;
		__builtin_memcpy(&src.addr[12], &p->saddr4, 4);
	} else {
		__builtin_memcpy(src.addr, p->saddr6, 16);
	}
	talker_add(&src_talkers, &src, cfg->epoch, period, len * period, admit);
	if (!ports || !p->l4)
		return;
	if (p->ip_proto == IPPROTO_TCP) {
		pk.kind = BW_PORT_TCP_DST;
		pk.port = p->dport;
		talker_add(&port_talkers, &pk, cfg->epoch, period, len * period, admit);
	} else if (p->ip_proto == IPPROTO_UDP) {
		pk.kind = BW_PORT_UDP_DST;
		pk.port = p->dport;
		talker_add(&port_talkers, &pk, cfg->epoch, period, len * period, admit);
		pk.kind = BW_PORT_UDP_SRC;
		pk.port = p->sport;
		talker_add(&port_talkers, &pk, cfg->epoch, period, len * period, admit);
	}
}

#endif /* BW_COUNTERS_BPF_H */
