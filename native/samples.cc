// Packet samples: the ring buffer joins libuv's loop through its epoll fd;
// each wake-up drains it and hands one array of samples to the callback.
#include <bpf/libbpf.h>

#include <cstring>

#include "breakwater.h"
#include "errors.h"
#include "program.h"

namespace bw {

// startSamples(callback: (samples: Sample[]) => void)
Napi::Value Program::StartSamples(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "startSamples");
  if (info.Length() < 1 || !info[0].IsFunction()) ThrowArg(env, "startSamples", "expected a callback");
  if (ring_) ThrowSys(env, "startSamples", EBUSY, "samples are already being read");
  ring_ = ring_buffer__new(map_fd_[kSamples], OnSample, this, nullptr);
  if (!ring_) ThrowSys(env, "startSamples", errno, "could not open the sample ring buffer");
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  poll_ = new uv_poll_t;
  poll_->data = this;
  if (uv_poll_init(loop, poll_, ring_buffer__epoll_fd(ring_)) ||
      uv_poll_start(poll_, UV_READABLE, OnPoll)) {
    delete poll_;
    poll_ = nullptr;
    ring_buffer__free(ring_);
    ring_ = nullptr;
    ThrowSys(env, "startSamples", EIO, "could not watch the ring buffer");
  }
  sample_cb_ = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

// Idempotent; also called when the program is released.
void Program::StopSampling() {
  if (poll_) {
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t *>(poll_),
             [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
    poll_ = nullptr;
  }
  if (ring_) ring_buffer__free(ring_);
  ring_ = nullptr;
  if (!sample_cb_.IsEmpty()) sample_cb_.Reset();
}

Napi::Value Program::StopSamples(const Napi::CallbackInfo &info) {
  StopSampling();
  return info.Env().Undefined();
}

int Program::OnSample(void *ctx, void *data, size_t size) {
  Program *self = static_cast<Program *>(ctx);
  if (size < sizeof(bw_sample) || !self->batch_) return 0;
  const bw_sample *s = static_cast<const bw_sample *>(data);
  Napi::Env env = *self->batch_env_;
  size_t cap = s->cap_len > BW_SAMPLE_BYTES ? BW_SAMPLE_BYTES : s->cap_len;
  static const char *const kVerdicts[] = {"pass", "drop", "allow", "log", "malformed"};
  Napi::Object o = Napi::Object::New(env);
  o.Set("timestampNs", Napi::BigInt::New(env, static_cast<uint64_t>(s->ts_ns)));
  o.Set("length", s->len);
  o.Set("verdict", s->verdict < 5 ? kVerdicts[s->verdict] : "unknown");
  o.Set("data", Napi::Buffer<uint8_t>::Copy(env, s->data, cap));
  self->batch_->Set(self->batch_->Length(), o);
  return 0;
}

void Program::OnPoll(uv_poll_t *handle, int status, int) {
  Program *self = static_cast<Program *>(handle->data);
  if (status < 0 || !self->ring_ || self->sample_cb_.IsEmpty()) return;
  Napi::Env env = self->sample_cb_.Env();
  Napi::HandleScope scope(env);
  Napi::Array batch = Napi::Array::New(env);
  self->batch_env_ = &env;
  self->batch_ = &batch;
  ring_buffer__consume(self->ring_);
  self->batch_ = nullptr;
  self->batch_env_ = nullptr;
  if (batch.Length() == 0) return;
  try {
    self->sample_cb_.MakeCallback(env.Global(), {batch});
  } catch (const Napi::Error &e) {
    napi_fatal_exception(env, e.Value());
  }
}

}  // namespace bw
