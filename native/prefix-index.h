// The kernel's index of prefix lengths in use (bpf/breakwater.h): which
// lengths a packet probes, per block of its source. prefix-index.cc keeps it
// in step with the rules; rules.cc asks it before and after each change.
#pragma once
#include <linux/types.h>

namespace bw {

// A host rule (/32, /128) is probed by its class bit alone, never indexed.
inline bool IsHost(int family, __u32 len) { return len == (family == 6 ? 128u : 32u); }

}  // namespace bw
