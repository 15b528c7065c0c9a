// Drop/log rules and the allowlist: putRule(), deleteRule(), listRules(),
// putAllow(), deleteAllow(), listAllow(). Addresses arrive as Buffers of 4 or
// 16 bytes, already validated and masked in TypeScript; checked again here.
#include <arpa/inet.h>
#include <time.h>

#include <cstring>

#include "breakwater.h"
#include "errors.h"
#include "maps.h"
#include "program.h"

namespace bw {
namespace {

struct Prefix {
  int family;  // 4 or 6
  __u8 addr[16];
  __u32 len;
};

Prefix ReadPrefix(Napi::Env env, const Napi::Object &o, const char *op) {
  Prefix p = {};
  p.family = o.Get("family").ToNumber().Int32Value();
  Napi::Value a = o.Get("address");
  size_t size = p.family == 4 ? 4 : 16;
  if ((p.family != 4 && p.family != 6) || !a.IsBuffer() || a.As<Napi::Buffer<__u8>>().Length() != size)
    ThrowArg(env, op, "expected family 4 or 6 and an address Buffer of 4 or 16 bytes");
  memcpy(p.addr, a.As<Napi::Buffer<__u8>>().Data(), size);
  p.len = o.Get("prefixLen").ToNumber().Uint32Value();
  if (p.len > size * 8) ThrowArg(env, op, "prefixLen is longer than the address");
  for (size_t bit = p.len; bit < size * 8; bit++)
    if (p.addr[bit / 8] & (0x80 >> (bit % 8))) ThrowArg(env, op, "address has host bits set past the prefix");
  return p;
}

std::string Format(int family, const __u8 *addr) {
  char buf[INET6_ADDRSTRLEN];
  return inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, sizeof buf);
}

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
Key RuleKey(const Prefix &p, __u8 proto, __u16 port) {
  Key k = {};
  k.prefixlen = BW_RULE_KEY_FIXED_BITS + p.len;
  k.proto = proto;
  k.port[0] = port >> 8;
  k.port[1] = port & 0xff;
  memcpy(k.addr, p.addr, sizeof k.addr);
  return k;
}

void ReadMatch(Napi::Env env, const Napi::Object &o, const char *op, __u8 &proto, __u16 &port) {
  __u32 pr = o.Get("protocol").IsNumber() ? o.Get("protocol").ToNumber().Uint32Value() : 0;
  __u32 po = o.Get("port").IsNumber() ? o.Get("port").ToNumber().Uint32Value() : 0;
  if (pr > 255 || po > 65535) ThrowArg(env, op, "protocol or port out of range");
  bool icmp = (pr == 1 || pr == 58) && (po & 0xff00) == BW_ICMP_TYPE_PORT;
  if (po && pr != 6 && pr != 17 && !icmp)
    ThrowArg(env, op, "a port needs protocol tcp (6) or udp (17), or icmp with a type");
  proto = pr;
  port = po;
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
    o.Set("address", Format(family, key.addr));
    o.Set("prefixLen", key.prefixlen - BW_RULE_KEY_FIXED_BITS);
    o.Set("protocol", key.proto);
    o.Set("port", (key.port[0] << 8) | key.port[1]);
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
    o.Set("address", Format(family, key.addr));
    o.Set("prefixLen", key.prefixlen);
    out.Set(out.Length(), o);
  }
}

}  // namespace

// putRule({ family, address, prefixLen, protocol?, port?, mode, expiresAt?, slot, resetStats? })
Napi::Value Program::PutRule(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "putRule");
  if (info.Length() < 1 || !info[0].IsObject()) ThrowArg(env, "putRule", "expected a rule object");
  Napi::Object o = info[0].As<Napi::Object>();
  Prefix p = ReadPrefix(env, o, "putRule");
  __u8 proto;
  __u16 port;
  ReadMatch(env, o, "putRule", proto, port);
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
    auto k = RuleKey<bw_rule_key4>(p, proto, port);
    err = bpf_map_update_elem(map_fd_[p.len == 32 ? kHostsV4 : kRulesV4], &k, &rule, BPF_ANY);
  } else {
    auto k = RuleKey<bw_rule_key6>(p, proto, port);
    err = bpf_map_update_elem(map_fd_[p.len == 128 ? kHostsV6 : kRulesV6], &k, &rule, BPF_ANY);
  }
  if (err) {
    int e = errno;
    ThrowSys(env, "putRule", e, e == ENOSPC || e == E2BIG
        ? "drop-rule map is full (" + std::to_string(BW_MAX_RULES) + " rules); existing rules are unchanged"
        : "could not write the rule");
  }
  return env.Undefined();
}

// deleteRule({ family, address, prefixLen, protocol?, port? }) -> existed
Napi::Value Program::DeleteRule(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "deleteRule");
  if (info.Length() < 1 || !info[0].IsObject()) ThrowArg(env, "deleteRule", "expected a rule object");
  Napi::Object o = info[0].As<Napi::Object>();
  Prefix p = ReadPrefix(env, o, "deleteRule");
  __u8 proto;
  __u16 port;
  ReadMatch(env, o, "deleteRule", proto, port);
  int err;
  if (p.family == 4) {
    auto k = RuleKey<bw_rule_key4>(p, proto, port);
    err = bpf_map_delete_elem(map_fd_[p.len == 32 ? kHostsV4 : kRulesV4], &k);
  } else {
    auto k = RuleKey<bw_rule_key6>(p, proto, port);
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
