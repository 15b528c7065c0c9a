// Drop/log rules and the allowlist: putRule(), deleteRule(), listRules(),
// putAllow(), deleteAllow(), listAllow(). Rules arrive in the contract's shape
// (rule-key.h encodes them); addresses as Buffers of 4 or 16 bytes, already
// validated and masked in TypeScript, checked again here.
#include <time.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "breakwater.h"
#include "errors.h"
#include "maps.h"
#include "program.h"
#include "prefix-index.h"
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
