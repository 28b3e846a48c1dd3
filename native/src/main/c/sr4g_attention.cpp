// Scaled dot-product attention: the one native entry every model calls (UNet, VAE, CLIP text encoder, detector).
//
//   out = softmax(q kᵀ · d^-0.5 + mask) v   over the last two dimensions; q [..., Lq, d], k [..., Lk, d], v [..., Lk, dv]
//
// * libtorch < 2: per query-row chunk, baddbmm with the scale folded in (diffusers' get_attention_scores: beta 0,
//   alpha = scale), the mask applied in place, softmax, bmm. libtorch >= 2: at::scaled_dot_product_attention per chunk
//   (flash / memory-efficient kernels on CUDA).
// * Slicing: the query rows are processed in chunks, so at most one chunk's score matrix [..., rows, Lk] exists at a
//   time. Every output row depends only on its own query row, so a sliced forward computes what the whole one does.
//   With gradients needed and more than one chunk, SlicedAttention (a custom autograd function) saves only q, k, v and
//   the output and recomputes each chunk's probabilities in the backward: the memory of a training step no longer
//   grows with Lq·Lk (a plain backward would keep every chunk's probabilities).
#include "sr4g_internal.h"

#include <ATen/ops/baddbmm.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>
#include <ATen/ops/matmul.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/softmax.h>
#include <ATen/ops/zeros_like.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/version.h>
#if TORCH_VERSION_MAJOR >= 2
#include <ATen/ops/scaled_dot_product_attention.h>
#endif
#include <cmath>
#include <limits>
#include <stdexcept>

using namespace sr4g;

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// Products (rows · cols · contraction) from which libtorch's CPU baddbmm goes through BLAS (see probabilities()).
// Generous: libtorch 1.13's naive loop stops at 400.
constexpr int64_t kBlasPathMinProduct = 4096;

// The mask rows of query rows [r0, r0 + n): a mask with a query dimension of 1 broadcasts as it is.
at::Tensor mask_rows(const at::Tensor& mask, int64_t r0, int64_t n) {
  if (!mask.defined() || mask.dim() < 2 || mask.size(-2) == 1) return mask;
  return mask.narrow(-2, r0, n);
}

// Causal keep-mask of rows [r0, r0 + n) against Lk keys: row r0 + i attends to keys 0 .. r0 + i.
at::Tensor causal_keep(int64_t r0, int64_t n, int64_t lk, const at::Device& device) {
  return at::ones({n, lk}, at::TensorOptions().dtype(at::kBool).device(device)).tril(r0);
}

// softmax(q kᵀ · scale + mask) for query rows [r0, r0 + n) of q (q [..., Lq, d], k [..., Lk, d]): the probabilities,
// shaped [..., n, Lk]. baddbmm with beta 0 folds the scale into the product (as diffusers). Its destination is
// uninitialised memory (diffusers' torch.empty) when the product is large enough for libtorch's BLAS path, which
// ignores the old contents when beta = 0. Below that size libtorch's naive loop computes beta · old + alpha · acc, so a
// NaN in uninitialised memory would survive (NaN · 0): with python3-torch 1.13, a NaN-filled destination stayed NaN
// for 132 of 300 shapes tried, all with n · Lk · d <= 384 (the loop's limit is 400), so products below
// kBlasPathMinProduct start from zeros. Zeroing the large ones cost a memset plus the page faults of its first touch,
// ~6 % of a tiny-UNet training step (perf, bench/results/engine-cpu.md).
at::Tensor probabilities(const at::Tensor& q, const at::Tensor& k, const at::Tensor& mask, bool causal, double scale,
                         int64_t r0, int64_t n) {
  const int64_t lk = k.size(-2), d = q.size(-1);
  at::Tensor qc = q.narrow(-2, r0, n);
  std::vector<int64_t> lead(q.sizes().begin(), q.sizes().end() - 2);
  at::Tensor q3 = qc.reshape({-1, n, d});
  at::Tensor k3 = k.reshape({-1, lk, d});
  const bool blas_path = n * lk * d >= kBlasPathMinProduct;
  at::Tensor s3 = blas_path ? at::empty({q3.size(0), n, lk}, q3.options()) : at::zeros({q3.size(0), n, lk}, q3.options());
  s3.baddbmm_(q3, k3.transpose(1, 2), 0.0, scale);
  std::vector<int64_t> shape = lead;
  shape.push_back(n);
  shape.push_back(lk);
  at::Tensor s = s3.view(shape);
  if (causal) s.masked_fill_(causal_keep(r0, n, lk, s.device()).logical_not(), kNegInf);
  at::Tensor m = mask_rows(mask, r0, n);
  if (m.defined()) {
    if (m.scalar_type() == at::kBool) s.masked_fill_(m.logical_not(), kNegInf);
    else s.add_(m);
  }
  return at::softmax(s, -1);
}

