// Autograd, the optimizer, mixed precision and the CUDA helpers that go through libtorch.
#include "sr4g_internal.h"

#include <ATen/autocast_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <ATen/ops/_amp_foreach_non_finite_check_and_unscale.h>
#include <ATen/ops/full.h>
#include <ATen/ops/isfinite.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/zeros.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/version.h>
#include <cmath>
#include <stdexcept>
#ifdef SR4G_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

using namespace sr4g;

namespace {
// Autocast state of one device type (0 = CPU, 1 = CUDA). torch 2.4 replaced the per-device setters with
// device-type-generic ones; 1.x and 2.0-2.3 have is_enabled/set_enabled (CUDA) and is_cpu_enabled/set_cpu_enabled.
c10::DeviceType autocast_device(int32_t device_type) {
  if (device_type == 0) return c10::DeviceType::CPU;
  if (device_type == 1) return c10::DeviceType::CUDA;
  throw std::invalid_argument("autocast device type must be 0 (cpu) or 1 (cuda)");
}
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocast_enabled(c10::DeviceType d) { return at::autocast::is_autocast_enabled(d); }
at::ScalarType autocast_dtype(c10::DeviceType d) { return at::autocast::get_autocast_dtype(d); }
void autocast_set(c10::DeviceType d, bool on, at::ScalarType dtype) {
  at::autocast::set_autocast_dtype(d, dtype);
  at::autocast::set_autocast_enabled(d, on);
}
#else
bool autocast_enabled(c10::DeviceType d) {
  return d == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
}
at::ScalarType autocast_dtype(c10::DeviceType d) {
  return d == c10::DeviceType::CPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
}
void autocast_set(c10::DeviceType d, bool on, at::ScalarType dtype) {
  if (d == c10::DeviceType::CPU) {
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(on);
  } else {
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(on);
  }
}
#endif
// The lower-precision types torch.autocast accepts: CUDA bf16 and f16; CPU bf16 (f16 only from torch 2.4 on, where
// the generic API above exists — torch 1.13's Python autocast warns and disables itself for CPU f16).
void autocast_check(c10::DeviceType d, at::ScalarType dtype) {
  if (dtype != at::kBFloat16 && dtype != at::kHalf)
    throw std::invalid_argument("autocast dtype must be bfloat16 or float16");
#if !(TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4))
  if (d == c10::DeviceType::CPU && dtype == at::kHalf)
    throw std::invalid_argument(
        "CPU autocast supports only bfloat16 in libtorch < 2.4; float16 autocast needs CUDA (or libtorch >= 2.4)");
#else
  (void)d;
#endif
}
}  // namespace

bool sr4g::cpu_autocast_enabled() { return autocast_enabled(c10::DeviceType::CPU); }

