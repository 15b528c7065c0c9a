// Reading BPF maps into plain C++ containers: per-CPU values and batches.
#pragma once
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <vector>

namespace bw {

inline int PossibleCpus() {
  static int n = libbpf_num_possible_cpus();
  return n;
}

// Reads one entry of a per-CPU map: one V per possible CPU.
template <class V>
int ReadPerCpu(int fd, __u32 key, std::vector<V> &out) {
  static_assert(sizeof(V) % 8 == 0, "per-CPU values are 8-byte aligned");
  out.resize(PossibleCpus());
  return bpf_map_lookup_elem(fd, &key, out.data()) ? -errno : 0;
}

// Reads the entries of a hash-like map with BPF_MAP_LOOKUP_BATCH, at most
// `capacity` of them, and counts in *cut those the walk saw but could not keep.
// The kernel hands out whole buckets: while the table changes under the walk
// (a full LRU table during a spoofed flood), it can hold more entries than
// the table's size, or the next bucket more than the room left (ENOSPC).
// Neither fails the read: the walk goes on into a scratch buffer, counting.
// Returns 0 or -errno for a real failure.
template <class K, class V>
int ReadAll(int fd, __u32 capacity, std::vector<K> &keys, std::vector<V> &values, __u32 *cut) {
  keys.resize(capacity);
  values.resize(capacity);
  std::vector<K> spare_keys;
  std::vector<V> spare_values;
  __u64 token_in = 0, token_out = 0;  // opaque to us; the kernel uses 4 bytes
  __u32 total = 0;
  bool first = true, keep = capacity > 0;
  *cut = 0;
  for (int calls = 0; calls < 1 << 20; calls++) {
    if (!keep && spare_keys.empty()) {
      spare_keys.resize(64);
      spare_values.resize(64);
    }
    __u32 n = keep ? capacity - total : spare_keys.size();
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int err = bpf_map_lookup_batch(fd, first ? nullptr : &token_in, &token_out,
                                   keep ? &keys[total] : spare_keys.data(),
                                   keep ? &values[total] : spare_values.data(), &n, &opts)
                  ? errno : 0;
    if (err && err != ENOENT && err != ENOSPC) return -err;
    (keep ? total : *cut) += n;
    if (err == ENOENT) break;
    // The next bucket did not fit (token_out names it): stop keeping, or
    // count into a larger scratch buffer.
    if (err == ENOSPC && !keep) {
      if (spare_keys.size() >= capacity + 64) break;  // a bucket larger than the table
      spare_keys.resize(spare_keys.size() * 2);
      spare_values.resize(spare_values.size() * 2);
    }
    if (err == ENOSPC || total == capacity) keep = false;
    token_in = token_out;
    first = false;
  }
  keys.resize(total);
  values.resize(total);
  return 0;
}

}  // namespace bw
