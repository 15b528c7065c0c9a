// Program: one object owns Breakwater's XDP program on one interface (or a
// detached instance for BPF_PROG_TEST_RUN): its maps, its link and its pins.
#pragma once
#include <napi.h>
#include <uv.h>

#include <string>
#include <unordered_map>

struct breakwater_bpf;
struct ring_buffer;

namespace bw {

struct RuleMatch;

// Map file descriptors by role; the order matches kMapNames in program.cc.
enum MapId {
  kStats, kHll, kConfig, kRulesV4, kRulesV6, kPrefixLens, kBlocksV4, kBlocksV6,
  kRuleStats, kAllowV4, kAllowV6, kSrcTalkers, kPortTalkers, kSamples, kMapCount
};
extern const char *const kMapNames[kMapCount];

class Program : public Napi::ObjectWrap<Program> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Program(const Napi::CallbackInfo &info);
  ~Program() override;

  int MapFd(MapId id) const { return map_fd_[id]; }

 private:
  // Lifecycle (program.cc)
  void Load(Napi::Env env, bool bench_random_src, uint32_t bench_src_mask);
  bool Adopt(Napi::Env env);    // adopt.cc
  bool Upgrade(Napi::Env env);  // adopt.cc
  void Attach(Napi::Env env, const std::string &mode);
  void PinAll(Napi::Env env);
  void Release();
  Napi::Value Info(const Napi::CallbackInfo &info);
  Napi::Value Detach(const Napi::CallbackInfo &info);
  Napi::Value Close(const Napi::CallbackInfo &info);
  Napi::Value TestRun(const Napi::CallbackInfo &info);

  // Counters and settings (maps.cc)
  Napi::Value Snapshot(const Napi::CallbackInfo &info);
  Napi::Value GetConfig(const Napi::CallbackInfo &info);
  Napi::Value SetConfig(const Napi::CallbackInfo &info);
  Napi::Value ClearHll(const Napi::CallbackInfo &info);

  // Rules and allowlist (rules.cc)
  Napi::Value PutRule(const Napi::CallbackInfo &info);
  Napi::Value DeleteRule(const Napi::CallbackInfo &info);
  Napi::Value ListRules(const Napi::CallbackInfo &info);
  Napi::Value PutAllow(const Napi::CallbackInfo &info);
  Napi::Value DeleteAllow(const Napi::CallbackInfo &info);
  Napi::Value ListAllow(const Napi::CallbackInfo &info);
  // The prefix lengths in use (prefix-index.cc): counts a prefix rule in
  // (delta +1) or out (-1) and sets or clears its length, and the marks of
  // the /24s it touches, in the kernel's index at 0 <-> 1. ReadPrefixIndex
  // (once) must run before the rule map changes.
  Napi::Value PrefixLengths(const Napi::CallbackInfo &info);
  void IndexPrefix(Napi::Env env, const RuleMatch &m, int delta, const char *operation);
  void ReadPrefixIndex(Napi::Env env, const char *operation);
  bool CountIndexKey(__u64 key, int delta);

  // Samples (samples.cc)
  Napi::Value StartSamples(const Napi::CallbackInfo &info);
  Napi::Value StopSamples(const Napi::CallbackInfo &info);
  void StopSampling();
  static int OnSample(void *ctx, void *data, size_t size);
  static void OnPoll(uv_poll_t *handle, int status, int events);

  void RequireOpen(Napi::Env env, const char *operation) const;

  breakwater_bpf *skel_ = nullptr;
  int map_fd_[kMapCount];
  int prog_fd_ = -1;
  int link_fd_ = -1;
  int ifindex_ = 0;
  std::string ifname_;
  std::string pin_dir_;
  std::string mode_;      // "native", "generic" or "" (not attached)
  bool adopted_ = false;
  bool upgraded_ = false;  // adopted, and this build's program put into the link
  bool open_ = false;
  // Prefix rules per (family, class, length, block) and per marked /24, read
  // from the rule maps on first use (prefix-index.cc); this object is the
  // interface's one writer.
  std::unordered_map<__u64, __u32> prefix_counts_;
  bool prefix_counts_read_ = false;

  ring_buffer *ring_ = nullptr;
  uv_poll_t *poll_ = nullptr;
  Napi::FunctionReference sample_cb_;
  Napi::Env *batch_env_ = nullptr;
  Napi::Array *batch_ = nullptr;
};

}  // namespace bw
