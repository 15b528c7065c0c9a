// Drop/log rules and the allowlist: putRule(), deleteRule(), listRules(),
// putAllow(), deleteAllow(), listAllow(). Rules arrive in the contract's shape
// (rule-key.h encodes them); addresses as Buffers of 4 or 16 bytes, already
// validated and masked in TypeScript, checked again here.
#include <time.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "breakwater.h"
#include "errors.h"
#include "maps.h"
#include "program.h"
#include "rule-key.h"

namespace bw {
namespace {

__u64 ClockNs(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

// Wall-clock milliseconds <-> CLOCK_MONOTONIC nanoseconds (what the kernel checks).
__u64 WallMsToMono(double ms) {
  double delta_ns = (ms - ClockNs(CLOCK_REALTIME) / 1e6) * 1e6;
  double mono = ClockNs(CLOCK_MONOTONIC) + delta_ns;
  return mono < 1 ? 1 : static_cast<__u64>(mono);
}

double MonoToWallMs(__u64 mono_ns) {
  return ClockNs(CLOCK_REALTIME) / 1e6 + (static_cast<double>(mono_ns) - ClockNs(CLOCK_MONOTONIC)) / 1e6;
}

// A rule key: prefix length, protocol, port and the masked address (the
// address arrives masked: ReadPrefix refuses host bits past the length).
template <class Key>
Key RuleKey(const RuleMatch &m) {
  Key k = {};
  k.prefixlen = m.prefix.len;
  k.proto = m.proto;
  k.port[0] = m.port >> 8;
  k.port[1] = m.port & 0xff;
  memcpy(&k.addr, m.prefix.addr, sizeof k.addr);
  return k;
}

// Listed in address order, then length, protocol and port (a hash has none).
template <class Key>
bool KeyBefore(const Key &a, const Key &b) {
  if (int c = memcmp(&a.addr, &b.addr, sizeof a.addr)) return c < 0;
  if (a.prefixlen != b.prefixlen) return a.prefixlen < b.prefixlen;
  if (a.proto != b.proto) return a.proto < b.proto;
  return memcmp(a.port, b.port, 2) < 0;
}

template <class Key>
void ListFamily(Napi::Env env, int fd, int stats_fd, int family, Napi::Array &out) {
  std::vector<Key> keys;
  Key key, next;
  Key *prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    keys.push_back(next);
    key = next;
    prev = &key;
  }
  std::sort(keys.begin(), keys.end(), KeyBefore<Key>);
  std::vector<bw_rule_stats> hits;
  __u64 mono_now = ClockNs(CLOCK_MONOTONIC);
  for (const Key &k : keys) {
    bw_rule rule;
    if (bpf_map_lookup_elem(fd, &k, &rule)) continue;  // deleted meanwhile
    __u64 packets = 0, bytes = 0;
    if (ReadPerCpu(stats_fd, rule.slot, hits) == 0)
      for (const bw_rule_stats &h : hits) packets += h.packets, bytes += h.bytes;
    Napi::Object o = Napi::Object::New(env);
    o.Set("family", family);
    o.Set("address", FormatAddress(family, reinterpret_cast<const __u8 *>(&k.addr)));
    o.Set("prefixLen", k.prefixlen);
    DescribeMatch(o, family, k.prefixlen, k.proto, (k.port[0] << 8) | k.port[1]);
    o.Set("mode", rule.mode == BW_MODE_LOG ? "log" : "drop");
    o.Set("expiresAt", rule.expires_ns ? MonoToWallMs(rule.expires_ns) : 0);
    o.Set("expired", rule.expires_ns != 0 && mono_now >= rule.expires_ns);
    o.Set("slot", rule.slot);
    o.Set("packets", static_cast<double>(packets));
    o.Set("bytes", static_cast<double>(bytes));
    out.Set(out.Length(), o);
  }
}

// Where a prefix rule is listed in the kernel's index of lengths in use
// (bpf/breakwater.h). IPv4: in every /16 block it covers, from its first
// (array indices: the first 16 bits); rules of one class and length that
// share a first block cover the same blocks, and no other rule of that class
// and length covers any of them, so each block's bit has one owner. IPv6:
// for the whole family when shorter than a /32, else in its /32 (the hash
// key, the first 32 bits as they are in the address).
struct IndexSlot {
  bool v6, global;
  int cls;
  __u32 len, block, blocks;
  __u64 Packed() const {
    return (__u64)v6 << 48 | (__u64)cls << 40 | (__u64)len << 32 | (global ? 0 : block);
  }
};

IndexSlot SlotOf(int family, int cls, __u32 len, const __u8 *addr) {
  IndexSlot s = {family == 6, family == 6 && len < BW_BLOCK_LEN6, cls, len, 0, 1};
  if (s.global) return s;
  if (s.v6) {
    memcpy(&s.block, addr, 4);
  } else {
    s.block = addr[0] << 8 | addr[1];
    if (len < BW_BLOCK_LEN4) s.blocks = 1u << (BW_BLOCK_LEN4 - len);
  }
  return s;
}

bool IsHost(int family, __u32 len) { return len == (family == 6 ? 128u : 32u); }

void Flip(__u32 &word, __u32 len, bool on) {
  word = on ? word | BW_LEN_BIT(len) : word & ~BW_LEN_BIT(len);
}

// Reads blocks_v4[first, first + n) into out with batched lookups (the
// batch starts past the key it is given); returns 0 or errno.
int ReadBlocks4(int fd, __u32 first, __u32 n, std::vector<bw_block4> &out) {
  std::vector<__u32> keys(n);
  out.resize(n);
  __u32 done = 0, in = first - 1, next = 0;
  while (done < n) {
    __u32 count = n - done;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int err = bpf_map_lookup_batch(fd, first + done == 0 ? nullptr : &in, &next, &keys[done], &out[done],
                                   &count, &opts) ? errno : 0;
    done += count;
    if (err && !(err == ENOENT && done == n)) return err;
    if (!err && count == 0) return EIO;
    in = next;
  }
  return 0;
}

// Writes blocks_v4[first, first + n) from values; returns 0 or errno, the
// blocks written before a failure put back as they were in old.
int WriteBlocks4(int fd, __u32 first, const std::vector<bw_block4> &values, const std::vector<bw_block4> &old) {
  __u32 n = values.size();
  std::vector<__u32> keys(n);
  for (__u32 i = 0; i < n; i++) keys[i] = first + i;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);  // elem_flags 0: BPF_ANY
  __u32 count = n;
  if (!bpf_map_update_batch(fd, keys.data(), values.data(), &count, &opts)) return 0;
  int err = errno;
  if (count > n) count = 0;  // not reported
  if (count) bpf_map_update_batch(fd, keys.data(), old.data(), &count, &opts);
  return err;
}

// Sets or clears s's bit in the kernel's index; returns 0 or errno.
int SetIndexBit(const int *fds, const IndexSlot &s, bool on) {
  if (s.global) {
    __u32 zero = 0;
    bw_prefix_lens pl = {};
    if (bpf_map_lookup_elem(fds[kPrefixLens], &zero, &pl)) return errno;
    Flip(pl.v6[s.cls], s.len, on);
    return bpf_map_update_elem(fds[kPrefixLens], &zero, &pl, BPF_ANY) ? errno : 0;
  }
  if (!s.v6) {  // each block it covers (a /8: 256), in one batch
    std::vector<bw_block4> old, now;
    if (int err = ReadBlocks4(fds[kBlocksV4], s.block, s.blocks, old)) return err;
    now = old;
    for (bw_block4 &b : now) Flip(b.lens[s.cls], s.len, on);
    return WriteBlocks4(fds[kBlocksV4], s.block, now, old);
  }
  bw_block6 b = {};
  if (bpf_map_lookup_elem(fds[kBlocksV6], &s.block, &b) && errno != ENOENT) return errno;
  __u32 at = s.len - BW_BLOCK_LEN6;
  Flip(b.lens[s.cls][at / 32], s.len, on);
  static const bw_block6 empty = {};
  if (!memcmp(&b, &empty, sizeof b))
    return bpf_map_delete_elem(fds[kBlocksV6], &s.block) && errno != ENOENT ? errno : 0;
  return bpf_map_update_elem(fds[kBlocksV6], &s.block, &b, BPF_ANY) ? errno : 0;
}

// Counts the prefix rules of one family's rule map into counts.
template <class Key>
int CountPrefixes(int fd, int family, std::unordered_map<__u64, __u32> &counts) {
  Key key, next;
  Key *prev = nullptr;
  int err;
  while ((err = bpf_map_get_next_key(fd, prev, &next)) == 0) {
    key = next;
    prev = &key;
    if (IsHost(family, key.prefixlen)) continue;
    int cls = key.port[0] | key.port[1] ? BW_CLASS_PORT : key.proto ? BW_CLASS_PROTO : BW_CLASS_ANY;
    counts[SlotOf(family, cls, key.prefixlen, reinterpret_cast<const __u8 *>(&key.addr)).Packed()]++;
  }
  return errno == ENOENT ? 0 : errno;
}

template <class Key>
Key AllowKey(const Prefix &p) {
  Key k = {};
  k.prefixlen = p.len;
  memcpy(k.addr, p.addr, sizeof k.addr);
  return k;
}

template <class Key>
void ListAllowFamily(Napi::Env env, int fd, int family, Napi::Array &out) {
  Key key, next;
  Key *prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    key = next;
    prev = &key;
    Napi::Object o = Napi::Object::New(env);
    o.Set("family", family);
    o.Set("address", FormatAddress(family, key.addr));
    o.Set("prefixLen", key.prefixlen);
    out.Set(out.Length(), o);
  }
}

}  // namespace

