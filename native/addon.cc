// The addon's entry: the Program class and the limits of this build.
#include <bpf/bpf.h>
#include <napi.h>
#include <unistd.h>

#include <cerrno>

#include "breakwater.h"
#include "errors.h"
#include "program.h"
#include "rule-key.h"

namespace {

const char *const kCounterNames[BW_C_MAX] = {
#define BW_COUNTER_NAME(e, name) #name,
    BW_COUNTER_LIST(BW_COUNTER_NAME)
#undef BW_COUNTER_NAME
};

// testRunPinned(path, packet, repeat): BPF_PROG_TEST_RUN on any pinned XDP
// program, so benchmarks measure other programs with the same harness.
Napi::Value TestRunPinned(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsBuffer() || !info[2].IsNumber())
    bw::ThrowArg(env, "testRunPinned", "expected (path, Buffer, repeat)");
  std::string path = info[0].As<Napi::String>();
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) bw::ThrowSys(env, "testRunPinned", errno, "no pinned program at " + path);
  Napi::Buffer<uint8_t> pkt = info[1].As<Napi::Buffer<uint8_t>>();
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  opts.data_in = pkt.Data();
  opts.data_size_in = pkt.Length();
  opts.repeat = info[2].As<Napi::Number>().Uint32Value();
  int err = bpf_prog_test_run_opts(fd, &opts) ? errno : 0;
  close(fd);
  if (err) bw::ThrowSys(env, "testRunPinned", err, "BPF_PROG_TEST_RUN failed");
  Napi::Object out = Napi::Object::New(env);
  out.Set("retval", opts.retval);
  out.Set("durationNs", opts.duration);
  return out;
}

// replaceLinkProgram(linkPin, progPin): puts a pinned program into a pinned
// XDP link (tests: an agent upgraded over an older program).
Napi::Value ReplaceLinkProgram(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString())
    bw::ThrowArg(env, "replaceLinkProgram", "expected (linkPin, progPin)");
  std::string link_path = info[0].As<Napi::String>(), prog_path = info[1].As<Napi::String>();
  int link = bpf_obj_get(link_path.c_str());
  if (link < 0) bw::ThrowSys(env, "replaceLinkProgram", errno, "no pinned link at " + link_path);
  int prog = bpf_obj_get(prog_path.c_str());
  int err = prog < 0 || bpf_link_update(link, prog, nullptr) ? errno : 0;
  close(link);
  if (prog >= 0) close(prog);
  if (err) bw::ThrowSys(env, "replaceLinkProgram", err, "could not put " + prog_path + " into " + link_path);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("testRunPinned", Napi::Function::New(env, TestRunPinned));
  exports.Set("replaceLinkProgram", Napi::Function::New(env, ReplaceLinkProgram));
  exports.Set("Program", bw::Program::Init(env));
  Napi::Object limits = Napi::Object::New(env);
  limits.Set("maxRules", BW_MAX_RULES);
  limits.Set("maxAllow", BW_MAX_ALLOW);
  limits.Set("maxSourceTalkers", BW_MAX_SRC_TALKERS);
  limits.Set("maxPortTalkers", BW_MAX_PORT_TALKERS);
  limits.Set("maxVlanTags", BW_MAX_VLAN);
  limits.Set("maxVlanSeek", BW_MAX_VLAN_SEEK);
  limits.Set("maxExtensionHeaders", BW_MAX_EXT_HDRS);
  limits.Set("hllRegisters", BW_HLL_REGS);
  limits.Set("sampleBytes", BW_SAMPLE_BYTES);
  limits.Set("talkerAdmit", BW_TALKER_ADMIT);
  exports.Set("limits", limits);
  exports.Set("ruleProtocols", bw::ProtocolNames(env));
  Napi::Array names = Napi::Array::New(env, BW_C_MAX);
  for (int i = 0; i < BW_C_MAX; i++) names.Set(i, kCounterNames[i]);
  exports.Set("counterNames", names);
  return exports;
}

}  // namespace

NODE_API_MODULE(breakwater, Init)
