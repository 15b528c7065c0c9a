/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Rule matching: drop and log-only rules by source prefix (with optional
 * protocol and destination port), the allowlist, expiry and the kill switch.
 * Included only by breakwater.bpf.c.
 */
#ifndef BW_RULES_BPF_H
#define BW_RULES_BPF_H

struct bw_match {
	struct bw_rule *rule;	/* the rule that decides, or NULL */
	__u32 expired;		/* a rule matched but had expired */
};

/* Keeps the first live drop rule, else the first live log-only rule. */
static __always_inline void consider(struct bw_match *m, struct bw_rule *r,
				     __u64 *now)
{
	if (!r)
		return;
	if (r->expires_ns) {
		if (!*now)
			*now = bpf_ktime_get_coarse_ns();
		if (*now >= r->expires_ns) {
			m->expired = 1;
			return;
		}
	}
	if (!m->rule || (m->rule->mode != BW_MODE_DROP && r->mode == BW_MODE_DROP))
		m->rule = r;
}

/*
 * Index (0-31) of the highest bit set in x, which is not 0. Without a branch
 * (BPF has no count-leading-zeros): a branch per step would give the verifier
 * a path per result in every probe of the loops below.
 */
static __always_inline __u32 top_bit(__u32 x)
{
	x |= x >> 1;
	x |= x >> 2;
	x |= x >> 4;
	x |= x >> 8;
	x |= x >> 16;
	/* x is now 2^(n+1) - 1: count its bits */
	x -= (x >> 1) & 0x55555555;
	x = (x & 0x33333333) + ((x >> 2) & 0x33333333);
	x = (x + (x >> 4)) & 0x0f0f0f0f;
	return ((x * 0x01010101) >> 24) - 1;
}

/* The first bits (0-32) of a word set, in network byte order. */
static __always_inline __u32 mask32(__u32 bits)
{
	return bpf_htonl((__u32)(0xffffffff00000000ull >> bits));
}

/*
 * The longest prefix rule of k's shape (protocol and port already in k) whose
 * length is in lens (bit L: length L) and which holds saddr, or NULL. Probes
 * the lengths longest first and stops at the first hit, as a trie would: a
 * shorter rule of the same shape never decides when a longer one matches.
 */
static __always_inline struct bw_rule *longest4(struct bw_rule_key4 *k,
						__u32 saddr, __u32 lens)
{
	for (int i = 0; i < 32 && lens; i++) {
		__u32 len = top_bit(lens);
		struct bw_rule *r;

		lens &= ~(1u << len);
		k->prefixlen = len;
		k->addr = saddr & mask32(len);
		r = bpf_map_lookup_elem(&rules_v4, k);
		if (r)
			return r;
	}
	return NULL;
}

/* The same for IPv6: bit b of lens[w] is length 32 w + b. */
static __always_inline struct bw_rule *longest6(struct bw_rule_key6 *k,
						const __u32 *saddr,
						const __u32 *lens)
{
#pragma unroll
	for (int w = 3; w >= 0; w--) {
		__u32 bits = lens[w];

		for (int i = 0; i < 32 && bits; i++) {
			__u32 b = top_bit(bits);
			struct bw_rule *r;

			bits &= ~(1u << b);
			k->prefixlen = 32 * w + b;
#pragma unroll
			for (int j = 0; j < 4; j++)
				k->addr[j] = j < w ? saddr[j] :
					     j == w ? saddr[j] & mask32(b) : 0;
			r = bpf_map_lookup_elem(&rules_v6, k);
			if (r)
				return r;
		}
	}
	return NULL;
}

/*
 * Fills k's protocol and port for a shape; returns 0 if the shape cannot
 * match: a field it needs was not parsed (a protocol rule needs ip_proto, 0
 * when unknown; a port rule a parsed L4 header). Prefix-only rules always can.
 * A port rule never has port 0: with dport 0 the port shape's key is the
 * protocol shape's, which is looked up anyway.
 */
