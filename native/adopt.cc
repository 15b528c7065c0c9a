// Adopting the instance pinned for an interface (a restarted agent), and
// upgrading its program when this build's differs: the program is loaded on
// the pinned maps (rules, counters and talkers stay as they are) and swapped
// into the pinned link at once, so a fix to the data plane reaches a host
// when its agent is upgraded, not when someone detaches.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "breakwater.skel.h"
#include "errors.h"
#include "pins.h"
#include "program.h"

namespace bw {
namespace {

bool Tag(int fd, __u8 out[BPF_TAG_SIZE]) {
  struct bpf_prog_info info = {};
  __u32 len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &len)) return false;
  memcpy(out, info.tag, BPF_TAG_SIZE);
  return true;
}

}  // namespace

// Opens the pinned program, link and maps of this interface. Returns false
// when nothing usable is pinned (stale pins of a vanished link are removed).
bool Program::Adopt(Napi::Env env) {
  int link = bpf_obj_get(PinPath(pin_dir_, "link").c_str());
  if (link < 0) return false;
  struct bpf_link_info li = {};
  __u32 len = sizeof li;
  if (bpf_obj_get_info_by_fd(link, &li, &len) || li.xdp.ifindex != (__u32)ifindex_) {
    close(link);  // the interface went away: start again
    RemovePins(pin_dir_);
    return false;
  }
  link_fd_ = link;
  // The program the link runs (the prog pin names the one attached first; an upgrade moves both).
  prog_fd_ = bpf_prog_get_fd_by_id(li.prog_id);
  // The layout of each pinned map must be the one this build expects (an
  // older build's map of another type, size, or missing: refused).
  breakwater_bpf *shape = breakwater_bpf__open();
  if (!shape) ThrowSys(env, "attach", errno, "could not open the embedded BPF object");
  struct bpf_map *maps[kMapCount];
  SkelMaps(shape, maps);
  std::string bad;
  for (int i = 0; i < kMapCount; i++) {
    map_fd_[i] = bpf_obj_get(PinPath(pin_dir_, kMapNames[i]).c_str());
    struct bpf_map_info mi = {};
    __u32 mlen = sizeof mi;
    if (map_fd_[i] < 0 || bpf_obj_get_info_by_fd(map_fd_[i], &mi, &mlen) ||
        mi.type != bpf_map__type(maps[i]) || mi.key_size != bpf_map__key_size(maps[i]) ||
        mi.value_size != bpf_map__value_size(maps[i]) ||
        mi.max_entries != bpf_map__max_entries(maps[i]))
      bad = kMapNames[i];
  }
  breakwater_bpf__destroy(shape);
  if (prog_fd_ < 0 || !bad.empty()) {
    Release();
    ThrowSys(env, "attach", EEXIST,
             "a Breakwater program of another version is attached to '" + ifname_ +
                 "' (map '" + bad + "' differs); run 'breakwater agent detach --iface " +
                 ifname_ + "' first");
  }
  // The link does not tell its mode; the symlink written at pin time does.
  char flag[16] = {};
  ssize_t n = readlink(PinPath(pin_dir_, "mode").c_str(), flag, sizeof flag - 1);
  mode_ = n > 0 ? flag : "unknown";
  adopted_ = true;
  return true;
}

// After Adopt: loads this build's program on the pinned maps and, when its
// tag (a hash of its instructions) differs from the running one's, puts it
// into the link and the prog pin. Returns whether it did.
bool Program::Upgrade(Napi::Env env) {
  breakwater_bpf *next = breakwater_bpf__open();
  if (!next) ThrowSys(env, "attach", errno, "could not open the embedded BPF object");
  struct bpf_map *maps[kMapCount];
  SkelMaps(next, maps);
  int err = 0;
  for (int i = 0; i < kMapCount && !err; i++) err = bpf_map__reuse_fd(maps[i], map_fd_[i]);
  if (!err) err = breakwater_bpf__load(next);
  if (err) {
    breakwater_bpf__destroy(next);
    ThrowSys(env, "attach", -err, "could not load this build's program on the pinned maps");
  }
  __u8 running[BPF_TAG_SIZE], built[BPF_TAG_SIZE];
  int fd = bpf_program__fd(next->progs.breakwater);
  if (Tag(prog_fd_, running) && Tag(fd, built) && !memcmp(running, built, BPF_TAG_SIZE)) {
    breakwater_bpf__destroy(next);
    return false;
  }
  int mine = dup(fd);  // outlives the skeleton, which owns fd
  breakwater_bpf__destroy(next);
  std::string pin = PinPath(pin_dir_, "prog");
  if (mine < 0 || bpf_link_update(link_fd_, mine, nullptr)) {
    int e = errno;
    if (mine >= 0) close(mine);
    ThrowSys(env, "attach", e, "could not put this build's program into the link of '" + ifname_ + "'");
  }
  close(prog_fd_);
  prog_fd_ = mine;
  unlink(pin.c_str());
  if (bpf_obj_pin(prog_fd_, pin.c_str())) ThrowSys(env, "attach", errno, "cannot pin " + pin);
  upgraded_ = true;
  return true;
}

}  // namespace bw
