// Program lifecycle: load, attach, pin, detach, close, and BPF_PROG_TEST_RUN
// (adopting a pinned instance and upgrading its program: adopt.cc).
#include "program.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "breakwater.h"
#include "breakwater.skel.h"
#include "errors.h"
#include "pins.h"

namespace bw {

const char *const kMapNames[kMapCount] = {
    "stats", "hll", "config", "rules_v4", "rules_v6", "prefix_lens", "blocks_v4",
    "blocks_v6", "rule_stats", "allow_v4", "allow_v6", "src_talkers", "port_talkers", "samples"};

// Maps that earlier builds pinned and this one no longer has: removed with the rest.
const char *const kOldMapNames[] = {"hosts_v4", "hosts_v6"};

namespace {

constexpr long kBpfFsMagic = 0xcafe4a11;

// Creates dir and its parents (mode 0700).
int MakeDirs(const std::string &dir) {
  for (size_t i = 1; i <= dir.size(); i++) {
    if (i == dir.size() || dir[i] == '/') {
      std::string part = dir.substr(0, i);
      if (mkdir(part.c_str(), 0700) && errno != EEXIST) return -errno;
    }
  }
  return 0;
}

// Pins live on a bpffs; mount one where the host has none (as bpftool does).
void EnsureBpfFs(Napi::Env env, const std::string &root) {
  struct statfs st;
  if (statfs(root.c_str(), &st) == 0 && st.f_type == kBpfFsMagic) return;
  if (MakeDirs(root) || mount("bpf", root.c_str(), "bpf", 0, "mode=0700"))
    ThrowSys(env, "attach", errno,
             "no bpffs at " + root + " and it could not be mounted "
             "(mount -t bpf bpf " + root + ")");
}

// Enters a network namespace for the life of the guard (this thread only),
// so interface names and XDP attachment resolve inside it.
class NetnsGuard {
 public:
  NetnsGuard(Napi::Env env, const std::string &name) {
    if (name.empty()) return;
    std::string path = name.find('/') == std::string::npos ? "/var/run/netns/" + name : name;
    int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) ThrowSys(env, "attach", errno, "no network namespace '" + name + "'");
    self_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int err = self_ < 0 || setns(target, CLONE_NEWNET) ? errno : 0;
    close(target);
    if (err) {
      if (self_ >= 0) close(self_);
      self_ = -1;
      ThrowSys(env, "attach", err, "cannot enter network namespace '" + name + "'");
    }
  }
  ~NetnsGuard() {
    if (self_ < 0) return;
    setns(self_, CLONE_NEWNET);
    close(self_);
  }

 private:
  int self_ = -1;
};

}  // namespace

// Deletes every pin of one interface and its now-empty folders. Returns
// whether anything was pinned there.
bool RemovePins(const std::string &dir) {
  bool any = false;
  for (const char *name : kMapNames) any |= unlink((dir + "/" + name).c_str()) == 0;
  for (const char *name : kOldMapNames) any |= unlink((dir + "/" + name).c_str()) == 0;
  for (const char *name : {"prog", "link", "mode"}) any |= unlink((dir + "/" + name).c_str()) == 0;
  rmdir(dir.c_str());
  std::string parent = dir.substr(0, dir.rfind('/'));
  if (parent.find("/netns-") != std::string::npos && rmdir(parent.c_str()) == 0)
    parent = parent.substr(0, parent.rfind('/'));
  rmdir(parent.c_str());
  return any;
}

// The skeleton's maps in MapId order.
void SkelMaps(breakwater_bpf *s, struct bpf_map *out[kMapCount]) {
  struct bpf_map *maps[kMapCount] = {
      s->maps.stats, s->maps.hll, s->maps.config, s->maps.rules_v4,
      s->maps.rules_v6, s->maps.prefix_lens, s->maps.blocks_v4, s->maps.blocks_v6,
      s->maps.rule_stats,
      s->maps.allow_v4, s->maps.allow_v6, s->maps.src_talkers,
      s->maps.port_talkers, s->maps.samples};
  for (int i = 0; i < kMapCount; i++) out[i] = maps[i];
}

std::string PinPath(const std::string &dir, const char *name) {
  return dir + "/" + name;
}

Napi::Function Program::Init(Napi::Env env) {
  return DefineClass(env, "Program", {
      InstanceMethod<&Program::Info>("info"),
      InstanceMethod<&Program::Detach>("detach"),
      InstanceMethod<&Program::Close>("close"),
      InstanceMethod<&Program::TestRun>("testRun"),
      InstanceMethod<&Program::Snapshot>("snapshot"),
      InstanceMethod<&Program::GetConfig>("getConfig"),
      InstanceMethod<&Program::SetConfig>("setConfig"),
      InstanceMethod<&Program::ClearHll>("clearHll"),
      InstanceMethod<&Program::PutRule>("putRule"),
      InstanceMethod<&Program::DeleteRule>("deleteRule"),
      InstanceMethod<&Program::ListRules>("listRules"),
      InstanceMethod<&Program::PutAllow>("putAllow"),
      InstanceMethod<&Program::DeleteAllow>("deleteAllow"),
      InstanceMethod<&Program::ListAllow>("listAllow"),
      InstanceMethod<&Program::PrefixLengths>("prefixLengths"),
      InstanceMethod<&Program::StartSamples>("startSamples"),
      InstanceMethod<&Program::StopSamples>("stopSamples"),
  });
}

