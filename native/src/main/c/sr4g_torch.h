/*
 * sr4g_torch.h — the C layer between Java (FFM) and libtorch.
 *
 * Conventions (every function):
 *  - returns NULL on success, else an error message owned by a thread-local buffer that stays valid until the next
 *    failing call on the same thread; no C++ exception ever crosses this boundary;
 *  - results come back through out-pointers;
 *  - tensors are opaque handles (heap-allocated at::Tensor); each handle has exactly one owner, who frees it with
 *    sr4g_free or sr4g_free_many. Ops never consume their inputs.
 * Codes: dtypes and ops are the lists below (SR4G_DTYPES, SR4G_*_OPS), defined here only; devices are SR4G_DEVICE_CPU
 * or N >= 0 for cuda:N. org.sr4g.torch.DType and org.sr4g.torch.Op mirror the lists, and OpTableTest checks every
 * Java name and code against sr4g_code_name.
 */
#ifndef SR4G_TORCH_H
#define SR4G_TORCH_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void* sr4g_t;   /* tensor handle */
typedef void* sr4g_gen; /* generator handle */
typedef const char* sr4g_err;

/* ---- the code lists: X(NAME, code) each; the one place a code is defined ---- */
#define SR4G_DTYPES(X) X(F32, 0) X(F16, 1) X(BF16, 2) X(I64, 3) X(BOOL, 4)
/* sr4g_unary */
#define SR4G_UNARY_OPS(X)                                                                                     \
  X(NEG, 0) X(EXP, 1) X(SQRT, 2) X(SIN, 3) X(COS, 4) X(SILU, 5) X(GELU, 6) X(GELU_TANH, 7) X(SIGMOID, 8)     \
  X(CONTIGUOUS, 9) X(RELU, 10) X(TANH, 11) X(LOG, 12) X(ABS, 13) X(SUM, 14) X(MEAN, 15) X(DETACH, 16)         \
  X(CLONE, 17) X(RSQRT, 18) X(SQUARE, 19)
/* sr4g_binary; MSE_LOSS has mean reduction, as torch.nn.functional.mse_loss */
#define SR4G_BINARY_OPS(X) X(ADD, 0) X(SUB, 1) X(MUL, 2) X(DIV, 3) X(MATMUL, 4) X(BMM, 5) X(MSE_LOSS, 6) X(POW, 7)
/* sr4g_scalar (tensor op double); RSUB is s - a */
#define SR4G_SCALAR_OPS(X) X(ADD, 0) X(SUB, 1) X(MUL, 2) X(DIV, 3) X(POW, 4) X(RSUB, 5)
/* sr4g_reduce over the given dims */
#define SR4G_REDUCE_OPS(X) X(SUM, 0) X(MEAN, 1)

#define SR4G_ENUM_DTYPE_(name, code) SR4G_DTYPE_##name = code,
#define SR4G_ENUM_UNARY_(name, code) SR4G_UNARY_##name = code,
#define SR4G_ENUM_BINARY_(name, code) SR4G_BINARY_##name = code,
#define SR4G_ENUM_SCALAR_(name, code) SR4G_SCALAR_##name = code,
#define SR4G_ENUM_REDUCE_(name, code) SR4G_REDUCE_##name = code,
typedef enum { SR4G_DTYPES(SR4G_ENUM_DTYPE_) SR4G_DTYPE_KEEP = -1 /* sr4g_to: keep the tensor's dtype */ } sr4g_dtype;
typedef enum { SR4G_UNARY_OPS(SR4G_ENUM_UNARY_) } sr4g_unary_op;
typedef enum { SR4G_BINARY_OPS(SR4G_ENUM_BINARY_) } sr4g_binary_op;
typedef enum { SR4G_SCALAR_OPS(SR4G_ENUM_SCALAR_) } sr4g_scalar_op;
typedef enum { SR4G_REDUCE_OPS(SR4G_ENUM_REDUCE_) } sr4g_reduce_op;
/* device codes: N >= 0 is cuda:N */
enum { SR4G_DEVICE_CPU = -1, SR4G_DEVICE_KEEP = -2 /* sr4g_to: keep the tensor's device */ };

