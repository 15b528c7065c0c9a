// See rule-key.h.
#include "rule-key.h"

#include <arpa/inet.h>

#include <cstring>

#include "breakwater.h"
#include "errors.h"

namespace bw {
namespace {

struct Protocol {
  const char *name;
  __u8 v4, v6;
};

const Protocol kProtocols[] = {
#define BW_RULE_PROTOCOL(name, v4, v6) {#name, v4, v6},
    BW_RULE_PROTOCOL_LIST(BW_RULE_PROTOCOL)
#undef BW_RULE_PROTOCOL
};

const Protocol *ByName(const std::string &name) {
  for (const Protocol &p : kProtocols)
    if (name == p.name) return &p;
  return nullptr;
}

const Protocol *ByNumber(int family, __u8 proto) {
  for (const Protocol &p : kProtocols)
    if ((family == 4 ? p.v4 : p.v6) == proto) return &p;
  return nullptr;
}

bool IsName(const Protocol *p, const char *name) { return p && !strcmp(p->name, name); }

int Class(__u8 proto, __u16 port) { return port ? BW_CLASS_PORT : proto ? BW_CLASS_PROTO : BW_CLASS_ANY; }

__u32 ClassBit(int family, __u32 len, __u8 proto, __u16 port) {
  return BW_CLASS_BIT(family == 6, len == (family == 4 ? 32u : 128u), Class(proto, port));
}

}  // namespace

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

RuleMatch ReadMatch(Napi::Env env, const Napi::Object &o, const char *op) {
  RuleMatch m = {};
  m.prefix = ReadPrefix(env, o, op);
  const Protocol *proto = nullptr;
  if (o.Has("protocol") && !o.Get("protocol").IsUndefined() && !o.Get("protocol").IsNull()) {
    proto = ByName(o.Get("protocol").ToString().Utf8Value());
    if (!proto) ThrowArg(env, op, "protocol must be tcp, udp or icmp");
    m.proto = m.prefix.family == 4 ? proto->v4 : proto->v6;
  }
  Napi::Value port = o.Get("port"), type = o.Get("icmpType");
  if (port.IsNumber() && port.ToNumber().Uint32Value() != 0) {
    __u32 v = port.ToNumber().Uint32Value();
    if (v > 65535) ThrowArg(env, op, "port must be from 1 to 65535");
    if (!IsName(proto, "tcp") && !IsName(proto, "udp")) ThrowArg(env, op, "a destination port needs protocol tcp or udp");
    m.port = v;
  }
  if (type.IsNumber()) {
    __u32 v = type.ToNumber().Uint32Value();
    if (v > 255) ThrowArg(env, op, "ICMP type must be from 0 to 255");
    if (!IsName(proto, "icmp") || m.port) ThrowArg(env, op, "an ICMP type needs protocol icmp and no port");
    m.port = BW_ICMP_TYPE_PORT | v;
  }
  m.cls = Class(m.proto, m.port);
  m.class_bit = ClassBit(m.prefix.family, m.prefix.len, m.proto, m.port);
  return m;
}

void DescribeMatch(Napi::Object &o, int family, __u32 prefix_len, __u8 proto, __u16 port) {
  Napi::Env env = o.Env();
  const Protocol *p = proto ? ByNumber(family, proto) : nullptr;
  o.Set("protocol", p ? Napi::Value(Napi::String::New(env, p->name)) : env.Null());
  bool by_type = IsName(p, "icmp") && (port & 0xff00) == BW_ICMP_TYPE_PORT;
  o.Set("port", by_type ? 0 : port);
  if (by_type) o.Set("icmpType", port & 0xff);
  o.Set("classBit", ClassBit(family, prefix_len, proto, port));
}

Napi::Array ProtocolNames(Napi::Env env) {
  Napi::Array out = Napi::Array::New(env);
  for (const Protocol &p : kProtocols) out.Set(out.Length(), p.name);
  return out;
}

std::string FormatAddress(int family, const __u8 *addr) {
  char buf[INET6_ADDRSTRLEN];
  return inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, sizeof buf);
}

}  // namespace bw
