// The kernel's index of the prefix lengths in use (bpf/breakwater.h), kept
// in step with the rule maps: putRule() lists a new prefix rule's length
// before the rule is written, deleteRule() unlists it after the rule is
// gone, so no rule is ever in a map unprobed. prefixLengths() reads it back.
#include <cstring>
#include <unordered_map>
#include <vector>

#include "breakwater.h"
#include "errors.h"
#include "maps.h"
#include "prefix-index.h"
#include "program.h"
#include "rule-key.h"

namespace bw {
namespace {

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

// IPv4 rules longer than a /16 also mark the /24s they touch in their
// block's entry (bw_block4.sub24): a /20 its 16, a /29 its one. Each /24's
// mark is counted over every rule of every class that touches it, in the
// same count table as the lengths (SubKey sets bit 56, which no IndexSlot
// uses), and set while its count is not 0.
struct SubSpan {
  __u32 block, first, n;  // the /16 block; its first /24 (0-255) and how many
};

bool SubSpanOf(int family, __u32 len, const __u8 *addr, SubSpan *out) {
  if (family != 4 || len <= BW_BLOCK_LEN4 || len >= 32) return false;
  *out = {static_cast<__u32>(addr[0] << 8 | addr[1]), addr[2], len >= 24 ? 1u : 1u << (24 - len)};
  return true;
}

__u64 SubKey(__u32 block, __u32 sub) { return 1ull << 56 | (__u64)block << 8 | sub; }

// Sets or clears the marks of the /24s subs in a block's entry; returns 0 or errno.
int SetSubMarks(int fd, __u32 block, const std::vector<__u32> &subs, bool on) {
  bw_block4 b = {};
  if (bpf_map_lookup_elem(fd, &block, &b)) return errno;
  for (__u32 s : subs) {
    __u32 &word = b.sub24[BW_SUB24_WORD(s)];
    word = on ? word | BW_SUB24_BIT(s) : word & ~BW_SUB24_BIT(s);
  }
  return bpf_map_update_elem(fd, &block, &b, BPF_ANY) ? errno : 0;
}

// Counts the prefix rules of one family's rule map into counts, with the
// /24s they mark.
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
    const __u8 *addr = reinterpret_cast<const __u8 *>(&key.addr);
    counts[SlotOf(family, cls, key.prefixlen, addr).Packed()]++;
    SubSpan span;
    if (SubSpanOf(family, key.prefixlen, addr, &span))
      for (__u32 i = 0; i < span.n; i++) counts[SubKey(span.block, span.first + i)]++;
  }
  return errno == ENOENT ? 0 : errno;
}

}  // namespace

// prefixLengths({ family, address, prefixLen }) -> { any, protocol, port }: the
// prefix lengths the kernel probes for a packet from that source, per rule
// shape, longest first (its index as it is: IPv4 its block's, past a /16
// only if its /24 is marked; IPv6 the family's short lengths and its block's).
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
  __u32 sub = p.addr[2];
  __u32 keep = p.family == 4 ? BW_BLOCK4_KEEP(&b4, sub) : ~0u;
  Napi::Object out = Napi::Object::New(env);
  static const char *const kNames[BW_CLASS_MAX] = {"any", "protocol", "port"};
  for (int c = 0; c < BW_CLASS_MAX; c++) {
    Napi::Array lens = Napi::Array::New(env);
    for (int len = (p.family == 6 ? 128 : 32) - 1; len >= 0; len--) {
      __u32 word = p.family == 4 ? b4.lens[c] & keep
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

// Counts key in (delta +1) or out (-1); true when that moved it between 0
// and 1, so that its bit must change. A key not counted is left alone: it
// was read from the maps (ReadPrefixIndex) after the rule left them.
bool Program::CountIndexKey(__u64 key, int delta) {
  auto it = prefix_counts_.find(key);
  if (delta < 0 && it == prefix_counts_.end()) return false;
  __u32 &n = it == prefix_counts_.end() ? prefix_counts_[key] : it->second;
  n += delta;
  bool edge = n == (delta > 0 ? 1u : 0u);
  if (n == 0) prefix_counts_.erase(key);
  return edge;
}

void Program::IndexPrefix(Napi::Env env, const RuleMatch &m, int delta, const char *operation) {
  const Prefix &p = m.prefix;
  SubSpan span = {};
  std::vector<__u32> marks;  // the /24s whose mark changes
  if (SubSpanOf(p.family, p.len, p.addr, &span))
    for (__u32 i = 0; i < span.n; i++)
      if (CountIndexKey(SubKey(span.block, span.first + i), delta)) marks.push_back(span.first + i);
  auto uncount = [&]() {
    for (__u32 i = 0; i < span.n; i++) CountIndexKey(SubKey(span.block, span.first + i), -delta);
  };
  if (!marks.empty())
    if (int err = SetSubMarks(map_fd_[kBlocksV4], span.block, marks, delta > 0)) {
      uncount();
      ThrowSys(env, operation, err, "could not update the prefix lengths in use");
    }
  IndexSlot s = SlotOf(p.family, m.cls, p.len, p.addr);
  if (CountIndexKey(s.Packed(), delta))
    if (int err = SetIndexBit(map_fd_, s, delta > 0)) {
      CountIndexKey(s.Packed(), -delta);
      if (!marks.empty()) SetSubMarks(map_fd_[kBlocksV4], span.block, marks, delta < 0);
      uncount();
      ThrowSys(env, operation, err, "could not update the prefix lengths in use");
    }
}

}  // namespace bw
