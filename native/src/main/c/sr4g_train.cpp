// Autograd, the optimizer, mixed precision and the CUDA helpers that go through libtorch.
#include "sr4g_internal.h"

#include <ATen/autocast_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <ATen/ops/stack.h>
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
// Autocast API: torch 2.4 replaced the CUDA-specific setters with device-type-generic ones.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocast_enabled() { return at::autocast::is_autocast_enabled(at::kCUDA); }
void autocast_set(bool on) {
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCUDA, on);
}
#else
bool autocast_enabled() { return at::autocast::is_enabled(); }
void autocast_set(bool on) {
  at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  at::autocast::set_enabled(on);
}
#endif
}  // namespace

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

sr4g_err sr4g_autocast_bf16(int32_t on, int32_t* previous) {
  SR4G_TRY
  *previous = autocast_enabled() ? 1 : 0;
  autocast_set(on != 0);
  // Leaving the outermost autocast region drops the cached bf16 weight casts, as torch.autocast.__exit__ does.
  if (!on) at::autocast::clear_cache();
  SR4G_END
}

}  // extern "C"