/* the lists a code belongs to, for sr4g_code_name */
typedef enum { SR4G_LIST_DTYPE = 0, SR4G_LIST_UNARY = 1, SR4G_LIST_BINARY = 2, SR4G_LIST_SCALAR = 3, SR4G_LIST_REDUCE = 4 } sr4g_code_list;
/* *out = the NAME of `code` in `list` (e.g. "MSE_LOSS"), NULL when the list has no such code; the special codes
 * (SR4G_DTYPE_KEEP, SR4G_DEVICE_CPU, SR4G_DEVICE_KEEP) through sr4g_special_codes. For the Java mirror's test. */
sr4g_err sr4g_code_name(int32_t list, int32_t code, const char** out);
sr4g_err sr4g_special_codes(int32_t* dtype_keep, int32_t* device_cpu, int32_t* device_keep);

/* housekeeping */
sr4g_err sr4g_version(const char** out);           /* libtorch version string, e.g. "1.13.0" */
sr4g_err sr4g_cuda_built(int32_t* out);            /* 1 when this library was compiled against libtorch CUDA */
int64_t sr4g_live_tensors(void);                   /* handles allocated and not yet freed (leak tests) */
sr4g_err sr4g_threads(int32_t* intra_op, int32_t* inter_op); /* libtorch's CPU thread pools (benchmark records) */
/* hands the allocator's free memory back to the system: tcmalloc's MallocExtension_ReleaseFreeMemory where it is
 * loaded, glibc's malloc_trim(0) otherwise (after packing a model's weights: the dense copies' pages) */
sr4g_err sr4g_release_free_memory(void);
/* The BLAS library libtorch's libblas.so.3 resolves to (NULL when libtorch has none loaded) and OpenBLAS's thread count
   (-1 when it is not OpenBLAS); OpenBLAS is sized to libtorch's intra-op threads when this library loads. */
sr4g_err sr4g_blas(const char** library, int32_t* threads);
sr4g_err sr4g_free(sr4g_t t);
sr4g_err sr4g_free_many(const sr4g_t* ts, int64_t n);
sr4g_err sr4g_info(sr4g_t t, int64_t* ndim, int64_t* dims /* >= 16 */, int32_t* dtype, int32_t* device,
                   int32_t* requires_grad);

/* creation and read-back */
sr4g_err sr4g_from_data(const void* data, const int64_t* shape, int64_t ndim, int32_t dtype, int32_t device, sr4g_t* out);
sr4g_err sr4g_to_data(sr4g_t t, void* dst, int64_t nbytes);
sr4g_err sr4g_full(const int64_t* shape, int64_t ndim, double value, int32_t dtype, int32_t device, sr4g_t* out);
sr4g_err sr4g_arange(double start, double end, double step, int32_t dtype, int32_t device, sr4g_t* out);
sr4g_err sr4g_generator_new(int32_t device, uint64_t seed, sr4g_gen* out);
sr4g_err sr4g_generator_free(sr4g_gen g);
/* kind: 0 = standard normal, 1 = uniform [0,1) */
sr4g_err sr4g_random(const int64_t* shape, int64_t ndim, sr4g_gen g, int32_t kind, int32_t dtype, int32_t device, sr4g_t* out);
sr4g_err sr4g_item(sr4g_t t, double* out);

/* elementwise and misc.: op is a code of SR4G_UNARY_OPS, SR4G_BINARY_OPS, SR4G_SCALAR_OPS, SR4G_REDUCE_OPS */
sr4g_err sr4g_unary(int32_t op, sr4g_t a, sr4g_t* out);
sr4g_err sr4g_binary(int32_t op, sr4g_t a, sr4g_t b, sr4g_t* out);
sr4g_err sr4g_scalar(int32_t op, sr4g_t a, double s, sr4g_t* out);
sr4g_err sr4g_clamp(sr4g_t a, double lo, double hi, int32_t has_lo, int32_t has_hi, sr4g_t* out);
sr4g_err sr4g_reduce(int32_t op, sr4g_t a, const int64_t* dims, int64_t ndims, int32_t keepdim, sr4g_t* out);
sr4g_err sr4g_softmax(sr4g_t a, int64_t dim, sr4g_t* out);
sr4g_err sr4g_baddbmm(sr4g_t input, sr4g_t b1, sr4g_t b2, double beta, double alpha, sr4g_t* out);
sr4g_err sr4g_where(sr4g_t cond, sr4g_t a, sr4g_t b, sr4g_t* out);