#define SET_SHAPE(k, p, cls)						\
	({								\
		int ok = 1;						\
		(k).proto = (cls) == BW_CLASS_ANY ? 0 : (p)->ip_proto;	\
		(k).port[0] = (cls) == BW_CLASS_PORT ? (p)->dport >> 8 : 0; \
		(k).port[1] = (cls) == BW_CLASS_PORT ? (p)->dport & 0xff : 0; \
		if ((cls) == BW_CLASS_PROTO && !(p)->ip_proto)		\
			ok = 0;						\
		if ((cls) == BW_CLASS_PORT && !((p)->l4 && (p)->dport &&	\
		    ((p)->ip_proto == IPPROTO_TCP || (p)->ip_proto == IPPROTO_UDP || \
		     (p)->ip_proto == IPPROTO_ICMP || (p)->ip_proto == IPPROTO_ICMPV6))) \
			ok = 0;						\
		ok;							\
	})

/* The class bits of a family's prefix (not host) rules. */
#define PREFIX_CLASSES(v6) \
	(BW_CLASS_BIT(v6, 0, BW_CLASS_ANY) | BW_CLASS_BIT(v6, 0, BW_CLASS_PROTO) | \
	 BW_CLASS_BIT(v6, 0, BW_CLASS_PORT))

/* One shape: its host rule (exact probe), then its longest prefix rule. */
static __always_inline void lookup_shape4(struct bw_match *m,
					  struct bw_rule_key4 *k, __u32 saddr,
					  __u32 classes, __u32 lens, int cls,
					  __u64 *now)
{
	if (classes & BW_CLASS_BIT(0, 1, cls)) {
		k->prefixlen = 32;
		k->addr = saddr;
		consider(m, bpf_map_lookup_elem(&rules_v4, k), now);
	}
	if (lens)
		consider(m, longest4(k, saddr, lens), now);
}

static __always_inline void lookup_shape6(struct bw_match *m,
					  struct bw_rule_key6 *k,
					  const __u32 *saddr, __u32 classes,
					  const __u32 *lens, int cls, __u64 *now)
{
	if (classes & BW_CLASS_BIT(1, 1, cls)) {
		k->prefixlen = 128;
		__builtin_memcpy(k->addr, saddr, 16);
		consider(m, bpf_map_lookup_elem(&rules_v6, k), now);
	}
	if (lens[0] | lens[1] | lens[2] | lens[3])
		consider(m, longest6(k, saddr, lens), now);
}

/* Looks the packet up once per rule shape present, most specific first. */
static __always_inline void match_rules4(struct bw_config *cfg,
					 struct bw_pkt *p, struct bw_match *m)
{
	struct bw_rule_key4 k = {};
	__u32 classes = cfg->rule_classes;
	__u32 lens[BW_CLASS_MAX] = {};
	__u32 saddr = p->saddr4;
	__u64 now = 0;

	if (classes & PREFIX_CLASSES(0)) {
		__u32 zero = 0, block = bpf_ntohl(saddr) >> (32 - BW_BLOCK_LEN4);
		struct bw_prefix_lens *pl = bpf_map_lookup_elem(&prefix_lens, &zero);
		struct bw_block4 *b = bpf_map_lookup_elem(&blocks_v4, &block);

#pragma unroll
		for (int c = 0; c < BW_CLASS_MAX; c++)
			lens[c] = (pl ? pl->v4[c] : 0) |
				  (b ? (__u32)b->lens[c] << BW_BLOCK_LEN4 : 0);
	}
	if (SET_SHAPE(k, p, BW_CLASS_PORT))
		lookup_shape4(m, &k, saddr, classes, lens[BW_CLASS_PORT], BW_CLASS_PORT, &now);
	if (SET_SHAPE(k, p, BW_CLASS_PROTO))
		lookup_shape4(m, &k, saddr, classes, lens[BW_CLASS_PROTO], BW_CLASS_PROTO, &now);
	if (SET_SHAPE(k, p, BW_CLASS_ANY))
		lookup_shape4(m, &k, saddr, classes, lens[BW_CLASS_ANY], BW_CLASS_ANY, &now);
}