extern "C" {

sr4g_err sr4g_cuda_built(int32_t* out) {
  SR4G_TRY
#ifdef SR4G_WITH_CUDA
  *out = 1;
#else
  *out = 0;
#endif
  SR4G_END
}

sr4g_err sr4g_set_requires_grad(sr4g_t a, int32_t on) {
  SR4G_TRY
  T(a).set_requires_grad(on != 0);
  SR4G_END
}

sr4g_err sr4g_backward(sr4g_t loss) {
  SR4G_TRY
  T(loss).backward();
  SR4G_END
}

sr4g_err sr4g_backward_with(const sr4g_t* outputs, const sr4g_t* grad_outputs, int64_t n) {
  SR4G_TRY
  if (n < 1) throw std::invalid_argument("backward_with: no outputs");
  std::vector<at::Tensor> outs, grads;
  outs.reserve(n);
  grads.reserve(n);
  for (int64_t i = 0; i < n; i++) {
    outs.push_back(T(outputs[i]));
    // An undefined gradient makes autograd use 1 for a one-element output (and refuse any other).
    grads.push_back(grad_outputs != nullptr && grad_outputs[i] != nullptr ? T(grad_outputs[i]) : at::Tensor());
  }
  // Checks shapes, dtypes and devices of the gradients ("Mismatch in shape: grad_output[0] ...") before running.
  // Only the first two arguments: the optional ones are c10::optional in 1.x and std::optional in recent 2.x.
  torch::autograd::backward(outs, grads);
  SR4G_END
}

sr4g_err sr4g_grad(sr4g_t a, sr4g_t* out) {
  SR4G_TRY
  const at::Tensor& g = T(a).grad();
  *out = g.defined() ? wrap(at::Tensor(g)) : nullptr;
  SR4G_END
}

sr4g_err sr4g_zero_grad(const sr4g_t* ts, int64_t n) {
  SR4G_TRY
  // set_to_none, torch's default since 2.0: the next backward allocates fresh gradients.
  for (int64_t i = 0; i < n; i++) T(ts[i]).mutable_grad().reset();
  SR4G_END
}

sr4g_err sr4g_set_grad_enabled(int32_t on, int32_t* previous) {
  SR4G_TRY
  // GradMode is thread-local in libtorch, which matches TensorScope's per-thread model on the Java side.
  *previous = c10::GradMode::is_enabled() ? 1 : 0;
  c10::GradMode::set_enabled(on != 0);
  SR4G_END
}

sr4g_err sr4g_clip_grad_norm(const sr4g_t* params, int64_t n, double max_norm, double* total_norm) {
  SR4G_TRY
  // torch.nn.utils.clip_grad_norm_ (norm_type 2): the norm of the per-tensor norms, then one common scale.
  c10::NoGradGuard no_grad;
  std::vector<at::Tensor> grads, norms;
  for (int64_t i = 0; i < n; i++) {
    const at::Tensor& g = T(params[i]).grad();
    if (g.defined()) {
      grads.push_back(g);
      norms.push_back(g.norm(2));
    }
  }
  if (grads.empty()) {
    *total_norm = 0.0;
    return nullptr;
  }
  at::Tensor total = at::stack(norms).norm(2);
  at::Tensor coef = (total.add(1e-6).reciprocal().mul(max_norm)).clamp_max(1.0);
  for (auto& g : grads) g.mul_(coef.to(g.device()));
  *total_norm = total.item<double>();
  SR4G_END
}

sr4g_err sr4g_adamw_step(const sr4g_t* params, const sr4g_t* exp_avg, const sr4g_t* exp_avg_sq, int64_t n, double lr,
                         double beta1, double beta2, double eps, double weight_decay, int64_t step) {
  SR4G_TRY
  if (step < 1) throw std::invalid_argument("AdamW step numbers start at 1");
  // torch.optim.AdamW, _single_tensor_adamw, op for op (same rounding): decoupled decay, moments, bias correction.
  c10::NoGradGuard no_grad;
  const double bc1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  const double bc2_sqrt = std::sqrt(1.0 - std::pow(beta2, static_cast<double>(step)));
  const double step_size = lr / bc1;
  for (int64_t i = 0; i < n; i++) {
    at::Tensor& p = T(params[i]);
    const at::Tensor& g = p.grad();
    if (!g.defined()) continue;  // as torch: parameters without a gradient are left alone
    at::Tensor& m = T(exp_avg[i]);
    at::Tensor& v = T(exp_avg_sq[i]);
    p.mul_(1.0 - lr * weight_decay);
#if TORCH_VERSION_MAJOR >= 2
    m.lerp_(g, 1.0 - beta1);
#else
    m.mul_(beta1).add_(g, 1.0 - beta1);
#endif
    v.mul_(beta2).addcmul_(g, g, 1.0 - beta2);
    at::Tensor denom = v.sqrt().div_(bc2_sqrt).add_(eps);
    p.addcdiv_(m, denom, -step_size);
  }
  SR4G_END
}

sr4g_err sr4g_cuda_device_count(int64_t* out) {
  SR4G_TRY
  // The hooks answer 0 when libtorch has no CUDA or no driver, without needing CUDA headers here.
  *out = at::detail::getCUDAHooks().getNumGPUs();
  SR4G_END
}

sr4g_err sr4g_cuda_synchronize(int32_t device) {
  SR4G_TRY
#ifdef SR4G_WITH_CUDA
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(device));
  c10::cuda::device_synchronize();
#else
  (void)device;
  throw std::runtime_error("this sr4g native library was built against a libtorch without CUDA");
#endif
  SR4G_END
}

