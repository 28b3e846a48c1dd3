/*
 * sr4g_dist.h — data-parallel training through PyTorch's own distributed engine (c10d): a process group (Gloo on the
 * CPU, NCCL on CUDA) over a TCPStore or FileStore rendezvous, its collectives, and DDP's gradient Reducer.
 *
 * Same conventions as sr4g_torch.h: NULL on success, else an error message (thread-local buffer); results through
 * out-pointers; no C++ exception crosses this boundary. Handles (sr4g_pg, sr4g_reducer) have one owner each, who frees
 * them with sr4g_dist_free / sr4g_reducer_free. A reducer keeps its own reference to the group it reduces over.
 * Without c10d in the libtorch found at build time every entry returns an error saying so.
 */
#ifndef SR4G_DIST_H
#define SR4G_DIST_H
#include <stdint.h>

#include "sr4g_torch.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void* sr4g_pg;      /* a process group with its rendezvous store */
typedef void* sr4g_reducer; /* DDP's c10d::Reducer over a group's parameters */

/* What this build can do: gloo / nccl = 1 when compiled in. */
sr4g_err sr4g_dist_features(int32_t* gloo, int32_t* nccl);
/* NCCL's version ("2.21.5"); an error without NCCL. */
sr4g_err sr4g_dist_nccl_version(const char** out);
/* Groups and reducers allocated and not yet freed (leak tests). */
int64_t sr4g_dist_live(void);

/* Joins the group. init: "tcp://HOST:PORT" (a TCPStore on PORT, hosted by this rank when host_store is 1 — rank 0,
 * unless a launcher such as torchrun hosts it) or "file://PATH" (a FileStore; the file must not hold an earlier run's
 * keys). key_prefix (may be "" or NULL): every key goes under it (torchrun's "/worker/attempt_N"). backend 0 = Gloo
 * (CPU tensors), 1 = NCCL (CUDA tensors on cuda:device). Every rank waits at most timeout_ms for the others to join; a
 * rank that does not is named in the error. The same timeout bounds every later collective. */
sr4g_err sr4g_dist_init(const char* init, int32_t rank, int32_t size, int32_t backend, int32_t device,
                        int64_t timeout_ms, int32_t host_store, const char* key_prefix, sr4g_pg* out);
sr4g_err sr4g_dist_free(sr4g_pg pg);
sr4g_err sr4g_dist_barrier(sr4g_pg pg);
/* Copies root's values of the tensors into every rank's (in place, in buckets of 250 MB, as DDP's initial sync). */
sr4g_err sr4g_dist_broadcast(sr4g_pg pg, const sr4g_t* tensors, int64_t n, int32_t root);
/* In-place sums over the ranks of small host arrays (metrics, data cursors). */
sr4g_err sr4g_dist_allreduce_f64(sr4g_pg pg, double* values, int64_t n);
sr4g_err sr4g_dist_allreduce_i64(sr4g_pg pg, int64_t* values, int64_t n);
/* Averages the .grad of params over the ranks after a backward: DDP's bucket sizes (first bucket first_bytes, then
 * bucket_bytes), each bucket flattened, scaled by 1/size, summed, copied back. A parameter without a gradient is an
 * error. */
sr4g_err sr4g_dist_allreduce_grads(sr4g_pg pg, const sr4g_t* params, int64_t n, int64_t first_bytes,
                                   int64_t bucket_bytes);
/* The rendezvous store: set a key; read one without waiting (*len = -1 when absent; at most cap bytes copied). */
sr4g_err sr4g_dist_store_set(sr4g_pg pg, const char* key, const char* value);
sr4g_err sr4g_dist_store_get(sr4g_pg pg, const char* key, char* buf, int64_t cap, int64_t* len);

/* DDP's Reducer over params (all requiring grad, dense, one device): checks that every rank has the same parameter
 * shapes, starts with one bucket and rebuilds DDP's buckets (first_bytes, then bucket_bytes) in the order gradients
 * become ready, as DistributedDataParallel does. Autograd hooks all-reduce each bucket as soon as its gradients are
 * ready, during the backward. */
sr4g_err sr4g_reducer_new(sr4g_pg pg, const sr4g_t* params, int64_t n, int64_t first_bytes, int64_t bucket_bytes,
                          sr4g_reducer* out);
/* Before the backward pass(es) whose gradients must be averaged (the last micro-batch of a step): rebuilds the buckets
 * once, then arms the hooks. Backward passes without it accumulate locally (DDP's no_sync). */
sr4g_err sr4g_reducer_prepare(sr4g_reducer r);
/* After those backward passes: an error unless every bucket was reduced and copied back into the gradients. */
sr4g_err sr4g_reducer_check(sr4g_reducer r);
sr4g_err sr4g_reducer_free(sr4g_reducer r);

#ifdef __cplusplus
}
#endif
#endif