/* layers (bias / weight handles may be NULL) */
sr4g_err sr4g_linear(sr4g_t x, sr4g_t w, sr4g_t b, sr4g_t* out);
/* sr4g_linear one index of dim 0 at a time (batch-invariant results; Nn.linear inside BatchInvariant.run). */
sr4g_err sr4g_linear_per_sample(sr4g_t x, sr4g_t w, sr4g_t b, sr4g_t* out);
/* w dense, or packed by sr4g_conv2d_pack (then a CPU input of its dtype runs oneDNN on the packed weight as it is) */
sr4g_err sr4g_conv2d(sr4g_t x, sr4g_t w, sr4g_t b, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t groups, sr4g_t* out);
/* a CPU float32/bfloat16 conv weight reordered once into oneDNN's layout for these stride/padding/groups (an mkldnn
 * tensor: usable only as sr4g_conv2d's weight, read back with sr4g_to_data) */
sr4g_err sr4g_conv2d_pack(sr4g_t w, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t groups, sr4g_t* out);
sr4g_err sr4g_is_packed(sr4g_t a, int32_t* out);
sr4g_err sr4g_group_norm(sr4g_t x, int64_t groups, sr4g_t w, sr4g_t b, double eps, sr4g_t* out);
sr4g_err sr4g_layer_norm(sr4g_t x, const int64_t* shape, int64_t n, sr4g_t w, sr4g_t b, double eps, sr4g_t* out);
/* softmax(q kᵀ·d^-0.5 + mask) v over the last two dims (sr4g_attention.cpp); mask NULL, bool (true = attend) or float
 * (added). slice: query rows per chunk (> 0), 0 = unsliced, < 0 = auto: chunks whose scores fit -slice bytes.
 * *chunks (may be NULL) receives the number of chunks used. */
sr4g_err sr4g_attention(sr4g_t q, sr4g_t k, sr4g_t v, sr4g_t mask, int32_t causal, int64_t slice, int64_t* chunks,
                        sr4g_t* out);
sr4g_err sr4g_embedding(sr4g_t weight, sr4g_t indices, sr4g_t* out);
sr4g_err sr4g_upsample_nearest2x(sr4g_t x, sr4g_t* out);

/* shape */
sr4g_err sr4g_reshape(sr4g_t a, const int64_t* shape, int64_t n, int32_t view, sr4g_t* out);
sr4g_err sr4g_permute(sr4g_t a, const int64_t* dims, int64_t n, sr4g_t* out);
sr4g_err sr4g_transpose(sr4g_t a, int64_t d0, int64_t d1, sr4g_t* out);
sr4g_err sr4g_cat(const sr4g_t* ts, int64_t n, int64_t dim, sr4g_t* out);
/* chunk=1: split into `size` chunks; chunk=0: pieces of `size` along dim. Writes at most max handles. */
sr4g_err sr4g_split(sr4g_t a, int64_t size, int64_t dim, int32_t chunk, sr4g_t* outs, int64_t max, int64_t* nout);
sr4g_err sr4g_slice(sr4g_t a, int64_t dim, int64_t start, int64_t end, int64_t step, sr4g_t* out);
sr4g_err sr4g_index_select(sr4g_t a, int64_t dim, sr4g_t idx, sr4g_t* out);
/* dtype SR4G_DTYPE_KEEP keeps it; device SR4G_DEVICE_KEEP keeps it */
sr4g_err sr4g_to(sr4g_t a, int32_t dtype, int32_t device, sr4g_t* out);
sr4g_err sr4g_channels_last(sr4g_t a, sr4g_t* out);
sr4g_err sr4g_is_channels_last(sr4g_t a, int32_t* out);
sr4g_err sr4g_copy_(sr4g_t dst, sr4g_t src);

/* autograd and training */
sr4g_err sr4g_set_requires_grad(sr4g_t a, int32_t on);
sr4g_err sr4g_backward(sr4g_t loss);
/* torch.autograd.backward(outputs, grad_outputs): one pass from several outputs, grad_outputs[i] being d(loss)/d(outputs[i])
   (same shape); grad_outputs may be NULL, or hold NULL entries, for scalar outputs (gradient 1). Used by gradient
   checkpointing to back-propagate a recomputed segment from the gradients its output leaves received. */
