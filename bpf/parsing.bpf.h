/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Header parsing. Included only by breakwater.bpf.c.
 *
 * Contract of every parse_* helper: it checks its header against the end of
 * the frame before reading it, advances the cursor past it, fills the fields
 * of struct bw_pkt it owns (host byte order), and returns the next protocol
 * (an ethertype or an IP protocol number), or -1 when the header is
 * truncated or inconsistent. -1 always means "malformed", never "nothing
 * known": a helper fills what it could read before it gives up, so that the
 * rules can still use it. In particular the IP helpers set family and source
 * as soon as the fixed header is readable, before they check its lengths.
 */
#ifndef BW_PARSING_BPF_H
#define BW_PARSING_BPF_H

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88A8
#define IP_MF		0x2000
#define IP_OFFSET	0x1FFF

enum bw_frag {
	BW_FRAG_NONE = 0,
	BW_FRAG_FIRST = 1,	/* carries the L4 header */
	BW_FRAG_LATER = 2,	/* no L4 header: never counted as L4 */
};

struct bw_cursor {
	void *pos;
	void *end;		/* always the frame end: the verifier needs it */
	__u32 l4_len;		/* bytes the IP header says follow it */
};

/*
 * What the program knows about a packet once parsed. A field the parser
 * could not reach keeps its zero: family 0 means no IP source is known,
 * ip_proto 0 that the L4 protocol is not known (0 is hop-by-hop, never an L4
 * protocol), l4 0 that ports and flags are not known.
 */
struct bw_pkt {
	__u32 saddr4;		/* network byte order, IPv4 only */
	__u8 saddr6[16];	/* IPv6 only */
	__u16 sport;
	__u16 dport;
	__u8 family;		/* 0 (not IP, or no readable IP header), 4 or 6 */
	__u8 ip_proto;		/* protocol of the L4 header (after extensions); 0: unknown */
	__u8 ttl;
	__u8 frag;		/* enum bw_frag */
	__u8 tcp_flags;
	__u8 l4;		/* 1 when the L4 header was parsed */
	__u8 vlan;		/* VLAN tags walked (up to BW_MAX_VLAN_SEEK) */
	__u8 pad[3];
};

struct bw_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* Ethernet and up to BW_MAX_VLAN tags. Returns the ethertype that follows:
 * still a VLAN ethertype when the stack is deeper (see seek_source). */
static __always_inline int parse_eth(struct bw_cursor *c, struct bw_pkt *p)
{
	struct ethhdr *eth = c->pos;
	__u16 proto;

	if ((void *)(eth + 1) > c->end)
		return -1;
	c->pos = eth + 1;
	proto = bpf_ntohs(eth->h_proto);
#pragma unroll
	for (int i = 0; i < BW_MAX_VLAN; i++) {
		struct bw_vlan_hdr *vh = c->pos;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if ((void *)(vh + 1) > c->end)
			return -1;
		c->pos = vh + 1;
		proto = bpf_ntohs(vh->proto);
		p->vlan = i + 1;
	}
	return proto;
}

/* Family, source, TTL, protocol and fragment bits are read from the fixed
 * header; a header whose options or total length do not fit is malformed. */
static __always_inline int parse_ipv4(struct bw_cursor *c, struct bw_pkt *p)
{
	struct iphdr *ip = c->pos;
	__u32 hlen, tot;
	__u16 frag;

	if ((void *)(ip + 1) > c->end)
		return -1;
	hlen = ip->ihl * 4;
	if (ip->version != 4 || hlen < sizeof(*ip))
		return -1;
	p->family = 4;
	p->saddr4 = ip->saddr;
	p->ttl = ip->ttl;
	p->ip_proto = ip->protocol;
	frag = bpf_ntohs(ip->frag_off);
	if (frag & IP_OFFSET)
		p->frag = BW_FRAG_LATER;
	else if (frag & IP_MF)
		p->frag = BW_FRAG_FIRST;
	tot = bpf_ntohs(ip->tot_len);
	if (c->pos + hlen > c->end || tot < hlen || c->pos + tot > c->end)
		return -1;
	/* L4 ends where the IP datagram ends, not at the (padded) frame end. */
	c->l4_len = tot - hlen;
	c->pos += hlen;
	return ip->protocol;
}

struct bw_ipv6_opt {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct bw_ipv6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;	/* offset << 3 | M flag */
	__be32 id;
};

static __always_inline int ipv6_ext(__u8 next)
{
	switch (next) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_FRAGMENT:
	case IPPROTO_AH:
	case 135:	/* mobility */
		return 1;
	}
	return 0;
}

/*
 * The fixed header gives family, source and hop limit; the protocol is known
 * only at the end of the extension chain. A later fragment ends the walk at
 * its fragment header: what follows is data, and the protocol is the
 * header's next header unless that is itself an extension (then unknown).
 */