// putRule({ family, address, prefixLen, protocol?, port?, icmpType?, mode, expiresAt?, slot, resetStats? })
// -> the rule's class bit
Napi::Value Program::PutRule(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "putRule");
  if (info.Length() < 1 || !info[0].IsObject()) ThrowArg(env, "putRule", "expected a rule object");
  Napi::Object o = info[0].As<Napi::Object>();
  RuleMatch m = ReadMatch(env, o, "putRule");
  const Prefix &p = m.prefix;
  bw_rule rule = {};
  std::string mode = o.Get("mode").ToString();
  if (mode != "drop" && mode != "log") ThrowArg(env, "putRule", "mode must be 'drop' or 'log'");
  rule.mode = mode == "log" ? BW_MODE_LOG : BW_MODE_DROP;
  double expires = o.Get("expiresAt").IsNumber() ? o.Get("expiresAt").ToNumber().DoubleValue() : 0;
  rule.expires_ns = expires > 0 ? WallMsToMono(expires) : 0;
  rule.slot = o.Get("slot").ToNumber().Uint32Value();
  if (rule.slot >= BW_MAX_RULES) ThrowArg(env, "putRule", "slot out of range");

  if (o.Get("resetStats").ToBoolean()) {
    std::vector<bw_rule_stats> zero(PossibleCpus());
    memset(zero.data(), 0, zero.size() * sizeof(bw_rule_stats));
    if (bpf_map_update_elem(map_fd_[kRuleStats], &rule.slot, zero.data(), BPF_ANY))
      ThrowSys(env, "putRule", errno);
  }
  // A new prefix rule's length is listed before the rule is written (and
  // unlisted if the write fails), so no rule is ever in the map unprobed.
  auto k4 = RuleKey<bw_rule_key4>(m);
  auto k6 = RuleKey<bw_rule_key6>(m);
  int fd = map_fd_[p.family == 4 ? kRulesV4 : kRulesV6];
  void *k = p.family == 4 ? static_cast<void *>(&k4) : static_cast<void *>(&k6);
  if (!IsHost(p.family, p.len)) ReadPrefixIndex(env, "putRule");
  bw_rule old;
  bool fresh = !IsHost(p.family, p.len) && bpf_map_lookup_elem(fd, k, &old) != 0;
  if (fresh) IndexPrefix(env, m, +1, "putRule");
  if (bpf_map_update_elem(fd, k, &rule, BPF_ANY)) {
    int e = errno;
    if (fresh) IndexPrefix(env, m, -1, "putRule");
    ThrowSys(env, "putRule", e, e == ENOSPC || e == E2BIG
        ? "drop-rule map is full (" + std::to_string(BW_MAX_RULES) + " rules); existing rules are unchanged"
        : "could not write the rule");
  }
  return Napi::Number::New(env, m.class_bit);
}

