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

/* Looks k up in the host hash and the prefix trie, where that shape exists. */
static __always_inline void lookup_shape(struct bw_match *m, void *hosts,
					 void *prefixes, void *k,
					 __u32 classes, int v6, int cls,
					 __u64 *now)
{
	if (classes & BW_CLASS_BIT(v6, 1, cls))
		consider(m, bpf_map_lookup_elem(hosts, k), now);
	if (classes & BW_CLASS_BIT(v6, 0, cls))
		consider(m, bpf_map_lookup_elem(prefixes, k), now);
}

/*
 * Fills k's protocol and port for a shape; returns 0 if the shape cannot
 * match: a field it needs was not parsed (a protocol rule needs ip_proto, 0
 * when unknown; a port rule a parsed L4 header). Prefix-only rules always can.
 */
#define SET_SHAPE(k, p, cls)						\
	({								\
		int ok = 1;						\
		(k).proto = (cls) == BW_CLASS_ANY ? 0 : (p)->ip_proto;	\
		(k).port[0] = (cls) == BW_CLASS_PORT ? (p)->dport >> 8 : 0; \
		(k).port[1] = (cls) == BW_CLASS_PORT ? (p)->dport & 0xff : 0; \
		if ((cls) == BW_CLASS_PROTO && !(p)->ip_proto)		\
			ok = 0;						\
		if ((cls) == BW_CLASS_PORT && !((p)->l4 &&		\
		    ((p)->ip_proto == IPPROTO_TCP || (p)->ip_proto == IPPROTO_UDP || \
		     (p)->ip_proto == IPPROTO_ICMP || (p)->ip_proto == IPPROTO_ICMPV6))) \
			ok = 0;						\
		ok;							\
	})

/* Looks the packet up once per rule shape present, most specific first. */
static __always_inline void match_rules4(struct bw_config *cfg,
					 struct bw_pkt *p, struct bw_match *m)
{
	struct bw_rule_key4 k = { .prefixlen = BW_RULE_KEY_FIXED_BITS + 32 };
	__u32 classes = cfg->rule_classes;
	__u64 now = 0;

	__builtin_memcpy(k.addr, &p->saddr4, 4);
	if (SET_SHAPE(k, p, BW_CLASS_PORT))
		lookup_shape(m, &hosts_v4, &rules_v4, &k, classes, 0, BW_CLASS_PORT, &now);
	if (SET_SHAPE(k, p, BW_CLASS_PROTO))
		lookup_shape(m, &hosts_v4, &rules_v4, &k, classes, 0, BW_CLASS_PROTO, &now);
	if (SET_SHAPE(k, p, BW_CLASS_ANY))
		lookup_shape(m, &hosts_v4, &rules_v4, &k, classes, 0, BW_CLASS_ANY, &now);
}

static __always_inline void match_rules6(struct bw_config *cfg,
					 struct bw_pkt *p, struct bw_match *m)
{
	struct bw_rule_key6 k = { .prefixlen = BW_RULE_KEY_FIXED_BITS + 128 };
	__u32 classes = cfg->rule_classes;
	__u64 now = 0;

	__builtin_memcpy(k.addr, p->saddr6, 16);
	if (SET_SHAPE(k, p, BW_CLASS_PORT))
		lookup_shape(m, &hosts_v6, &rules_v6, &k, classes, 1, BW_CLASS_PORT, &now);
	if (SET_SHAPE(k, p, BW_CLASS_PROTO))
		lookup_shape(m, &hosts_v6, &rules_v6, &k, classes, 1, BW_CLASS_PROTO, &now);
	if (SET_SHAPE(k, p, BW_CLASS_ANY))
		lookup_shape(m, &hosts_v6, &rules_v6, &k, classes, 1, BW_CLASS_ANY, &now);
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
