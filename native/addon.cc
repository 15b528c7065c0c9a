// The addon's entry: the Program class and the limits of this build.
#include <napi.h>

#include "breakwater.h"
#include "program.h"

namespace {

const char *const kCounterNames[BW_C_MAX] = {
#define BW_COUNTER_NAME(e, name) #name,
    BW_COUNTER_LIST(BW_COUNTER_NAME)
#undef BW_COUNTER_NAME
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Program", bw::Program::Init(env));
  Napi::Object limits = Napi::Object::New(env);
  limits.Set("maxRules", BW_MAX_RULES);
  limits.Set("maxAllow", BW_MAX_ALLOW);
  limits.Set("maxSourceTalkers", BW_MAX_SRC_TALKERS);
  limits.Set("maxPortTalkers", BW_MAX_PORT_TALKERS);
  limits.Set("maxVlanTags", BW_MAX_VLAN);
  limits.Set("maxExtensionHeaders", BW_MAX_EXT_HDRS);
  limits.Set("hllRegisters", BW_HLL_REGS);
  limits.Set("sampleBytes", BW_SAMPLE_BYTES);
  exports.Set("limits", limits);
  Napi::Array names = Napi::Array::New(env, BW_C_MAX);
  for (int i = 0; i < BW_C_MAX; i++) names.Set(i, kCounterNames[i]);
  exports.Set("counterNames", names);
  return exports;
}

}  // namespace

NODE_API_MODULE(breakwater, Init)