sr4g_err sr4g_backward_with(const sr4g_t* outputs, const sr4g_t* grad_outputs, int64_t n);
sr4g_err sr4g_grad(sr4g_t a, sr4g_t* out); /* *out = NULL when there is no gradient */

/* Gradient checkpointing (torch.utils.checkpoint, reentrant): the caller ran a segment's forward without a graph and
 * hands its inputs and outputs here; outs receive the outputs again, now with one autograd node as their grad_fn whose
 * next edges are the inputs' and which keeps only the inputs. When a backward reaches it, the node calls `replay`
 * (registered once per process) with `id`: the callback recomputes the segment from leaves standing for the inputs,
 * back-propagates the output gradients through it (a nested backward: parameter gradients accumulate as usual) and
 * hands back the inputs' gradients. Nothing needs a gradient from the inputs for the parameters inside to get theirs.
 * When the node is destroyed (its graph was used or dropped) it calls `release` with `id`. Callbacks own nothing they
 * are given: inputs/grads are fresh handles the callback frees; grad_inputs receive handles (or NULL) that the C side
 * takes over. A callback returns 0, or nonzero after writing a message to err (err_len bytes). */
typedef int32_t (*sr4g_replay_fn)(int64_t id, const sr4g_t* inputs, int64_t n_in, const sr4g_t* grads, int64_t n_out,
                                  sr4g_t* grad_inputs, char* err, int64_t err_len);
typedef void (*sr4g_release_fn)(int64_t id);
sr4g_err sr4g_checkpoint_callbacks(sr4g_replay_fn replay, sr4g_release_fn release);
sr4g_err sr4g_checkpoint(const sr4g_t* inputs, int64_t n_in, const sr4g_t* outputs, int64_t n_out, int64_t id,
                         sr4g_t* outs);
sr4g_err sr4g_zero_grad(const sr4g_t* ts, int64_t n);
sr4g_err sr4g_set_grad_enabled(int32_t on, int32_t* previous);
sr4g_err sr4g_clip_grad_norm(const sr4g_t* params, int64_t n, double max_norm, double* total_norm);
/* torch.optim.AdamW (single-tensor path), in place on params and state; step is the 1-based step number */
sr4g_err sr4g_adamw_step(const sr4g_t* params, const sr4g_t* exp_avg, const sr4g_t* exp_avg_sq, int64_t n, double lr,
                         double beta1, double beta2, double eps, double weight_decay, int64_t step);

/* CUDA through libtorch */
sr4g_err sr4g_cuda_device_count(int64_t* out);
sr4g_err sr4g_cuda_synchronize(int32_t device);
sr4g_err sr4g_cuda_memory(int32_t device, int64_t* allocated, int64_t* peak);
/* autocast (torch.autocast): device_type 0 = cpu, 1 = cuda; dtype 1 = f16, 2 = bf16. enter enables it with dtype and
 * returns the previous (enabled, dtype); exit restores them and clears the cast cache when leaving the outermost one. */
sr4g_err sr4g_autocast_enter(int32_t device_type, int32_t dtype, int32_t* prev_on, int32_t* prev_dtype);
sr4g_err sr4g_autocast_exit(int32_t device_type, int32_t prev_on, int32_t prev_dtype);
sr4g_err sr4g_autocast_state(int32_t device_type, int32_t* on, int32_t* dtype);
/* GradScaler.unscale_: grads of params *= inv_scale in place; *found_inf = 1 if any element was inf/NaN before */
sr4g_err sr4g_amp_unscale(const sr4g_t* params, int64_t n, double inv_scale, int32_t* found_inf);
sr4g_err sr4g_data_ptr(sr4g_t a, void** out);
/* TF32 for float32 convolutions (cuDNN) and matmuls (cuBLAS) on Ampere+ GPUs; process-wide (sr4g_precision.cpp) */
sr4g_err sr4g_allow_tf32(int32_t on, int32_t* previous);

#ifdef __cplusplus
}
#endif
#endif
