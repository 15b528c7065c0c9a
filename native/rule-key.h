// The encoding of a rule for the kernel, in one place: a rule match as
// JavaScript gives it (contract/rule.ts: a prefix as family, address bytes and
// length; a protocol by name; a destination port or an ICMP type) to the key
// of bpf/breakwater.h (protocol numbers from BW_RULE_PROTOCOL_LIST, an ICMP
// type as BW_ICMP_TYPE_PORT | type) and its rule class bit, and back.
#pragma once
#include <linux/types.h>
#include <napi.h>

#include <string>

namespace bw {

struct Prefix {
  int family;  // 4 or 6
  __u8 addr[16];
  __u32 len;
};

struct RuleMatch {
  Prefix prefix;
  __u8 proto;       // 0: any
  __u16 port;       // 0: any; BW_ICMP_TYPE_PORT | type for ICMP by type
  int cls;          // enum bw_rule_class of the rule's shape
  __u32 class_bit;  // BW_CLASS_BIT() of the rule's shape
};

// { family, address: Buffer, prefixLen }, checked (no host bits past the length).
Prefix ReadPrefix(Napi::Env env, const Napi::Object &o, const char *op);

// { family, address, prefixLen, protocol?: 'tcp' | 'udp' | 'icmp', port?, icmpType? }
RuleMatch ReadMatch(Napi::Env env, const Napi::Object &o, const char *op);

// Sets protocol (a name, or null), port, icmpType (when it has one) and classBit on o.
void DescribeMatch(Napi::Object &o, int family, __u32 prefix_len, __u8 proto, __u16 port);

// The protocol names of BW_RULE_PROTOCOL_LIST, in order.
Napi::Array ProtocolNames(Napi::Env env);

std::string FormatAddress(int family, const __u8 *addr);

}  // namespace bw
