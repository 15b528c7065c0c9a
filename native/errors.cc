// See errors.h.
#include "errors.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace bw {
namespace {

// libbpf's print callback is process-wide; the text it collects is read and
// cleared by the operation that failed, on the JS thread that called it.
thread_local std::string libbpf_log;

int Collect(enum libbpf_print_level level, const char *fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[1024];
  int n = vsnprintf(line, sizeof line, fmt, args);
  if (libbpf_log.size() < 64 * 1024) libbpf_log.append(line);
  return n;
}

const char *ErrnoName(int err) {
  const char *name = strerrorname_np(err);
  return name ? name : "EUNKNOWN";
}

}  // namespace

void CaptureLibbpfLog() { libbpf_set_print(Collect); }

std::string TakeLibbpfLog() {
  std::string out;
  out.swap(libbpf_log);
  return out;
}

void ThrowSys(Napi::Env env, const char *operation, int err,
              const std::string &hint) {
  if (err < 0) err = -err;
  std::string message = std::string(operation) + ": ";
  message += hint.empty() ? std::string(strerror(err))
                          : hint + " (" + strerror(err) + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("operation", Napi::String::New(env, operation));
  std::string log = TakeLibbpfLog();
  if (!log.empty()) error.Set("log", Napi::String::New(env, log));
  throw error;
}

void ThrowArg(Napi::Env env, const char *operation, const std::string &message) {
  Napi::Error error = Napi::TypeError::New(env, std::string(operation) + ": " + message);
  error.Set("code", Napi::String::New(env, "EINVAL"));
  error.Set("operation", Napi::String::New(env, operation));
  throw error;
}

}  // namespace bw