// The output rows [r0, r0 + n).
at::Tensor rows_forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                        bool causal, double scale, int64_t r0, int64_t n) {
#if TORCH_VERSION_MAJOR >= 2
  // The default scale of SDPA is d^-0.5, ours. A chunk that does not start at row 0 needs the causal mask explicitly
  // (is_causal aligns the mask to the chunk's own first row).
  at::Tensor qc = q.narrow(-2, r0, n);
  at::Tensor m = mask_rows(mask, r0, n);
  bool whole = r0 == 0 && n == q.size(-2);
  if (causal && !whole) {
    at::Tensor keep = causal_keep(r0, n, k.size(-2), q.device());
    if (m.defined())
      m = m.scalar_type() == at::kBool ? m.logical_and(keep) : m.masked_fill(keep.logical_not(), kNegInf);
    else
      m = keep;
  }
  Opt<at::Tensor> mo;
  if (m.defined()) mo = m;
  (void)scale;
  return at::scaled_dot_product_attention(qc, k, v, mo, 0.0, causal && whole);
#else
  return at::matmul(probabilities(q, k, mask, causal, scale, r0, n), v);
#endif
}

at::Tensor chunked_forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                           bool causal, double scale, int64_t rows) {
  const int64_t lq = q.size(-2);
  if (rows >= lq) return rows_forward(q, k, v, mask, causal, scale, 0, lq);
  std::vector<at::Tensor> parts;
  for (int64_t r0 = 0; r0 < lq; r0 += rows) parts.push_back(rows_forward(q, k, v, mask, causal, scale, r0, std::min(rows, lq - r0)));
  return at::cat(parts, -2);
}