sr4g_err sr4g_cuda_memory(int32_t device, int64_t* allocated, int64_t* peak) {
  SR4G_TRY
#ifdef SR4G_WITH_CUDA
  auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
  // index 0 is StatType::AGGREGATE in every libtorch version (the enum moved namespaces in 2.x).
  *allocated = stats.allocated_bytes[0].current;
  *peak = stats.allocated_bytes[0].peak;
#else
  (void)device;
  (void)allocated;
  (void)peak;
  throw std::runtime_error("this sr4g native library was built against a libtorch without CUDA");
#endif
  SR4G_END
}

sr4g_err sr4g_autocast_enter(int32_t device_type, int32_t dtype, int32_t* prev_on, int32_t* prev_dtype) {
  SR4G_TRY
  // torch.autocast.__enter__: remember the previous state, set (enabled, dtype), count the nesting.
  c10::DeviceType d = autocast_device(device_type);
  at::ScalarType t = dtype_of(dtype);
  autocast_check(d, t);
  *prev_on = autocast_enabled(d) ? 1 : 0;
  *prev_dtype = code_of(autocast_dtype(d));
  autocast_set(d, true, t);
  at::autocast::increment_nesting();
  SR4G_END
}

sr4g_err sr4g_autocast_exit(int32_t device_type, int32_t prev_on, int32_t prev_dtype) {
  SR4G_TRY
  // torch.autocast.__exit__: leaving the outermost region drops the cached lower-precision weight casts, then the
  // previous state comes back.
  c10::DeviceType d = autocast_device(device_type);
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  autocast_set(d, prev_on != 0, dtype_of(prev_dtype));
  SR4G_END
}

sr4g_err sr4g_autocast_state(int32_t device_type, int32_t* on, int32_t* dtype) {
  SR4G_TRY
  c10::DeviceType d = autocast_device(device_type);
  *on = autocast_enabled(d) ? 1 : 0;
  *dtype = code_of(autocast_dtype(d));
  SR4G_END
}

sr4g_err sr4g_amp_unscale(const sr4g_t* params, int64_t n, double inv_scale, int32_t* found_inf) {
  SR4G_TRY
  // GradScaler.unscale_: every gradient times inv_scale in place; found_inf = 1 when any element was inf or NaN
  // (checked before the multiply, as torch's kernel does). CUDA gradients go through torch's fused kernel per device
  // (one launch for the lot); CPU gradients through isfinite().all() and mul_ (the fused op has no CPU kernel in 1.x).
  c10::NoGradGuard no_grad;
  // Validate every gradient first: a refusal must leave all of them untouched (a retry would otherwise unscale the
  // ones before the bad tensor twice).
  for (int64_t i = 0; i < n; i++) {
    const at::Tensor& g = T(params[i]).grad();
    if (g.defined() && (g.scalar_type() == at::kHalf || g.scalar_type() == at::kBFloat16))
      throw std::invalid_argument("GradScaler: refusing to unscale low-precision gradients (master weights must be float32)");
  }
  bool found = false;
  std::vector<std::pair<at::Device, std::vector<at::Tensor>>> cuda;
  for (int64_t i = 0; i < n; i++) {
    const at::Tensor& g = T(params[i]).grad();
    if (!g.defined()) continue;
    if (g.is_cuda()) {
      auto it = cuda.begin();
      while (it != cuda.end() && it->first != g.device()) ++it;
      if (it == cuda.end()) it = cuda.insert(cuda.end(), {g.device(), {}});
      it->second.push_back(g);
      continue;
    }
    if (!at::isfinite(g).all().item<bool>()) found = true;
    if (inv_scale != 1.0) at::Tensor(g).mul_(inv_scale);
  }
  for (auto& [dev, grads] : cuda) {
    auto opts = at::TensorOptions().dtype(at::kFloat).device(dev);
    at::Tensor found_t = at::zeros({1}, opts);
    at::Tensor inv_t = at::full({1}, inv_scale, opts);
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_t, inv_t);
    if (found_t.item<float>() != 0.0f) found = true;
  }
  *found_inf = found ? 1 : 0;
  SR4G_END
}

}  // extern "C"