// deleteRule({ family, address, prefixLen, protocol?, port?, icmpType? }) -> existed
Napi::Value Program::DeleteRule(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "deleteRule");
  if (info.Length() < 1 || !info[0].IsObject()) ThrowArg(env, "deleteRule", "expected a rule object");
  RuleMatch m = ReadMatch(env, info[0].As<Napi::Object>(), "deleteRule");
  const Prefix &p = m.prefix;
  auto k4 = RuleKey<bw_rule_key4>(m);
  auto k6 = RuleKey<bw_rule_key6>(m);
  if (!IsHost(p.family, p.len)) ReadPrefixIndex(env, "deleteRule");
  int err = p.family == 4 ? bpf_map_delete_elem(map_fd_[kRulesV4], &k4)
                          : bpf_map_delete_elem(map_fd_[kRulesV6], &k6);
  if (err && errno != ENOENT) ThrowSys(env, "deleteRule", errno);
  // The rule is gone first: its length is unlisted once it was the last.
  if (!err && !IsHost(p.family, p.len)) IndexPrefix(env, m, -1, "deleteRule");
  return Napi::Boolean::New(env, err == 0);
}

Napi::Value Program::ListRules(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "listRules");
  Napi::Array out = Napi::Array::New(env);
  ListFamily<bw_rule_key4>(env, map_fd_[kRulesV4], map_fd_[kRuleStats], 4, out);
  ListFamily<bw_rule_key6>(env, map_fd_[kRulesV6], map_fd_[kRuleStats], 6, out);
  return out;
}

