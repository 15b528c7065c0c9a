// What the lifecycle files (program.cc, adopt.cc) share about pins and the
// skeleton: where each object is pinned, the skeleton's maps in MapId order.
#pragma once
#include <string>

#include "program.h"

struct bpf_map;

namespace bw {

bool RemovePins(const std::string &dir);
void SkelMaps(breakwater_bpf *s, struct bpf_map *out[kMapCount]);
std::string PinPath(const std::string &dir, const char *name);

}  // namespace bw
