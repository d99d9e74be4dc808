// ctnet/backend/cuda/diagnostics.hpp — how the CUDA backend words its failures, in plain C++ (no CUDA
// headers), so the wording is tested on machines without a GPU (tests/cuda_host/test_cuda_diagnostics.cpp).
//
// Requires: nothing but the standard library. Guarantees:
//   * cuda::CudaError (a ctnet::Error) keeps the failing call's numeric code; its message names what was
//     being done, the runtime's description and name of the code with its number, the call's source text
//     and file:line (error_text below), and for a sticky fault (an earlier kernel crashed; the context is
//     unusable) how to find the kernel: CTNET_CUDA_SYNC=1.
//   * cuda::CaptureError (a CudaError) is thrown only for failures that are specific to stream capture,
//     the ones after which training on without a graph is safe (is_capture_error).
//   * env_flag reads the on/off switches CTNET_CUDA_SYNC and CTNET_REQUIRE_CUDA: unset, "" or "0" is off,
//     "1" is on, anything else is a ctnet::Error naming the variable and its value.
#pragma once

#include <cstdlib>
#include <string>

#include "../../core/error.hpp"

namespace ctnet::cuda {

// Where a checked call is written: its text as written (#call), file and line.
struct CallSite {
  const char* call = nullptr;
  const char* file = nullptr;
  int line = 0;
};

// Codes as numbers (runtime.cuh static_asserts them against the CUDA headers).
inline bool is_sticky_error(int code) {
  // cudaErrorIllegalAddress, LaunchTimeout, Assert, HardwareStackError, IllegalInstruction,
  // MisalignedAddress, InvalidAddressSpace, InvalidPc, LaunchFailure: the context is lost.
  switch (code) {
    case 700: case 702: case 710: case 714: case 715: case 716: case 717: case 718: case 719:
      return true;
    default:
      return false;
  }
}

// cudaErrorStreamCaptureUnsupported ... cudaErrorStreamCaptureWrongThread (900-908): the capture
// itself was refused or broken; nothing ran, so eager execution can go on.
inline bool is_capture_error(int code) { return code >= 900 && code <= 908; }

// The path from "include/" or the repository's top folders on, so messages stay short and stable.
inline std::string short_path(const char* file) {
  if (!file) return "?";
  const std::string f(file);
  for (const char* marker : {"/include/", "/tests/", "/examples/"}) {
    const std::size_t at = f.rfind(marker);
    if (at != std::string::npos) return f.substr(at + 1);
  }
  return f;
}

// api: "CUDA" or "cuBLAS"; what: the purpose ("copying to the device"); code, name, description: the
// runtime's; site.call may be null (a launch check names the kernel in `what`).
inline std::string error_text(const char* api, const std::string& what, int code, const char* name,
                              const char* description, const CallSite& site, bool sync_mode) {
  std::string s = std::string(api) + ": " + what + " failed: " + (description ? description : "?") + " (" +
                  (name ? name : "?") + ", code " + std::to_string(code) + ")";
  if (site.call) s += " in " + std::string(site.call);
  if (site.file) s += " at " + short_path(site.file) + ":" + std::to_string(site.line);
  if (is_sticky_error(code) && !sync_mode)
    s += "; a kernel faulted earlier and the error surfaced here: run with CTNET_CUDA_SYNC=1 to name the kernel";
  return s;
}

class CudaError : public Error {
 public:
  CudaError(const std::string& message, int code) : Error(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

class CaptureError : public CudaError {
 public:
  using CudaError::CudaError;
};

// value: getenv(variable)'s result.
inline bool env_flag(const char* variable, const char* value) {
  if (!value || !*value || std::string(value) == "0") return false;
  if (std::string(value) == "1") return true;
  throw Error(std::string(variable) + "='" + value + "' is not one of 0, 1");
}

// The environment's switches, read once per process (the value cannot change under a running program).
inline bool sync_mode() {
  static const bool on = env_flag("CTNET_CUDA_SYNC", std::getenv("CTNET_CUDA_SYNC"));
  return on;
}
inline bool require_device() {
  static const bool on = env_flag("CTNET_REQUIRE_CUDA", std::getenv("CTNET_REQUIRE_CUDA"));
  return on;
}

}  // namespace ctnet::cuda
