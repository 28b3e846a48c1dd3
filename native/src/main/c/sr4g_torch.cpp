// Tensor creation, read-back and the forward ops. Per-operator ATen headers only: <torch/torch.h> would cost ~4x the
// compile time on the 2-core build machines.
#include "sr4g_internal.h"

#include <ATen/ops/abs.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/baddbmm.h>
#include <ATen/ops/bmm.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/chunk.h>
#include <ATen/ops/clamp.h>
#include <ATen/ops/conv2d.h>
#include <ATen/ops/cos.h>
#include <ATen/ops/embedding.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/exp.h>
#include <ATen/ops/full.h>
#include <ATen/ops/gelu.h>
#include <ATen/ops/group_norm.h>
#include <ATen/ops/index_select.h>
#include <ATen/ops/layer_norm.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/log.h>
#include <ATen/ops/matmul.h>
#include <ATen/ops/mean.h>
#include <ATen/ops/mse_loss.h>
#include <ATen/ops/pow.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/relu.h>
#include <ATen/ops/rsqrt.h>
#include <ATen/ops/sigmoid.h>
#include <ATen/ops/silu.h>
#include <ATen/ops/sin.h>
#include <ATen/ops/softmax.h>
#include <ATen/ops/split.h>
#include <ATen/ops/sqrt.h>
#include <ATen/ops/sum.h>
#include <ATen/ops/tanh.h>
#include <ATen/ops/upsample_nearest2d.h>
#include <ATen/ops/where.h>
#include <ATen/Context.h>
#include <ATen/core/Generator.h>
#include <torch/version.h>
#include <ATen/ops/mkldnn_convolution.h>
#include <ATen/ops/mkldnn_reorder_conv2d_weight.h>
#include <ATen/ops/to_mkldnn.h>
#include <c10/core/GradMode.h>
#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <malloc.h>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace sr4g {

std::atomic<int64_t> live{0};

const char* set_error(const char* msg) {
  static thread_local std::string last;
  last = (msg != nullptr && *msg != '\0') ? msg : "unknown error";
  return last.c_str();
}

at::ScalarType dtype_of(int32_t code) {
  switch (code) {
    case SR4G_DTYPE_F32: return at::kFloat;
    case SR4G_DTYPE_F16: return at::kHalf;
    case SR4G_DTYPE_BF16: return at::kBFloat16;
    case SR4G_DTYPE_I64: return at::kLong;
    case SR4G_DTYPE_BOOL: return at::kBool;
  }
  throw std::invalid_argument("unknown dtype code " + std::to_string(code));
}

int32_t code_of(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return SR4G_DTYPE_F32;
    case at::kHalf: return SR4G_DTYPE_F16;
    case at::kBFloat16: return SR4G_DTYPE_BF16;
    case at::kLong: return SR4G_DTYPE_I64;
    case at::kBool: return SR4G_DTYPE_BOOL;
    default: return 100 + static_cast<int32_t>(t);  // a dtype Java has no name for (e.g. from an op); Java reports it
  }
}

at::Device device_of(int32_t code) {
  if (code == SR4G_DEVICE_CPU) return at::Device(at::kCPU);
  if (code >= 0) return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(code));
  throw std::invalid_argument("unknown device code " + std::to_string(code));
}

int32_t code_of(const at::Device& d) {
  if (d.is_cpu()) return SR4G_DEVICE_CPU;
  if (d.is_cuda()) return d.has_index() ? d.index() : 0;
  return -100;
}

}  // namespace sr4g

using namespace sr4g;

