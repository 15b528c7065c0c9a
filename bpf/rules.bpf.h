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
	__u32 drop;		/* rule is a live drop rule: nothing can override it */
};

/*
 * Rule keys as the probes write them: in whole 32-bit words. The hash reads a
 * key word by word, and a word put together from byte stores (length,
 * protocol, port) cannot be forwarded from the store buffer: each probe would
 * wait for those stores to reach the cache. head is the first word: the
 * shape's protocol and port with the length OR-ed in (key_len()).
 */
union bw_key4 {
	struct bw_rule_key4 k;
	__u32 w[2];
};

union bw_key6 {
	struct bw_rule_key6 k;
	__u32 w[5];
};

/* The first word of a key of that length, protocol and port (network byte
 * order): the compiler folds it to shifts in a register. */
static __always_inline __u32 key_head(__u8 len, __u8 proto, __u16 port_be)
{
	union bw_key4 u = { .k = { .prefixlen = len, .proto = proto } };

	__builtin_memcpy(u.k.port, &port_be, 2);
	return u.w[0];
}

#define key_len(len) key_head((len), 0, 0)

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
	if (r->mode == BW_MODE_DROP) {
		m->rule = r;
		m->drop = 1;
	} else if (!m->rule) {
		m->rule = r;
	}
}

/*
 * The longest length in a non-empty set of 32 (bit 31 - L: length L, see
 * bpf/breakwater.h), and its mask. The lowest bit set is the longest length,
 * found by its slot (bits.bpf.h): the table's entry for a slot whose bit is
 * k is length 31 - k, with that length's mask in network byte order.
 */
struct bw_len {
	__u32 len;
	__u32 mask;
};

#define BW_LEN(l) { (l), __bpf_constant_htonl((__u32)(0xffffffff00000000ull >> (l))) }
static const struct bw_len bw_lens[32] = {
	BW_LEN(31), BW_LEN(30), BW_LEN(3), BW_LEN(29), BW_LEN(2), BW_LEN(17),
	BW_LEN(7), BW_LEN(28), BW_LEN(1), BW_LEN(9), BW_LEN(11), BW_LEN(16),
	BW_LEN(6), BW_LEN(14), BW_LEN(27), BW_LEN(23), BW_LEN(0), BW_LEN(4),
	BW_LEN(18), BW_LEN(8), BW_LEN(10), BW_LEN(12), BW_LEN(15), BW_LEN(24),
	BW_LEN(5), BW_LEN(19), BW_LEN(13), BW_LEN(25), BW_LEN(20), BW_LEN(26),
	BW_LEN(21), BW_LEN(22),
};
#undef BW_LEN

static __always_inline const struct bw_len *longest_len(__u32 lens)
{
	return &bw_lens[lowest_bit_slot(lens) & 31];
}

/*
 * The longest prefix rule of k's shape (protocol and port already in k) whose
 * length is in lens and which holds saddr, or NULL. Probes the lengths
 * longest first and stops at the first hit, as a trie would: a shorter rule
 * of the same shape never decides when a longer one matches.
 */
static __always_inline struct bw_rule *longest4(union bw_key4 *k, __u32 head,
						__u32 saddr, __u64 lens)
{
	for (int i = 0; i < 32 && lens; i++) {
		const struct bw_len *l = longest_len(lens);
		struct bw_rule *r;

		lens &= lens - 1;
		k->w[0] = head | key_len(l->len);
		k->w[1] = saddr & l->mask;
		r = bpf_map_lookup_elem(&rules_v4, k);
		if (r)
			return r;
	}
	return NULL;
}

/* The same for IPv6: lens[w] holds lengths 32 w to 32 w + 31. */
static __always_inline struct bw_rule *longest6(union bw_key6 *k, __u32 head,
						const __u32 *saddr,
						const __u32 *lens)
{
#pragma unroll
	for (int w = 3; w >= 0; w--) {
		__u64 bits = lens[w];

		if (!bits)
			continue;
		/* The words before w are the source's, those after it zero. */
#pragma unroll
		for (int j = 0; j < 4; j++)
			if (j != w)
				k->w[j + 1] = j < w ? saddr[j] : 0;
		for (int i = 0; i < 32 && bits; i++) {
			const struct bw_len *l = longest_len(bits);
			struct bw_rule *r;

			bits &= bits - 1;
			k->w[0] = head | key_len(32 * w + l->len);
			k->w[w + 1] = saddr[w] & l->mask;
			r = bpf_map_lookup_elem(&rules_v6, k);
			if (r)
				return r;
		}
	}
	return NULL;
}

/*
 * Whether a shape can match: a field it needs was parsed (a protocol rule
 * needs ip_proto, 0 when unknown; a port rule a parsed L4 header). Prefix-only
 * rules always can. A port rule never has port 0: with dport 0 the port
 * shape's key is the protocol shape's, which is looked up anyway.
 */
#define SHAPE_CAN_MATCH(p, cls)						\
	((cls) == BW_CLASS_ANY ||					\
	 ((cls) == BW_CLASS_PROTO && (p)->ip_proto) ||			\
	 ((cls) == BW_CLASS_PORT && (p)->l4 && (p)->dport &&		\
	  ((p)->ip_proto == IPPROTO_TCP || (p)->ip_proto == IPPROTO_UDP ||	\
	   (p)->ip_proto == IPPROTO_ICMP || (p)->ip_proto == IPPROTO_ICMPV6)))

/* The first word of a shape's keys, without the length. */
#define SHAPE_HEAD(p, cls)						\
	key_head(0, (cls) == BW_CLASS_ANY ? 0 : (p)->ip_proto,		\
		 (cls) == BW_CLASS_PORT ? bpf_htons((p)->dport) : 0)

