// Counters, distributions and run-time settings: snapshot(), getConfig(),
// setConfig(), clearHll().
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "breakwater.h"
#include "errors.h"
#include "maps.h"
#include "program.h"

namespace bw {
namespace {

const char *const kCounterNames[BW_C_MAX] = {
#define BW_COUNTER_NAME(e, name) #name,
    BW_COUNTER_LIST(BW_COUNTER_NAME)
#undef BW_COUNTER_NAME
};

double D(__u64 v) { return static_cast<double>(v); }

Napi::Array Numbers(Napi::Env env, const __u64 *v, size_t n) {
  Napi::Array out = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) out.Set(i, D(v[i]));
  return out;
}

// Packets of a talker in the current and the previous window, given epoch.
struct Windowed {
  __u64 cur_packets, cur_bytes, prev_packets, prev_bytes;
  bool live;
};

Windowed Window(const bw_talker &t, __u32 epoch) {
  if (t.epoch == epoch)
    return {t.cur_packets, t.cur_bytes, t.prev_packets, t.prev_bytes, true};
  if (t.epoch + 1 == epoch) return {0, 0, t.cur_packets, t.cur_bytes, true};
  return {0, 0, 0, 0, false};
}

std::string FormatAddr(const __u8 *a) {
  char buf[INET6_ADDRSTRLEN];
  static const __u8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!memcmp(a, mapped, 12)) return inet_ntop(AF_INET, a + 12, buf, sizeof buf);
  return inet_ntop(AF_INET6, a, buf, sizeof buf);
}

// The table's size as the kernel made it (a per-CPU LRU rounds it to the CPUs).
__u32 MaxEntries(int fd, __u32 fallback) {
  struct bpf_map_info info = {};
  __u32 len = sizeof info;
  return bpf_obj_get_info_by_fd(fd, &info, &len) ? fallback : info.max_entries;
}

// The top n entries of a talker map by packets over both windows; *cut
// counts entries that could not be read (see ReadAll).
template <class K, class Fill>
Napi::Array TopTalkers(Napi::Env env, int fd, __u32 max, __u32 epoch, size_t n,
                       const char *operation, __u32 *cut, Fill fill) {
  std::vector<K> keys;
  std::vector<bw_talker> vals;
  *cut = 0;
  if (n == 0) return Napi::Array::New(env, 0);  // counters only: skip the tables
  if (int err = ReadAll(fd, MaxEntries(fd, max), keys, vals, cut)) ThrowSys(env, operation, err);
  std::vector<std::pair<__u64, size_t>> order;
  for (size_t i = 0; i < keys.size(); i++) {
    Windowed w = Window(vals[i], epoch);
    if (w.live && w.cur_packets + w.prev_packets)
      order.emplace_back(w.cur_packets + w.prev_packets, i);
  }
  n = std::min(n, order.size());
  std::partial_sort(order.begin(), order.begin() + n, order.end(),
                    [](auto &a, auto &b) { return a.first > b.first; });
  Napi::Array out = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    size_t at = order[i].second;
    Windowed w = Window(vals[at], epoch);
    Napi::Object o = Napi::Object::New(env);
    fill(o, keys[at]);
    o.Set("packets", D(w.cur_packets));
    o.Set("bytes", D(w.cur_bytes));
    o.Set("prevPackets", D(w.prev_packets));
    o.Set("prevBytes", D(w.prev_bytes));
    out.Set(i, o);
  }
  return out;
}

bw_config ReadConfig(Napi::Env env, int fd, const char *operation) {
  bw_config cfg = {};
  __u32 key = 0;
  if (bpf_map_lookup_elem(fd, &key, &cfg)) ThrowSys(env, operation, errno);
  return cfg;
}

// Registers of one HLL window as ranks: the CPUs' rank bits ORed (their
// union), each register's rank its highest bit (see bpf/breakwater.h).
Napi::Buffer<uint8_t> HllRegisters(Napi::Env env, int fd, __u32 parity) {
  std::vector<bw_hll> per_cpu;
  if (int err = ReadPerCpu(fd, parity, per_cpu)) ThrowSys(env, "snapshot", err);
  bw_hll seen = {};
  for (const bw_hll &h : per_cpu)
    for (size_t r = 0; r < BW_HLL_REGS; r++) seen.reg[r] |= h.reg[r];
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, BW_HLL_REGS);
  for (size_t r = 0; r < BW_HLL_REGS; r++) out.Data()[r] = seen.reg[r] ? 32 - __builtin_clz(seen.reg[r]) : 0;
  return out;
}

}  // namespace

