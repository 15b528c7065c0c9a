// Drop/log rules and the allowlist: putRule(), deleteRule(), listRules(),
// putAllow(), deleteAllow(), listAllow(). Rules arrive in the contract's shape
// (rule-key.h encodes them); addresses as Buffers of 4 or 16 bytes, already
// validated and masked in TypeScript, checked again here.
#include <time.h>

#include <cstring>

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

// A rule key is protocol, port and address, with the prefix counted after the
// fixed 24 bits. Both key structs share that layout up to the address size.
template <class Key>
Key RuleKey(const RuleMatch &m) {
  Key k = {};
  k.prefixlen = BW_RULE_KEY_FIXED_BITS + m.prefix.len;
  k.proto = m.proto;
  k.port[0] = m.port >> 8;
  k.port[1] = m.port & 0xff;
  memcpy(k.addr, m.prefix.addr, sizeof k.addr);
  return k;
}

template <class Key>
void ListFamily(Napi::Env env, int fd, int stats_fd, int family, Napi::Array &out) {
  Key key, next;
  Key *prev = nullptr;
  std::vector<bw_rule_stats> hits;
  __u64 mono_now = ClockNs(CLOCK_MONOTONIC);
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    key = next;
    prev = &key;
    bw_rule rule;
    if (bpf_map_lookup_elem(fd, &key, &rule)) continue;  // deleted meanwhile
    __u64 packets = 0, bytes = 0;
    if (ReadPerCpu(stats_fd, rule.slot, hits) == 0)
      for (const bw_rule_stats &h : hits) packets += h.packets, bytes += h.bytes;
    Napi::Object o = Napi::Object::New(env);
    o.Set("family", family);
    o.Set("address", FormatAddress(family, key.addr));
    o.Set("prefixLen", key.prefixlen - BW_RULE_KEY_FIXED_BITS);
    DescribeMatch(o, family, key.prefixlen - BW_RULE_KEY_FIXED_BITS, key.proto, (key.port[0] << 8) | key.port[1]);
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
  int err;
  if (p.family == 4) {
    auto k = RuleKey<bw_rule_key4>(m);
    err = bpf_map_update_elem(map_fd_[p.len == 32 ? kHostsV4 : kRulesV4], &k, &rule, BPF_ANY);
  } else {
    auto k = RuleKey<bw_rule_key6>(m);
    err = bpf_map_update_elem(map_fd_[p.len == 128 ? kHostsV6 : kRulesV6], &k, &rule, BPF_ANY);
  }
  if (err) {
    int e = errno;
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
  int err;
  if (p.family == 4) {
    auto k = RuleKey<bw_rule_key4>(m);
    err = bpf_map_delete_elem(map_fd_[p.len == 32 ? kHostsV4 : kRulesV4], &k);
  } else {
    auto k = RuleKey<bw_rule_key6>(m);
    err = bpf_map_delete_elem(map_fd_[p.len == 128 ? kHostsV6 : kRulesV6], &k);
  }
  if (err && errno != ENOENT) ThrowSys(env, "deleteRule", errno);
  return Napi::Boolean::New(env, err == 0);
}

Napi::Value Program::ListRules(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "listRules");
  Napi::Array out = Napi::Array::New(env);
  ListFamily<bw_rule_key4>(env, map_fd_[kHostsV4], map_fd_[kRuleStats], 4, out);
  ListFamily<bw_rule_key4>(env, map_fd_[kRulesV4], map_fd_[kRuleStats], 4, out);
  ListFamily<bw_rule_key6>(env, map_fd_[kHostsV6], map_fd_[kRuleStats], 6, out);
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