// Sliced attention with a backward that recomputes each chunk's probabilities instead of keeping them:
//   P = softmax(S), S = q kᵀ·scale + mask, O = P v;  dV = Σ Pᵀ dO,  dS = P ⊙ (dO vᵀ − rowsum(dO ⊙ O)),
//   dQ = dS k · scale,  dK = Σ dSᵀ q · scale.
struct SlicedAttention : public torch::autograd::Function<SlicedAttention> {
  // The mask (which needs no gradient) travels as an optional, not as a tensor argument: autograd would treat an
  // absent (undefined) tensor argument as an input and ask for its device.
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k,
                            const at::Tensor& v, const Opt<at::Tensor>& mask_opt, bool causal, double scale,
                            int64_t rows) {
    at::Tensor mask = mask_opt.has_value() ? *mask_opt : at::Tensor();
    at::Tensor out = chunked_forward(q, k, v, mask, causal, scale, rows);
    ctx->save_for_backward({q, k, v, out});
    if (mask.defined()) ctx->saved_data["mask"] = mask;
    ctx->saved_data["causal"] = causal;
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["rows"] = rows;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &out = saved[3];
    at::Tensor mask = ctx->saved_data.count("mask") ? ctx->saved_data["mask"].toTensor() : at::Tensor();
    const bool causal = ctx->saved_data["causal"].toBool();
    const double scale = ctx->saved_data["scale"].toDouble();
    const int64_t rows = ctx->saved_data["rows"].toInt();
    at::Tensor dout = grads[0];
    const int64_t lq = q.size(-2);
    std::vector<at::Tensor> dq_parts;
    at::Tensor dk = at::zeros_like(k), dv = at::zeros_like(v);
    for (int64_t r0 = 0; r0 < lq; r0 += rows) {
      const int64_t n = std::min(rows, lq - r0);
      at::Tensor p = probabilities(q, k, mask, causal, scale, r0, n);  // [..., n, Lk]
      at::Tensor g = dout.narrow(-2, r0, n);
      at::Tensor o = out.narrow(-2, r0, n);
      dv.add_(at::matmul(p.transpose(-2, -1), g));
      at::Tensor ds = at::matmul(g, v.transpose(-2, -1));
      ds.sub_(g.mul(o).sum(-1, true)).mul_(p);
      dq_parts.push_back(at::matmul(ds, k).mul_(scale));
      dk.add_(at::matmul(ds.transpose(-2, -1), q.narrow(-2, r0, n)).mul_(scale));
    }
    return {at::cat(dq_parts, -2), dk, dv, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// Query rows per chunk: slice > 0 is that many rows, 0 is all of them, < 0 is "auto" with a budget of -slice bytes for
// one chunk's scores (at least one row per chunk).
int64_t rows_per_chunk(const at::Tensor& q, const at::Tensor& k, int64_t slice) {
  const int64_t lq = q.size(-2);
  if (slice > 0) return std::min(slice, lq);
  if (slice == 0) return lq;
#if TORCH_VERSION_MAJOR >= 2
  if (q.is_cuda()) return lq;  // SDPA's flash / memory-efficient kernels never hold the scores
#endif
  const int64_t per_row = q.numel() / std::max<int64_t>(lq * q.size(-1), 1) * k.size(-2) * q.element_size();
  const int64_t budget = -slice;
  if (per_row <= 0 || per_row * lq <= budget) return lq;
  return std::max<int64_t>(1, budget / per_row);
}

}  // namespace

extern "C" {

sr4g_err sr4g_attention(sr4g_t q_, sr4g_t k_, sr4g_t v_, sr4g_t mask_, int32_t causal, int64_t slice, int64_t* chunks,
                        sr4g_t* out) {
  SR4G_TRY
  const at::Tensor &q = T(q_), &k = T(k_), &v = T(v_);
  if (q.dim() < 2 || k.dim() != q.dim() || v.dim() != q.dim())
    throw std::invalid_argument("attention: q, k, v must have the same number (>= 2) of dimensions");
  if (q.size(-1) != k.size(-1) || k.size(-2) != v.size(-2))
    throw std::invalid_argument("attention: q and k need the same last dimension, k and v the same key count");
  at::Tensor mask = mask_ == nullptr ? at::Tensor() : T(mask_);
  const double scale = std::pow(static_cast<double>(q.size(-1)), -0.5);  // Python's d ** -0.5
  const int64_t rows = rows_per_chunk(q, k, slice);
  const int64_t lq = q.size(-2);
  const int64_t n = rows >= lq ? 1 : (lq + rows - 1) / rows;
  const bool grad = at::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
  const bool same_lead = q.sizes().slice(0, q.dim() - 2).equals(k.sizes().slice(0, k.dim() - 2)) &&
                         k.sizes().slice(0, k.dim() - 2).equals(v.sizes().slice(0, v.dim() - 2));
  at::Tensor r;
  if (n > 1 && grad) {
    if (!same_lead || (mask.defined() && mask.requires_grad()))
      throw std::invalid_argument("sliced attention with gradients needs q, k, v of the same batch shape and a mask without gradient");
    Opt<at::Tensor> m;
    if (mask.defined()) m = mask;
    r = SlicedAttention::apply(q, k, v, m, causal != 0, scale, rows);
  } else {
    r = chunked_forward(q, k, v, mask, causal != 0, scale, rows);
  }
  if (chunks != nullptr) *chunks = n;
  *out = wrap(std::move(r));
  SR4G_END
}

}  // extern "C"
