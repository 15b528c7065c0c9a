// Errors crossing into JavaScript: an Error with .code (the errno name, e.g.
// 'ENOSPC'), .operation (the method that failed) and a sentence a user
// understands, followed by the system's own words.
#pragma once
#include <napi.h>
#include <string>

namespace bw {

// Throws a JS error for a failed libbpf or system call. err is a positive
// errno or a negative libbpf return value. hint replaces the generic
// sentence when the caller knows what the failure means.
[[noreturn]] void ThrowSys(Napi::Env env, const char *operation, int err,
                           const std::string &hint = "");

// Throws a JS TypeError with code 'EINVAL' for a bad argument.
[[noreturn]] void ThrowArg(Napi::Env env, const char *operation,
                           const std::string &message);

// Captures libbpf's warnings so a failed load can carry the verifier's words.
void CaptureLibbpfLog();
std::string TakeLibbpfLog();

}  // namespace bw
