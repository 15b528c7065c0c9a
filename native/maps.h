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

// Reads every entry of a hash-like map with BPF_MAP_LOOKUP_BATCH.
template <class K, class V>
int ReadAll(int fd, __u32 max_entries, std::vector<K> &keys, std::vector<V> &values) {
  keys.resize(max_entries);
  values.resize(max_entries);
  __u64 token_in = 0, token_out = 0;  // opaque to us; the kernel uses 4 bytes
  __u32 total = 0;
  bool first = true;
  while (total < max_entries) {
    __u32 n = max_entries - total;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int err = bpf_map_lookup_batch(fd, first ? nullptr : &token_in, &token_out,
                                   &keys[total], &values[total], &n, &opts);
    total += n;
    if (err) {
      if (errno == ENOENT) break;
      return -errno;
    }
    token_in = token_out;
    first = false;
  }
  keys.resize(total);
  values.resize(total);
  return 0;
}

}  // namespace bw
