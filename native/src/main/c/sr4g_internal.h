// Internal helpers shared by the shim's translation units. Not part of the C API.
#pragma once
#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>
#include <atomic>
#include <exception>
#include <string>
#include <torch/version.h>
#include "sr4g_torch.h"

namespace sr4g {

// Optional arguments of ATen ops: c10::optional in libtorch 1.x, std::optional (c10::optional became an alias of it
// in 2.4/2.5 and is being removed) in recent 2.x.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
template <class T>
using Opt = std::optional<T>;
inline constexpr auto None = std::nullopt;
#else
template <class T>
using Opt = c10::optional<T>;
inline constexpr auto None = c10::nullopt;
#endif

// Live handle count, for leak tests. Relaxed: it is a statistic, not a synchronisation point.
extern std::atomic<int64_t> live;

// The last error of this thread. Returned by c_str(): stays valid until the next failure on this thread, which is
// all Java needs because it copies the message before making another call.
const char* set_error(const char* msg);

inline at::Tensor& T(sr4g_t h) {
  if (h == nullptr) throw std::invalid_argument("null tensor handle");
  return *static_cast<at::Tensor*>(h);
}
// Optional tensor argument: NULL means "absent" (bias, mask, ...).
inline Opt<at::Tensor> opt(sr4g_t h) {
  if (h == nullptr) return None;
  return *static_cast<at::Tensor*>(h);
}
inline sr4g_t wrap(at::Tensor&& t) {
  auto* p = new at::Tensor(std::move(t));
  live.fetch_add(1, std::memory_order_relaxed);
  return p;
}
// Whether CPU autocast is on for this thread (sr4g_train.cpp; the autocast API differs between libtorch versions).
bool cpu_autocast_enabled();
at::ScalarType dtype_of(int32_t code);
int32_t code_of(at::ScalarType t);
at::Device device_of(int32_t code);
int32_t code_of(const at::Device& d);
inline at::IntArrayRef ints(const int64_t* p, int64_t n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }
inline at::TensorOptions options(int32_t dtype, int32_t device) {
  return at::TensorOptions().dtype(dtype_of(dtype)).device(device_of(device));
}

}  // namespace sr4g

// Every exported function body goes through this: c10::Error keeps its message without the C++ backtrace (the Java
// exception has its own stack), anything else keeps what(), and `...` catches the rest so nothing unwinds into the JVM.
#define SR4G_TRY try {
#define SR4G_END                                                         \
  return nullptr;                                                        \
  }                                                                      \
  catch (const c10::Error& e) {                                          \
    return sr4g::set_error(e.what_without_backtrace());                  \
  }                                                                      \
  catch (const std::exception& e) {                                      \
    return sr4g::set_error(e.what());                                    \
  }                                                                      \
  catch (...) {                                                          \
    return sr4g::set_error("unknown C++ exception in sr4g native layer"); \
  }