// prefixLengths({ family, address, prefixLen }) -> { any, protocol, port }: the
// prefix lengths the kernel probes for a packet from that source, per rule
// shape, longest first (its index as it is: IPv4 its block's; IPv6 the
// family's short lengths and its block's).
Napi::Value Program::PrefixLengths(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "prefixLengths");
  if (info.Length() < 1 || !info[0].IsObject()) ThrowArg(env, "prefixLengths", "expected a prefix object");
  Prefix p = ReadPrefix(env, info[0].As<Napi::Object>(), "prefixLengths");
  __u32 zero = 0;
  bw_prefix_lens pl = {};
  if (p.family == 6 && bpf_map_lookup_elem(map_fd_[kPrefixLens], &zero, &pl))
    ThrowSys(env, "prefixLengths", errno);
  bw_block4 b4 = {};
  bw_block6 b6 = {};
  IndexSlot s = SlotOf(p.family, 0, p.family == 6 ? 128 : 32, p.addr);
  int fd = map_fd_[p.family == 6 ? kBlocksV6 : kBlocksV4];
  if (bpf_map_lookup_elem(fd, &s.block, p.family == 6 ? static_cast<void *>(&b6) : static_cast<void *>(&b4)) &&
      errno != ENOENT)
    ThrowSys(env, "prefixLengths", errno);
  Napi::Object out = Napi::Object::New(env);
  static const char *const kNames[BW_CLASS_MAX] = {"any", "protocol", "port"};
  for (int c = 0; c < BW_CLASS_MAX; c++) {
    Napi::Array lens = Napi::Array::New(env);
    for (int len = (p.family == 6 ? 128 : 32) - 1; len >= 0; len--) {
      __u32 word = p.family == 4 ? b4.lens[c]
                   : len < BW_BLOCK_LEN6 ? pl.v6[c]
                                         : b6.lens[c][(len - BW_BLOCK_LEN6) / 32];
      if (word & BW_LEN_BIT(len)) lens.Set(lens.Length(), len);
    }
    out.Set(kNames[c], lens);
  }
  return out;
}