extern "C" {

sr4g_err sr4g_version(const char** out) {
  SR4G_TRY
  *out = TORCH_VERSION;
  SR4G_END
}

int64_t sr4g_live_tensors(void) { return live.load(std::memory_order_relaxed); }

sr4g_err sr4g_threads(int32_t* intra_op, int32_t* inter_op) {
  SR4G_TRY
  *intra_op = at::get_num_threads();
  *inter_op = at::get_num_interop_threads();
  SR4G_END
}

#define SR4G_NAME_CASE_(name, code) \
  case code: *out = #name; break;
sr4g_err sr4g_code_name(int32_t list, int32_t code, const char** out) {
  SR4G_TRY
  *out = nullptr;
  switch (list) {
    case SR4G_LIST_DTYPE: switch (code) { SR4G_DTYPES(SR4G_NAME_CASE_) } break;
    case SR4G_LIST_UNARY: switch (code) { SR4G_UNARY_OPS(SR4G_NAME_CASE_) } break;
    case SR4G_LIST_BINARY: switch (code) { SR4G_BINARY_OPS(SR4G_NAME_CASE_) } break;
    case SR4G_LIST_SCALAR: switch (code) { SR4G_SCALAR_OPS(SR4G_NAME_CASE_) } break;
    case SR4G_LIST_REDUCE: switch (code) { SR4G_REDUCE_OPS(SR4G_NAME_CASE_) } break;
    default: throw std::invalid_argument("unknown code list " + std::to_string(list));
  }
  SR4G_END
}
#undef SR4G_NAME_CASE_

sr4g_err sr4g_special_codes(int32_t* dtype_keep, int32_t* device_cpu, int32_t* device_keep) {
  SR4G_TRY
  *dtype_keep = SR4G_DTYPE_KEEP;
  *device_cpu = SR4G_DEVICE_CPU;
  *device_keep = SR4G_DEVICE_KEEP;
  SR4G_END
}

// The BLAS libtorch's matrix products run on: Debian's libtorch links the generic libblas.so.3, which is the reference
// (netlib) BLAS unless a faster one (libopenblas0-pthread) provides it through Debian's alternatives. OpenBLAS keeps
// its own thread pool (one thread per logical CPU by default); it is sized to libtorch's intra-op threads once, when
// this library is loaded, so that one thread budget governs both (a process's --threads, or libtorch's default).
namespace {

void* loaded_blas() { return dlopen("libblas.so.3", RTLD_LAZY | RTLD_NOLOAD); }

struct BlasThreadsFollowLibtorch {
  BlasThreadsFollowLibtorch() {
    void* h = loaded_blas();
    if (h == nullptr) return;
    using set_fn = void (*)(int);
    if (auto f = reinterpret_cast<set_fn>(dlsym(h, "openblas_set_num_threads"))) f(at::get_num_threads());
    dlclose(h);
  }
} blas_threads_follow_libtorch;

}  // namespace

sr4g_err sr4g_blas(const char** library, int32_t* threads) {
  SR4G_TRY
  static thread_local std::string where;
  *library = nullptr;
  *threads = -1;
  void* h = loaded_blas();
  if (h == nullptr) return nullptr;  // libtorch carries its BLAS inside (MKL) or none
  Dl_info info{};
  void* sgemm = dlsym(h, "sgemm_");
  if (sgemm != nullptr && dladdr(sgemm, &info) != 0 && info.dli_fname != nullptr) {
    char* real = realpath(info.dli_fname, nullptr);  // the alternative the soname points to
    where = real != nullptr ? real : info.dli_fname;
    free(real);
    *library = where.c_str();
  }
  using get_fn = int (*)();
  if (auto g = reinterpret_cast<get_fn>(dlsym(h, "openblas_get_num_threads"))) *threads = g();
  dlclose(h);
  SR4G_END
}

sr4g_err sr4g_release_free_memory(void) {
  SR4G_TRY
  // tcmalloc's C entry, looked up at run time: the library is preloaded by the launcher, not linked.
  using release_fn = void (*)();
  if (auto f = reinterpret_cast<release_fn>(dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseFreeMemory"))) f();
  else malloc_trim(0);
  SR4G_END
}

sr4g_err sr4g_free(sr4g_t t) {
  SR4G_TRY
  if (t != nullptr) {
    delete static_cast<at::Tensor*>(t);
    live.fetch_sub(1, std::memory_order_relaxed);
  }
  SR4G_END
}

sr4g_err sr4g_free_many(const sr4g_t* ts, int64_t n) {
  SR4G_TRY
  for (int64_t i = 0; i < n; i++) {
    if (ts[i] != nullptr) {
      delete static_cast<at::Tensor*>(ts[i]);
      live.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  SR4G_END
}

sr4g_err sr4g_info(sr4g_t t, int64_t* ndim, int64_t* dims, int32_t* dtype, int32_t* device, int32_t* requires_grad) {
  SR4G_TRY
  const at::Tensor& a = T(t);
  if (!a.defined()) throw std::invalid_argument("undefined tensor");
  int64_t n = a.dim();
  if (n > 16) throw std::invalid_argument("tensors of more than 16 dimensions are not supported");
  *ndim = n;
  for (int64_t i = 0; i < n; i++) dims[i] = a.size(i);
  *dtype = code_of(a.scalar_type());
  *device = code_of(a.device());
  *requires_grad = a.requires_grad() ? 1 : 0;
  SR4G_END
}

sr4g_err sr4g_from_data(const void* data, const int64_t* shape, int64_t ndim, int32_t dtype, int32_t device, sr4g_t* out) {
  SR4G_TRY
  // Copy out of the Java-owned memory at once: the tensor must not alias memory whose lifetime Java controls.
  at::Tensor cpu = at::empty(ints(shape, ndim), options(dtype, SR4G_DEVICE_CPU));
  std::memcpy(cpu.data_ptr(), data, cpu.nbytes());
  *out = wrap(device == SR4G_DEVICE_CPU ? std::move(cpu) : cpu.to(device_of(device)));
  SR4G_END
}

sr4g_err sr4g_to_data(sr4g_t t, void* dst, int64_t nbytes) {
  SR4G_TRY
  const at::Tensor& src = T(t);
  at::Tensor c = (src.is_mkldnn() ? src.to_dense() : src.detach().to(at::kCPU)).contiguous();
  if (static_cast<int64_t>(c.nbytes()) != nbytes)
    throw std::invalid_argument("read-back size mismatch: tensor has " + std::to_string(c.nbytes()) +
                                " bytes, destination " + std::to_string(nbytes));
  std::memcpy(dst, c.data_ptr(), c.nbytes());
  SR4G_END
}

sr4g_err sr4g_full(const int64_t* shape, int64_t ndim, double value, int32_t dtype, int32_t device, sr4g_t* out) {
  SR4G_TRY
  *out = wrap(at::full(ints(shape, ndim), value, options(dtype, device)));
  SR4G_END
}

sr4g_err sr4g_arange(double start, double end, double step, int32_t dtype, int32_t device, sr4g_t* out) {
  SR4G_TRY
  *out = wrap(at::arange(start, end, step, options(dtype, device)));
  SR4G_END
}

sr4g_err sr4g_generator_new(int32_t device, uint64_t seed, sr4g_gen* out) {
  SR4G_TRY
  // A private clone of the device's default generator: seeded runs do not disturb (or get disturbed by) global RNG use.
  at::Generator def = at::globalContext().defaultGenerator(device_of(device));
  at::Generator g;
  {
    std::lock_guard<std::mutex> lock(def.mutex());
    g = def.clone();
  }
  g.set_current_seed(seed);
  *out = new at::Generator(std::move(g));
  SR4G_END
}

sr4g_err sr4g_generator_free(sr4g_gen g) {
  SR4G_TRY
  delete static_cast<at::Generator*>(g);
  SR4G_END
}

sr4g_err sr4g_random(const int64_t* shape, int64_t ndim, sr4g_gen g, int32_t kind, int32_t dtype, int32_t device, sr4g_t* out) {
  SR4G_TRY
  Opt<at::Generator> gen;
  if (g != nullptr) gen = *static_cast<at::Generator*>(g);
  auto o = options(dtype, device);
  *out = wrap(kind == 0 ? at::randn(ints(shape, ndim), gen, o) : at::rand(ints(shape, ndim), gen, o));
  SR4G_END
}

sr4g_err sr4g_item(sr4g_t t, double* out) {
  SR4G_TRY
  *out = T(t).item<double>();
  SR4G_END
}

// The op codes are the lists of sr4g_torch.h (SR4G_UNARY_OPS …).
sr4g_err sr4g_unary(int32_t op, sr4g_t a_, sr4g_t* out) {
  SR4G_TRY
  const at::Tensor& a = T(a_);
  at::Tensor r;
  switch (op) {
    case SR4G_UNARY_NEG: r = a.neg(); break;
    case SR4G_UNARY_EXP: r = at::exp(a); break;
    case SR4G_UNARY_SQRT: r = at::sqrt(a); break;
    case SR4G_UNARY_SIN: r = at::sin(a); break;
    case SR4G_UNARY_COS: r = at::cos(a); break;
    case SR4G_UNARY_SILU: r = at::silu(a); break;
    case SR4G_UNARY_GELU: r = at::gelu(a); break;
    case SR4G_UNARY_GELU_TANH: r = at::gelu(a, "tanh"); break;
    case SR4G_UNARY_SIGMOID: r = at::sigmoid(a); break;
    case SR4G_UNARY_CONTIGUOUS: r = a.contiguous(); break;
    case SR4G_UNARY_RELU: r = at::relu(a); break;
    case SR4G_UNARY_TANH: r = at::tanh(a); break;
    case SR4G_UNARY_LOG: r = at::log(a); break;
    case SR4G_UNARY_ABS: r = at::abs(a); break;
    case SR4G_UNARY_SUM: r = at::sum(a); break;
    case SR4G_UNARY_MEAN: r = at::mean(a); break;
    case SR4G_UNARY_DETACH: r = a.detach(); break;
    case SR4G_UNARY_CLONE: r = a.clone(); break;
    case SR4G_UNARY_RSQRT: r = at::rsqrt(a); break;
    case SR4G_UNARY_SQUARE: r = a.square(); break;
    default: throw std::invalid_argument("unknown unary op " + std::to_string(op));
  }
  *out = wrap(std::move(r));
  SR4G_END
}

sr4g_err sr4g_binary(int32_t op, sr4g_t a_, sr4g_t b_, sr4g_t* out) {
  SR4G_TRY
  const at::Tensor& a = T(a_);
  const at::Tensor& b = T(b_);
  at::Tensor r;
  switch (op) {
    case SR4G_BINARY_ADD: r = a.add(b); break;
    case SR4G_BINARY_SUB: r = a.sub(b); break;
    case SR4G_BINARY_MUL: r = a.mul(b); break;
    case SR4G_BINARY_DIV: r = a.div(b); break;
    case SR4G_BINARY_MATMUL: r = at::matmul(a, b); break;
    case SR4G_BINARY_BMM: r = at::bmm(a, b); break;
    case SR4G_BINARY_MSE_LOSS: r = at::mse_loss(a, b); break;  // mean reduction, as torch.nn.functional.mse_loss
    case SR4G_BINARY_POW: r = at::pow(a, b); break;
    default: throw std::invalid_argument("unknown binary op " + std::to_string(op));
  }
  *out = wrap(std::move(r));
  SR4G_END
}

sr4g_err sr4g_scalar(int32_t op, sr4g_t a_, double s, sr4g_t* out) {
  SR4G_TRY
  const at::Tensor& a = T(a_);
  at::Tensor r;
  switch (op) {
    case SR4G_SCALAR_ADD: r = a.add(s); break;
    case SR4G_SCALAR_SUB: r = a.sub(s); break;
    case SR4G_SCALAR_MUL: r = a.mul(s); break;
    case SR4G_SCALAR_DIV: r = a.div(s); break;
    case SR4G_SCALAR_POW: r = at::pow(a, s); break;
    case SR4G_SCALAR_RSUB: r = a.neg().add(s); break;  // s - a
    default: throw std::invalid_argument("unknown scalar op " + std::to_string(op));
  }
  *out = wrap(std::move(r));
  SR4G_END
}

sr4g_err sr4g_clamp(sr4g_t a, double lo, double hi, int32_t has_lo, int32_t has_hi, sr4g_t* out) {
  SR4G_TRY
  Opt<at::Scalar> l, h;
  if (has_lo) l = lo;
  if (has_hi) h = hi;
  *out = wrap(at::clamp(T(a), l, h));
  SR4G_END
}

sr4g_err sr4g_reduce(int32_t op, sr4g_t a, const int64_t* dims, int64_t ndims, int32_t keepdim, sr4g_t* out) {
  SR4G_TRY
  at::IntArrayRef d = ints(dims, ndims);
  switch (op) {
    case SR4G_REDUCE_SUM: *out = wrap(at::sum(T(a), d, keepdim != 0)); break;
    case SR4G_REDUCE_MEAN: *out = wrap(at::mean(T(a), d, keepdim != 0)); break;
    default: throw std::invalid_argument("unknown reduction " + std::to_string(op));
  }
  SR4G_END
}

sr4g_err sr4g_softmax(sr4g_t a, int64_t dim, sr4g_t* out) {
  SR4G_TRY
  *out = wrap(at::softmax(T(a), dim));
  SR4G_END
}

sr4g_err sr4g_baddbmm(sr4g_t input, sr4g_t b1, sr4g_t b2, double beta, double alpha, sr4g_t* out) {
  SR4G_TRY
  *out = wrap(at::baddbmm(T(input), T(b1), T(b2), beta, alpha));
  SR4G_END
}

sr4g_err sr4g_where(sr4g_t cond, sr4g_t a, sr4g_t b, sr4g_t* out) {
  SR4G_TRY
  *out = wrap(at::where(T(cond), T(a), T(b)));
  SR4G_END
}

sr4g_err sr4g_linear(sr4g_t x, sr4g_t w, sr4g_t b, sr4g_t* out) {
  SR4G_TRY
  *out = wrap(at::linear(T(x), T(w), opt(b)));
  SR4G_END
}

// The same product one sample (index of dim 0) at a time: a BLAS's result for a row can depend on how many rows the
// call has (OpenBLAS blocks and unrolls over them: 2 and 6 rows of the same input give other last bits), so an image
// sampled in a batch would differ from the same image alone. Per sample, every call has the shape of batch 1.
sr4g_err sr4g_linear_per_sample(sr4g_t x, sr4g_t w, sr4g_t b, sr4g_t* out) {
  SR4G_TRY
  const at::Tensor& in = T(x);
  if (in.dim() < 2 || in.size(0) <= 1) {
    *out = wrap(at::linear(in, T(w), opt(b)));
  } else {
    std::vector<at::Tensor> parts;
    parts.reserve(static_cast<size_t>(in.size(0)));
    for (int64_t i = 0; i < in.size(0); i++) parts.push_back(at::linear(in.narrow(0, i, 1), T(w), opt(b)));
    *out = wrap(at::cat(parts, 0));
  }
  SR4G_END
}

// A packed weight (sr4g_conv2d_pack: oneDNN's blocked layout, an mkldnn tensor) runs at::mkldnn_convolution, which
// uses it as it is instead of reordering the dense weight on every call, as at::conv2d does. That needs a CPU input of
// the weight's dtype, no autocast and nothing to differentiate; otherwise the dense values are recovered and the plain
// path runs (correct, slower: inference-only models never take it).
sr4g_err sr4g_conv2d(sr4g_t x, sr4g_t w, sr4g_t b, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t groups, sr4g_t* out) {
  SR4G_TRY
  int64_t stride[2] = {sh, sw}, pad[2] = {ph, pw}, dil[2] = {1, 1};
  const at::Tensor &in = T(x), &weight = T(w);
  if (!weight.is_mkldnn()) {
    *out = wrap(at::conv2d(in, weight, opt(b), stride, pad, dil, groups));
  } else {
    const bool grad = at::GradMode::is_enabled() && (in.requires_grad() || (b != nullptr && T(b).requires_grad()));
    if (in.device().is_cpu() && in.scalar_type() == weight.scalar_type() && !grad && !cpu_autocast_enabled())
      *out = wrap(at::mkldnn_convolution(in.contiguous(), weight, opt(b), pad, stride, dil, groups));
    else
      *out = wrap(at::conv2d(in, weight.to_dense(), opt(b), stride, pad, dil, groups));
  }
  SR4G_END
}

sr4g_err sr4g_conv2d_pack(sr4g_t w, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t groups, sr4g_t* out) {
  SR4G_TRY
  const at::Tensor& weight = T(w);
  if (!weight.device().is_cpu()) throw std::invalid_argument("conv2d packing is for CPU weights (oneDNN)");
  if (weight.dim() != 4) throw std::invalid_argument("conv2d packing needs a 4-d weight [out, in/groups, kh, kw]");
  int64_t stride[2] = {sh, sw}, pad[2] = {ph, pw}, dil[2] = {1, 1};
  *out = wrap(at::mkldnn_reorder_conv2d_weight(weight.detach().contiguous().to_mkldnn(), pad, stride, dil, groups));
  SR4G_END
}

sr4g_err sr4g_is_packed(sr4g_t a, int32_t* out) {
  SR4G_TRY
  *out = T(a).is_mkldnn() ? 1 : 0;
  SR4G_END
}

// A bf16/f16 input with float32 affine weights (what autocast produces) is normalised in float32: CUDA autocast's
// fp32 policy for group_norm/layer_norm, which libtorch 1.13's CPU autocast lacks (its CPU kernels refuse the mix).
static at::Tensor norm_input(const at::Tensor& x, sr4g_t w) {
  const bool low = x.scalar_type() == at::kBFloat16 || x.scalar_type() == at::kHalf;
  return low && w != nullptr && T(w).scalar_type() == at::kFloat ? x.to(at::kFloat) : x;
}

sr4g_err sr4g_group_norm(sr4g_t x, int64_t groups, sr4g_t w, sr4g_t b, double eps, sr4g_t* out) {
  SR4G_TRY
  *out = wrap(at::group_norm(norm_input(T(x), w), groups, opt(w), opt(b), eps));
  SR4G_END
}

sr4g_err sr4g_layer_norm(sr4g_t x, const int64_t* shape, int64_t n, sr4g_t w, sr4g_t b, double eps, sr4g_t* out) {
  SR4G_TRY
  *out = wrap(at::layer_norm(norm_input(T(x), w), ints(shape, n), opt(w), opt(b), eps));
  SR4G_END
}

sr4g_err sr4g_embedding(sr4g_t weight, sr4g_t indices, sr4g_t* out) {
  SR4G_TRY
  *out = wrap(at::embedding(T(weight), T(indices)));
  SR4G_END
}

sr4g_err sr4g_upsample_nearest2x(sr4g_t x, sr4g_t* out) {
  SR4G_TRY
  const at::Tensor& a = T(x);
  if (a.dim() != 4) throw std::invalid_argument("upsample_nearest2x expects NCHW, got " + std::to_string(a.dim()) + " dims");
  int64_t size[2] = {a.size(2) * 2, a.size(3) * 2};
  *out = wrap(at::upsample_nearest2d(a, size));
  SR4G_END
}

sr4g_err sr4g_reshape(sr4g_t a, const int64_t* shape, int64_t n, int32_t view, sr4g_t* out) {
  SR4G_TRY
  *out = wrap(view ? T(a).view(ints(shape, n)) : T(a).reshape(ints(shape, n)));
  SR4G_END
}

sr4g_err sr4g_permute(sr4g_t a, const int64_t* dims, int64_t n, sr4g_t* out) {
  SR4G_TRY
  *out = wrap(T(a).permute(ints(dims, n)));
  SR4G_END
}

sr4g_err sr4g_transpose(sr4g_t a, int64_t d0, int64_t d1, sr4g_t* out) {
  SR4G_TRY
  *out = wrap(T(a).transpose(d0, d1));
  SR4G_END
}

sr4g_err sr4g_cat(const sr4g_t* ts, int64_t n, int64_t dim, sr4g_t* out) {
  SR4G_TRY
  std::vector<at::Tensor> v;
  v.reserve(n);
  for (int64_t i = 0; i < n; i++) v.push_back(T(ts[i]));
  *out = wrap(at::cat(v, dim));
  SR4G_END
}

sr4g_err sr4g_split(sr4g_t a, int64_t size, int64_t dim, int32_t chunk, sr4g_t* outs, int64_t max, int64_t* nout) {
  SR4G_TRY
  std::vector<at::Tensor> parts = chunk ? at::chunk(T(a), size, dim) : at::split(T(a), size, dim);
  if (static_cast<int64_t>(parts.size()) > max)
    throw std::invalid_argument("split produced " + std::to_string(parts.size()) + " pieces, room for " + std::to_string(max));
  // Allocate every handle only after the op succeeded, so a failure leaks nothing.
  for (size_t i = 0; i < parts.size(); i++) outs[i] = wrap(std::move(parts[i]));
  *nout = static_cast<int64_t>(parts.size());
  SR4G_END
}

sr4g_err sr4g_slice(sr4g_t a, int64_t dim, int64_t start, int64_t end, int64_t step, sr4g_t* out) {
  SR4G_TRY
  *out = wrap(T(a).slice(dim, start, end, step));
  SR4G_END
}

sr4g_err sr4g_index_select(sr4g_t a, int64_t dim, sr4g_t idx, sr4g_t* out) {
  SR4G_TRY
  *out = wrap(at::index_select(T(a), dim, T(idx)));
  SR4G_END
}

sr4g_err sr4g_to(sr4g_t a, int32_t dtype, int32_t device, sr4g_t* out) {
  SR4G_TRY
  const at::Tensor& t = T(a);
  at::ScalarType st = dtype == SR4G_DTYPE_KEEP ? t.scalar_type() : dtype_of(dtype);
  at::Device dev = device == SR4G_DEVICE_KEEP ? t.device() : device_of(device);
  *out = wrap(t.to(dev, st));
  SR4G_END
}

sr4g_err sr4g_channels_last(sr4g_t a, sr4g_t* out) {
  SR4G_TRY
  *out = wrap(T(a).contiguous(at::MemoryFormat::ChannelsLast));
  SR4G_END
}

sr4g_err sr4g_is_channels_last(sr4g_t a, int32_t* out) {
  SR4G_TRY
  *out = T(a).is_contiguous(at::MemoryFormat::ChannelsLast) ? 1 : 0;
  SR4G_END
}

sr4g_err sr4g_copy_(sr4g_t dst, sr4g_t src) {
  SR4G_TRY
  T(dst).copy_(T(src));
  SR4G_END
}

sr4g_err sr4g_data_ptr(sr4g_t a, void** out) {
  SR4G_TRY
  *out = T(a).data_ptr();
  SR4G_END
}

}  // extern "C"