// snapshot(topN = 32): every counter and distribution, summed over CPUs.
// topN = 0 leaves the talker tables unread (the cheap read for every tick).
Napi::Value Program::Snapshot(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "snapshot");
  size_t top = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 32;

  std::vector<bw_stats> per_cpu;
  if (int err = ReadPerCpu(map_fd_[kStats], 0, per_cpu)) ThrowSys(env, "snapshot", err);
  bw_stats sum = {};
  for (const bw_stats &s : per_cpu) {
    for (int i = 0; i < BW_C_MAX; i++) sum.counters[i] += s.counters[i];
    for (int i = 0; i < BW_LEN_BUCKETS; i++) sum.len_hist[i] += s.len_hist[i];
    for (int i = 0; i < BW_TTL_BUCKETS; i++) sum.ttl_hist[i] += s.ttl_hist[i];
  }
  bw_config cfg = ReadConfig(env, map_fd_[kConfig], "snapshot");

  Napi::Object out = Napi::Object::New(env);
  Napi::Object counters = Napi::Object::New(env);
  for (int i = 0; i < BW_C_MAX; i++) counters.Set(kCounterNames[i], D(sum.counters[i]));
  out.Set("counters", counters);
  out.Set("lengthHistogram", Numbers(env, sum.len_hist, BW_LEN_BUCKETS));
  out.Set("ttlHistogram", Numbers(env, sum.ttl_hist, BW_TTL_BUCKETS));
  out.Set("epoch", cfg.epoch);
  out.Set("hllCurrent", HllRegisters(env, map_fd_[kHll], cfg.epoch & 1));
  out.Set("hllPrevious", HllRegisters(env, map_fd_[kHll], (cfg.epoch + 1) & 1));
  __u32 cut_sources = 0, cut_ports = 0;
  out.Set("topSources", TopTalkers<bw_addr>(
      env, map_fd_[kSrcTalkers], BW_MAX_SRC_TALKERS, cfg.epoch, top, "snapshot", &cut_sources,
      [&](Napi::Object &o, const bw_addr &k) { o.Set("ip", FormatAddr(k.addr)); }));
  static const char *const kKinds[] = {"tcpDst", "udpDst", "udpSrc"};
  out.Set("topPorts", TopTalkers<bw_port_key>(
      env, map_fd_[kPortTalkers], BW_MAX_PORT_TALKERS, cfg.epoch, top * 3, "snapshot", &cut_ports,
      [&](Napi::Object &o, const bw_port_key &k) {
        o.Set("kind", k.kind < 3 ? kKinds[k.kind] : "unknown");
        o.Set("port", k.port);
      }));
  out.Set("talkersCut", D(cut_sources) + D(cut_ports));
  return out;
}

Napi::Value Program::GetConfig(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "getConfig");
  bw_config cfg = ReadConfig(env, map_fd_[kConfig], "getConfig");
  Napi::Object out = Napi::Object::New(env);
  out.Set("killSwitch", cfg.kill_switch != 0);
  out.Set("samplePeriod", cfg.sample_period);
  out.Set("sampleMaxPerSec", cfg.sample_max_per_sec);
  out.Set("talkerSamplePeriod", cfg.talker_sample_period);
  out.Set("epoch", cfg.epoch);
  out.Set("ruleClasses", cfg.rule_classes);
  out.Set("allowFamilies", cfg.allow_families);
  return out;
}

// setConfig(partial): changes only the keys given.
Napi::Value Program::SetConfig(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "setConfig");
  if (info.Length() < 1 || !info[0].IsObject()) ThrowArg(env, "setConfig", "expected an object");
  Napi::Object o = info[0].As<Napi::Object>();
  bw_config cfg = ReadConfig(env, map_fd_[kConfig], "setConfig");
  auto u32 = [&](const char *name, __u32 &field) {
    Napi::Value v = o.Get(name);
    if (v.IsUndefined()) return;
    if (!v.IsNumber()) ThrowArg(env, "setConfig", std::string(name) + " must be a number");
    field = v.As<Napi::Number>().Uint32Value();
  };
  if (!o.Get("killSwitch").IsUndefined()) cfg.kill_switch = o.Get("killSwitch").ToBoolean() ? 1 : 0;
  u32("samplePeriod", cfg.sample_period);
  u32("sampleMaxPerSec", cfg.sample_max_per_sec);
  u32("talkerSamplePeriod", cfg.talker_sample_period);
  u32("epoch", cfg.epoch);
  u32("ruleClasses", cfg.rule_classes);
  u32("allowFamilies", cfg.allow_families);
  if (cfg.talker_sample_period & (cfg.talker_sample_period - 1))
    ThrowArg(env, "setConfig", "talkerSamplePeriod must be a power of two");
  __u32 key = 0;
  if (bpf_map_update_elem(map_fd_[kConfig], &key, &cfg, BPF_ANY)) ThrowSys(env, "setConfig", errno);
  return env.Undefined();
}

// clearHll(parity): zeroes one window of HyperLogLog registers on every CPU.
Napi::Value Program::ClearHll(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "clearHll");
  __u32 parity = info.Length() > 0 ? info[0].As<Napi::Number>().Uint32Value() & 1 : 0;
  std::vector<bw_hll> zero(PossibleCpus());
  memset(zero.data(), 0, zero.size() * sizeof(bw_hll));
  if (bpf_map_update_elem(map_fd_[kHll], &parity, zero.data(), BPF_ANY)) ThrowSys(env, "clearHll", errno);
  return env.Undefined();
}

}  // namespace bw