// new Program({ iface?, netns?, mode?, pinRoot?, adoptOnly?, benchSourceMask? })
// Without iface: a loaded, unattached program for testRun. With iface: adopts
// the instance pinned for it, or loads, attaches and pins a new one.
Program::Program(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Program>(info) {
  Napi::Env env = info.Env();
  for (int &fd : map_fd_) fd = -1;
  if (info.Length() < 1 || !info[0].IsObject())
    ThrowArg(env, "open", "expected an options object");
  Napi::Object opts = info[0].As<Napi::Object>();
  bool bench = !opts.Get("benchSourceMask").IsUndefined();
  uint32_t mask = bench ? opts.Get("benchSourceMask").ToNumber().Uint32Value() : 0;
  CaptureLibbpfLog();

  if (!opts.Get("iface").IsString()) {
    Load(env, bench, mask);
    open_ = true;
    return;
  }
  ifname_ = opts.Get("iface").As<Napi::String>();
  std::string root = opts.Get("pinRoot").IsString()
                         ? opts.Get("pinRoot").As<Napi::String>().Utf8Value()
                         : "/sys/fs/bpf";
  std::string mode = opts.Get("mode").IsString()
                         ? opts.Get("mode").As<Napi::String>().Utf8Value()
                         : "auto";
  std::string netns = opts.Get("netns").IsString()
                          ? opts.Get("netns").As<Napi::String>().Utf8Value()
                          : "";
  NetnsGuard in_netns(env, netns);
  pin_dir_ = root + "/breakwater/" + (netns.empty() ? "" : "netns-" + netns.substr(netns.rfind('/') + 1) + "/") + ifname_;
  ifindex_ = if_nametoindex(ifname_.c_str());
  if (!ifindex_) {
    int err = errno;
    std::string where = netns.empty() ? "" : " in namespace '" + netns + "'";
    if (opts.Get("adoptOnly").ToBoolean() && RemovePins(pin_dir_))
      ThrowSys(env, "detach", err, "no network interface named '" + ifname_ + "'" + where +
                                       "; its stale pins were removed");
    ThrowSys(env, "attach", err, "no network interface named '" + ifname_ + "'" + where);
  }
  EnsureBpfFs(env, root);
  if (Adopt(env)) {
    if (!opts.Get("adoptOnly").ToBoolean()) {
      try {
        Upgrade(env);
      } catch (...) {
        Release();
        throw;
      }
    }
    open_ = true;
    return;
  }
  if (opts.Get("adoptOnly").ToBoolean())
    ThrowSys(env, "detach", ENOENT, "Breakwater is not attached to '" + ifname_ + "'");
  try {
    Load(env, bench, mask);
    Attach(env, mode);
    PinAll(env);
  } catch (...) {
    Release();
    throw;
  }
  open_ = true;
}

Program::~Program() { Release(); }

void Program::Load(Napi::Env env, bool bench_random_src, uint32_t bench_src_mask) {
  skel_ = breakwater_bpf__open();
  if (!skel_) ThrowSys(env, "load", errno, "could not open the embedded BPF object");
  skel_->rodata->bench_random_src = bench_random_src ? 1 : 0;
  skel_->rodata->bench_src_mask = bench_src_mask;
  int err = breakwater_bpf__load(skel_);
  if (err) {
    std::string hint = err == -EPERM
        ? "loading BPF programs needs root (CAP_BPF, CAP_NET_ADMIN)"
        : "the kernel refused the XDP program (Breakwater needs Linux >= 5.15 "
          "with CONFIG_BPF_SYSCALL and XDP; see .log)";
    ThrowSys(env, "load", err, hint);
  }
  prog_fd_ = bpf_program__fd(skel_->progs.breakwater);
  struct bpf_map *maps[kMapCount];
  SkelMaps(skel_, maps);
  for (int i = 0; i < kMapCount; i++) map_fd_[i] = bpf_map__fd(maps[i]);

  struct bw_config cfg = {};
  cfg.talker_sample_period = 64;
  cfg.sample_max_per_sec = 1000;
  __u32 key = 0;
  if (bpf_map_update_elem(map_fd_[kConfig], &key, &cfg, BPF_ANY))
    ThrowSys(env, "load", errno, "could not initialise the config map");
}

void Program::Attach(Napi::Env env, const std::string &mode) {
  if (mode != "native" && mode != "generic" && mode != "auto")
    ThrowArg(env, "attach", "mode must be 'native', 'generic' or 'auto'");
  const char *tries[2] = {mode == "generic" ? "generic" : "native",
                          mode == "auto" ? "generic" : nullptr};
  int err = 0;
  for (const char *m : tries) {
    if (!m) break;
    LIBBPF_OPTS(bpf_link_create_opts, opts);
    opts.flags = strcmp(m, "native") ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
    link_fd_ = bpf_link_create(prog_fd_, ifindex_, BPF_XDP, &opts);
    if (link_fd_ >= 0) {
      mode_ = m;
      return;
    }
    err = errno;
  }
  std::string hint;
  if (err == EBUSY || err == EEXIST)
    hint = "another XDP program is already attached to '" + ifname_ + "'";
  else if (err == EOPNOTSUPP || err == EINVAL)
    hint = "the driver of '" + ifname_ + "' does not support " + mode +
           " XDP (try mode 'generic' or 'auto')";
  else if (err == EPERM)
    hint = "attaching XDP needs root (CAP_NET_ADMIN, CAP_BPF)";
  else
    hint = "could not attach XDP to '" + ifname_ + "' in " + mode + " mode";
  ThrowSys(env, "attach", err, hint);
}

void Program::PinAll(Napi::Env env) {
  if (int err = MakeDirs(pin_dir_)) ThrowSys(env, "attach", err, "cannot create " + pin_dir_);
  for (int i = 0; i < kMapCount; i++) {
    std::string path = PinPath(pin_dir_, kMapNames[i]);
    unlink(path.c_str());
    if (bpf_obj_pin(map_fd_[i], path.c_str())) ThrowSys(env, "attach", errno, "cannot pin " + path);
  }
  std::string prog = PinPath(pin_dir_, "prog"), link = PinPath(pin_dir_, "link");
  std::string mode = PinPath(pin_dir_, "mode");
  unlink(prog.c_str());
  unlink(link.c_str());
  unlink(mode.c_str());
  if (bpf_obj_pin(prog_fd_, prog.c_str())) ThrowSys(env, "attach", errno, "cannot pin " + prog);
  // The link pin goes last: it is what a restarted agent looks for.
  if (symlink(mode_.c_str(), mode.c_str()) || bpf_obj_pin(link_fd_, link.c_str()))
    ThrowSys(env, "attach", errno, "cannot pin " + link);
}

// Drops this object's hold on the kernel objects. Pinned ones stay attached.
void Program::Release() {
  StopSampling();
  if (skel_) {
    breakwater_bpf__destroy(skel_);  // closes the program and map fds it owns
    skel_ = nullptr;
  } else {
    for (int fd : map_fd_)
      if (fd >= 0) close(fd);
    if (prog_fd_ >= 0) close(prog_fd_);
  }
  for (int &fd : map_fd_) fd = -1;
  prog_fd_ = -1;
  if (link_fd_ >= 0) close(link_fd_);
  link_fd_ = -1;
  open_ = false;
}

void Program::RequireOpen(Napi::Env env, const char *operation) const {
  if (!open_) ThrowSys(env, operation, EBADF, "this Breakwater program was closed");
}

Napi::Value Program::Info(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("open", open_);
  out.Set("iface", ifname_.empty() ? env.Null() : Napi::String::New(env, ifname_));
  out.Set("ifindex", ifindex_);
  out.Set("mode", mode_.empty() ? env.Null() : Napi::String::New(env, mode_));
  out.Set("adopted", adopted_);
  out.Set("upgraded", upgraded_);
  out.Set("pinDir", pin_dir_.empty() ? env.Null() : Napi::String::New(env, pin_dir_));
  out.Set("possibleCpus", libbpf_num_possible_cpus());
  return out;
}

// Removes the program from the interface and deletes every pin.
Napi::Value Program::Detach(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "detach");
  if (link_fd_ >= 0 && bpf_link_detach(link_fd_) && errno != ENOLINK && errno != EINVAL)
    ThrowSys(env, "detach", errno, "could not detach XDP from '" + ifname_ + "'");
  if (!pin_dir_.empty()) RemovePins(pin_dir_);
  Release();
  return env.Undefined();
}

Napi::Value Program::Close(const Napi::CallbackInfo &info) {
  Release();
  return info.Env().Undefined();
}

// testRun(packet: Buffer, repeat = 1) -> { retval, durationNs }
Napi::Value Program::TestRun(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "testRun");
  if (info.Length() < 1 || !info[0].IsBuffer())
    ThrowArg(env, "testRun", "expected a Buffer holding an Ethernet frame");
  Napi::Buffer<uint8_t> pkt = info[0].As<Napi::Buffer<uint8_t>>();
  uint32_t repeat = info.Length() > 1 ? info[1].As<Napi::Number>().Uint32Value() : 1;
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  opts.data_in = pkt.Data();
  opts.data_size_in = pkt.Length();
  opts.repeat = repeat ? repeat : 1;
  if (bpf_prog_test_run_opts(prog_fd_, &opts))
    ThrowSys(env, "testRun", errno, "BPF_PROG_TEST_RUN failed");
  Napi::Object out = Napi::Object::New(env);
  out.Set("retval", opts.retval);
  out.Set("durationNs", opts.duration);
  return out;
}

}  // namespace bw