static __always_inline int parse_ipv6(struct bw_cursor *c, struct bw_pkt *p)
{
	struct ipv6hdr *ip6 = c->pos;
	__u32 plen, hlen;
	__u8 next;

	if ((void *)(ip6 + 1) > c->end)
		return -1;
	if (ip6->version != 6)
		return -1;
	p->family = 6;
	__builtin_memcpy(p->saddr6, &ip6->saddr, 16);
	p->ttl = ip6->hop_limit;
	plen = bpf_ntohs(ip6->payload_len);
	/* 0 would be a jumbogram; those never cross an XDP hook. */
	if (plen == 0 || (void *)(ip6 + 1) + plen > c->end)
		return -1;
	c->l4_len = plen;
	c->pos = ip6 + 1;
	next = ip6->nexthdr;

#pragma unroll
	for (int i = 0; i < BW_MAX_EXT_HDRS; i++) {
		struct bw_ipv6_opt *opt = c->pos;
		struct bw_ipv6_frag *fh = c->pos;
		__u16 off;

		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case 135:	/* mobility */
			if ((void *)(opt + 1) > c->end)
				return -1;
			hlen = (opt->hdrlen + 1) * 8;
			next = opt->nexthdr;
			break;
		case IPPROTO_AH:
			if ((void *)(opt + 1) > c->end)
				return -1;
			hlen = (opt->hdrlen + 2) * 4;
			next = opt->nexthdr;
			break;
		case IPPROTO_FRAGMENT:
			if ((void *)(fh + 1) > c->end)
				return -1;
			off = bpf_ntohs(fh->frag_off);
			next = fh->nexthdr;
			if (off & 0xFFF8) {
				p->frag = BW_FRAG_LATER;
				goto done;
			}
			if (off & 1)
				p->frag = BW_FRAG_FIRST;
			hlen = sizeof(*fh);
			break;
		default:
			goto done;
		}
		if (hlen > c->l4_len)
			return -1;
		c->pos += hlen;
		c->l4_len -= hlen;
		if (c->pos > c->end)
			return -1;
	}
	/* Still an extension header after the limit: refuse the chain. */
	if (ipv6_ext(next))
		return -1;
done:
	if (ipv6_ext(next))
		return 0;	/* a later fragment of an extension: protocol unknown */
	p->ip_proto = next;
	return next;
}

/*
 * A VLAN stack deeper than BW_MAX_VLAN: the tags are skipped, up to
 * BW_MAX_VLAN_SEEK in all, only to find the source, and the frame is
 * malformed whatever follows. Only the fixed IP header is read (IPv4 names
 * its protocol there; IPv6 only after its chain: unknown): the whole parse at
 * every depth would multiply the verifier's work by the depth. The bound is
 * the stack's own: Linux strips up to 8 priority tags (VLAN ID 0) and delivers
 * the packet under them, drops a deeper stack, and never hands a non-zero
 * VLAN ID to IP without a VLAN device for it.
 */
static __always_inline void seek_source(struct bw_cursor *c, struct bw_pkt *p,
					__u16 proto)
{
	struct iphdr *ip;
	struct ipv6hdr *ip6;
	__u16 frag;

#pragma unroll
	for (int i = BW_MAX_VLAN; i < BW_MAX_VLAN_SEEK; i++) {
		struct bw_vlan_hdr *vh = c->pos;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if ((void *)(vh + 1) > c->end)
			return;
		c->pos = vh + 1;
		proto = bpf_ntohs(vh->proto);
		p->vlan = i + 1;
	}
	ip = c->pos;
	ip6 = c->pos;
	if (proto == ETH_P_IP && (void *)(ip + 1) <= c->end &&
	    ip->version == 4 && ip->ihl >= 5) {
		p->family = 4;
		p->saddr4 = ip->saddr;
		p->ttl = ip->ttl;
		p->ip_proto = ip->protocol;
		frag = bpf_ntohs(ip->frag_off);
		p->frag = (frag & IP_OFFSET) ? BW_FRAG_LATER :
			  (frag & IP_MF) ? BW_FRAG_FIRST : BW_FRAG_NONE;
	} else if (proto == ETH_P_IPV6 && (void *)(ip6 + 1) <= c->end &&
		   ip6->version == 6) {
		p->family = 6;
		__builtin_memcpy(p->saddr6, &ip6->saddr, 16);
		p->ttl = ip6->hop_limit;
	}
}

static __always_inline int parse_tcp(struct bw_cursor *c, struct bw_pkt *p)
{
	struct tcphdr *th = c->pos;
	__u32 hlen;

	if ((void *)(th + 1) > c->end || sizeof(*th) > c->l4_len)
		return -1;
	hlen = th->doff * 4;
	if (hlen < sizeof(*th) || hlen > c->l4_len || c->pos + hlen > c->end)
		return -1;
	p->sport = bpf_ntohs(th->source);
	p->dport = bpf_ntohs(th->dest);
	/* Byte 13 of the header: CWR ECE URG ACK PSH RST SYN FIN. */
	p->tcp_flags = ((__u8 *)th)[13];
	c->pos += hlen;
	return 0;
}

/*
 * A first fragment's UDP length is the whole datagram's, longer than the
 * fragment: only its lower bound is checked there. (Shorter than the
 * fragment is consistent too: the stack trims the reassembled datagram.)
 */
static __always_inline int parse_udp(struct bw_cursor *c, struct bw_pkt *p)
{
	struct udphdr *uh = c->pos;
	__u16 ulen;

	if ((void *)(uh + 1) > c->end || sizeof(*uh) > c->l4_len)
		return -1;
	ulen = bpf_ntohs(uh->len);
	if (ulen < sizeof(*uh) || (ulen > c->l4_len && p->frag != BW_FRAG_FIRST))
		return -1;
	p->sport = bpf_ntohs(uh->source);
	p->dport = bpf_ntohs(uh->dest);
	c->pos = uh + 1;
	return 0;
}

/* ICMP and ICMPv6 share the 4-byte type/code/checksum head plus 4 bytes.
 * The type goes in dport (BW_ICMP_TYPE_PORT | type) for rules by type. */
static __always_inline int parse_icmp(struct bw_cursor *c, struct bw_pkt *p)
{
	if (c->pos + 8 > c->end || c->l4_len < 8)
		return -1;
	p->dport = BW_ICMP_TYPE_PORT | *(__u8 *)c->pos;
	c->pos += 8;
	return 0;
}

#endif /* BW_PARSING_BPF_H */