/* The class bits of a family's prefix (not host) rules. */
#define PREFIX_CLASSES(v6) \
	(BW_CLASS_BIT(v6, 0, BW_CLASS_ANY) | BW_CLASS_BIT(v6, 0, BW_CLASS_PROTO) | \
	 BW_CLASS_BIT(v6, 0, BW_CLASS_PORT))

/* The class bits of one shape, host and prefix rules. */
#define SHAPE_CLASSES(v6, cls) (BW_CLASS_BIT(v6, 0, cls) | BW_CLASS_BIT(v6, 1, cls))

/*
 * One shape, if it has rules and the packet the fields it needs: its host
 * rule (exact probe), then its longest prefix rule; not the prefix rule once
 * a live drop rule decided (consider() would keep that one anyway).
 */
static __always_inline void lookup_shape4(struct bw_match *m,
					  union bw_key4 *k,
					  struct bw_pkt *p, __u32 classes,
					  __u32 lens, int cls, __u64 *now)
{
	__u32 head;

	if (!(classes & SHAPE_CLASSES(0, cls)) || !SHAPE_CAN_MATCH(p, cls))
		return;
	head = SHAPE_HEAD(p, cls);
	if (classes & BW_CLASS_BIT(0, 1, cls)) {
		k->w[0] = head | key_len(32);
		k->w[1] = p->saddr4;
		consider(m, bpf_map_lookup_elem(&rules_v4, k), now);
	}
	if (lens && !m->drop)
		consider(m, longest4(k, head, p->saddr4, lens), now);
}

static __always_inline void lookup_shape6(struct bw_match *m,
					  union bw_key6 *k,
					  struct bw_pkt *p, const __u32 *saddr,
					  __u32 classes, const __u32 *lens,
					  int cls, __u64 *now)
{
	__u32 head;

	if (!(classes & SHAPE_CLASSES(1, cls)) || !SHAPE_CAN_MATCH(p, cls))
		return;
	head = SHAPE_HEAD(p, cls);
	if (classes & BW_CLASS_BIT(1, 1, cls)) {
		k->w[0] = head | key_len(128);
		__builtin_memcpy(&k->w[1], saddr, 16);
		consider(m, bpf_map_lookup_elem(&rules_v6, k), now);
	}
	if ((lens[0] | lens[1] | lens[2] | lens[3]) && !m->drop)
		consider(m, longest6(k, head, saddr, lens), now);
}

/*
 * Looks the packet up once per rule shape present, most specific first, and
 * stops at the first live drop rule: no later one can override it (a
 * log-only rule found first still yields to a later drop).
 */
static __always_inline void match_rules4(struct bw_config *cfg,
					 struct bw_pkt *p, struct bw_match *m)
{
	/* Zeroed although every probe writes it whole: a key known to the
	 * verifier keeps its state pruning working (without: 1.5 times the instructions). */
	union bw_key4 k = {};
	__u32 classes = cfg->rule_classes;
	struct bw_block4 *b = NULL;
	__u32 keep = 0;
	__u64 now = 0;

	/* One entry holds every length in use over the source's /16, and which
	 * of its /24s the lengths past a /16 can match in. */
	if (classes & PREFIX_CLASSES(0)) {
		__u32 host = bpf_ntohl(p->saddr4);
		__u32 block = host >> (32 - BW_BLOCK_LEN4);
		__u32 sub = (host >> 8) & 255;

		b = bpf_map_lookup_elem(&blocks_v4, &block);
		if (b)
			keep = BW_BLOCK4_KEEP(b, sub);
	}
	lookup_shape4(m, &k, p, classes, b ? b->lens[BW_CLASS_PORT] & keep : 0, BW_CLASS_PORT, &now);
	if (m->drop)
		return;
	lookup_shape4(m, &k, p, classes, b ? b->lens[BW_CLASS_PROTO] & keep : 0, BW_CLASS_PROTO, &now);
	if (m->drop)
		return;
	lookup_shape4(m, &k, p, classes, b ? b->lens[BW_CLASS_ANY] & keep : 0, BW_CLASS_ANY, &now);
}

static __always_inline void match_rules6(struct bw_config *cfg,
					 struct bw_pkt *p, struct bw_match *m)
{
	union bw_key6 k = {};	/* zeroed: see match_rules4 */
	__u32 classes = cfg->rule_classes;
	__u32 lens[BW_CLASS_MAX][4] = {};
	__u32 saddr[4];
	__u64 now = 0;

	__builtin_memcpy(saddr, p->saddr6, 16);
	/* Lengths shorter than a /32 for the family, longer ones of its /32. */
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
	lookup_shape6(m, &k, p, saddr, classes, lens[BW_CLASS_PORT], BW_CLASS_PORT, &now);
	if (m->drop)
		return;
	lookup_shape6(m, &k, p, saddr, classes, lens[BW_CLASS_PROTO], BW_CLASS_PROTO, &now);
	if (m->drop)
		return;
	lookup_shape6(m, &k, p, saddr, classes, lens[BW_CLASS_ANY], BW_CLASS_ANY, &now);
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
	/* The key read where it is, in the rule: a copy on the stack would be
	 * stored and loaded back before the lookup could start. */
	rs = bpf_map_lookup_elem(&rule_stats, &m.rule->slot);
	if (rs) {
		rs->packets++;
		rs->bytes += len;
	}
	if (m.rule->mode == BW_MODE_DROP && !cfg->kill_switch)
		return BW_VERDICT_DROP;
	return BW_VERDICT_LOG;
}

#endif /* BW_RULES_BPF_H */