void Program::ReadPrefixIndex(Napi::Env env, const char *operation) {
  if (prefix_counts_read_) return;
  prefix_counts_.clear();
  int err = CountPrefixes<bw_rule_key4>(map_fd_[kRulesV4], 4, prefix_counts_);
  if (!err) err = CountPrefixes<bw_rule_key6>(map_fd_[kRulesV6], 6, prefix_counts_);
  if (err) ThrowSys(env, operation, err, "could not read the rules");
  prefix_counts_read_ = true;
}

void Program::IndexPrefix(Napi::Env env, const RuleMatch &m, int delta, const char *operation) {
  IndexSlot s = SlotOf(m.prefix.family, m.cls, m.prefix.len, m.prefix.addr);
  __u32 &n = prefix_counts_[s.Packed()];
  if (delta < 0 && n == 0) return;  // not counted (ReadPrefixIndex ran before the change)
  n += delta;
  if (n == (delta > 0 ? 1u : 0u)) {
    if (int err = SetIndexBit(map_fd_, s, delta > 0)) {
      n -= delta;
      ThrowSys(env, operation, err, "could not update the prefix lengths in use");
    }
  }
  if (n == 0) prefix_counts_.erase(s.Packed());
}

// putAllow({ family, address, prefixLen })
Napi::Value Program::PutAllow(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "putAllow");
  if (info.Length() < 1 || !info[0].IsObject()) ThrowArg(env, "putAllow", "expected a prefix object");
  Prefix p = ReadPrefix(env, info[0].As<Napi::Object>(), "putAllow");
  __u32 one = 1;
  int err;
  if (p.family == 4) {
    auto k = AllowKey<bw_allow_key4>(p);
    err = bpf_map_update_elem(map_fd_[kAllowV4], &k, &one, BPF_ANY);
  } else {
    auto k = AllowKey<bw_allow_key6>(p);
    err = bpf_map_update_elem(map_fd_[kAllowV6], &k, &one, BPF_ANY);
  }
  if (err) {
    int e = errno;
    ThrowSys(env, "putAllow", e, e == ENOSPC
        ? "allowlist map is full (" + std::to_string(BW_MAX_ALLOW) + " prefixes per family)"
        : "could not write the allowlist entry");
  }
  return env.Undefined();
}

Napi::Value Program::DeleteAllow(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "deleteAllow");
  if (info.Length() < 1 || !info[0].IsObject()) ThrowArg(env, "deleteAllow", "expected a prefix object");
  Prefix p = ReadPrefix(env, info[0].As<Napi::Object>(), "deleteAllow");
  int err;
  if (p.family == 4) {
    auto k = AllowKey<bw_allow_key4>(p);
    err = bpf_map_delete_elem(map_fd_[kAllowV4], &k);
  } else {
    auto k = AllowKey<bw_allow_key6>(p);
    err = bpf_map_delete_elem(map_fd_[kAllowV6], &k);
  }
  if (err && errno != ENOENT) ThrowSys(env, "deleteAllow", errno);
  return Napi::Boolean::New(env, err == 0);
}

Napi::Value Program::ListAllow(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "listAllow");
  Napi::Array out = Napi::Array::New(env);
  ListAllowFamily<bw_allow_key4>(env, map_fd_[kAllowV4], 4, out);
  ListAllowFamily<bw_allow_key6>(env, map_fd_[kAllowV6], 6, out);
  return out;
}

}  // namespace bw