static __always_inline void match_rules6(struct bw_config *cfg,
					 struct bw_pkt *p, struct bw_match *m)
{
	struct bw_rule_key6 k = {};
	__u32 classes = cfg->rule_classes;
	__u32 lens[BW_CLASS_MAX][4] = {};
	__u32 saddr[4];
	__u64 now = 0;

	__builtin_memcpy(saddr, p->saddr6, 16);
	if (classes & PREFIX_CLASSES(1)) {
		__u32 zero = 0;
		struct bw_prefix_lens *pl = bpf_map_lookup_elem(&prefix_lens, &zero);
		struct bw_block6 *b = bpf_map_lookup_elem(&blocks_v6, &saddr[0]);

#pragma unroll
		for (int c = 0; c < BW_CLASS_MAX; c++) {
			lens[c][0] = pl ? pl->v6[c] : 0;
#pragma unroll
			for (int w = 0; w < 3; w++)
				lens[c][w + 1] = b ? b->lens[c][w] : 0;
		}
	}
	if (SET_SHAPE(k, p, BW_CLASS_PORT))
		lookup_shape6(m, &k, saddr, classes, lens[BW_CLASS_PORT], BW_CLASS_PORT, &now);
	if (SET_SHAPE(k, p, BW_CLASS_PROTO))
		lookup_shape6(m, &k, saddr, classes, lens[BW_CLASS_PROTO], BW_CLASS_PROTO, &now);
	if (SET_SHAPE(k, p, BW_CLASS_ANY))
		lookup_shape6(m, &k, saddr, classes, lens[BW_CLASS_ANY], BW_CLASS_ANY, &now);
}

static __always_inline int allowlisted(struct bw_pkt *p)
{
	if (p->family == 4) {
		struct bw_allow_key4 k = { .prefixlen = 32 };

		__builtin_memcpy(k.addr, &p->saddr4, 4);
		return bpf_map_lookup_elem(&allow_v4, &k) != NULL;
	} else {
		struct bw_allow_key6 k = { .prefixlen = 128 };

		__builtin_memcpy(k.addr, p->saddr6, 16);
		return bpf_map_lookup_elem(&allow_v6, &k) != NULL;
	}
}

/* Decides the verdict of an IP packet and counts the rule's hits. */
static __always_inline enum bw_verdict apply_rules(struct bw_config *cfg,
						   struct bw_stats *st,
						   struct bw_pkt *p, __u64 len)
{
	struct bw_match m = {};
	struct bw_rule_stats *rs;
	__u32 slot;

	if (!cfg->rule_classes)
		return BW_VERDICT_PASS;
	if (p->family == 4)
		match_rules4(cfg, p, &m);
	else
		match_rules6(cfg, p, &m);
	if (!m.rule) {
		if (m.expired)
			st->counters[BW_C_RULE_EXPIRED]++;
		return BW_VERDICT_PASS;
	}
	/* The allowlist is consulted only when a rule would act, and only if
	 * it holds a prefix of this family. */
	if ((cfg->allow_families & (p->family == 4 ? 1 : 2)) && allowlisted(p))
		return BW_VERDICT_ALLOW;
	slot = m.rule->slot;
	rs = bpf_map_lookup_elem(&rule_stats, &slot);
	if (rs) {
		rs->packets++;
		rs->bytes += len;
	}
	if (m.rule->mode == BW_MODE_DROP && !cfg->kill_switch)
		return BW_VERDICT_DROP;
	return BW_VERDICT_LOG;
}

#endif /* BW_RULES_BPF_H */
