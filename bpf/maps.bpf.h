/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Map definitions. Included only by breakwater.bpf.c. Every map is pinned by
 * the addon under /sys/fs/bpf/breakwater/<ifname>/<map name>, so the names
 * below are part of the on-disk layout.
 */
#ifndef BW_MAPS_BPF_H
#define BW_MAPS_BPF_H

/* Counters and histograms; written by every packet, read by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_stats);
} stats SEC(".maps");

/* HyperLogLog registers of source addresses, one set per epoch parity. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct bw_hll);
} hll SEC(".maps");

/* Run-time settings; written by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_config);
} config SEC(".maps");

/* Drop and log-only rules, hosts and prefixes; written by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BW_MAX_RULES);
	__type(key, struct bw_rule_key4);
	__type(value, struct bw_rule);
} rules_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BW_MAX_RULES);
	__type(key, struct bw_rule_key6);
	__type(value, struct bw_rule);
} rules_v6 SEC(".maps");

/* The prefix lengths in use (breakwater.h); written by the addon with every
 * rule it adds or removes. IPv6 lengths shorter than a /32: */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_prefix_lens);
} prefix_lens SEC(".maps");

/* Every IPv4 length, per /16 block (a /8 in each of its 256 blocks): */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BW_BLOCKS4);
	__type(key, __u32);
	__type(value, struct bw_block4);
} blocks_v4 SEC(".maps");

/* IPv6 lengths /32-/127, per /32 block that holds one: */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BW_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct bw_block6);
} blocks_v6 SEC(".maps");

/* Hits per rule slot; slots are handed out by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BW_MAX_RULES);
	__type(key, __u32);
	__type(value, struct bw_rule_stats);
} rule_stats SEC(".maps");

/* Prefixes that no rule may drop; written by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BW_MAX_ALLOW);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bw_allow_key4);
	__type(value, __u32);
} allow_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BW_MAX_ALLOW);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bw_allow_key6);
	__type(value, __u32);
} allow_v6 SEC(".maps");

/* Sampled top sources and ports, windowed by epoch. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BW_MAX_SRC_TALKERS);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct bw_addr);
	__type(value, struct bw_talker);
} src_talkers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BW_MAX_PORT_TALKERS);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct bw_port_key);
	__type(value, struct bw_talker);
} port_talkers SEC(".maps");

/* Sampled packet heads for user space (PCAP capture). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BW_RINGBUF_BYTES);
} samples SEC(".maps");

#endif /* BW_MAPS_BPF_H */
