// Data-parallel training through c10d: process groups (Gloo, NCCL), their collectives, and DDP's Reducer.
// Built with -DSR4G_WITH_DIST when the libtorch found ships the c10d headers (build-native.sh), with -DUSE_C10D_GLOO
// when Gloo's headers are there too (Debian: libgloo-dev; the PyTorch wheels have none) and -DUSE_C10D_NCCL
// -DSR4G_WITH_NCCL for a CUDA libtorch with nccl.h. Without any of it every entry returns "not in this build".
#include "sr4g_dist.h"

#include "sr4g_internal.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef SR4G_WITH_DIST
#include <ATen/ops/from_blob.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef SR4G_WITH_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/NCCLUtils.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#endif

// libtorch 2.x wraps a backend (ProcessGroupGloo, ProcessGroupNCCL: c10d::Backend) in a c10d::ProcessGroup made from
// (store, rank, size), registered per device type; in 1.13 the backend class is itself the ProcessGroup. The
// (store, rank, size) constructor and setBackend(DeviceType, BackendType, backend) are the 2.4+ API (checked against
// Debian trixie's 2.6 headers); 2.0-2.3 are refused rather than guessed.
#define SR4G_TORCH_GE(maj, min) \
  (TORCH_VERSION_MAJOR > (maj) || (TORCH_VERSION_MAJOR == (maj) && TORCH_VERSION_MINOR >= (min)))
#if defined(SR4G_WITH_DIST) && TORCH_VERSION_MAJOR == 2 && !SR4G_TORCH_GE(2, 4)
#undef SR4G_WITH_DIST
#define SR4G_DIST_UNSUPPORTED_VERSION 1
#endif

namespace {
std::atomic<int64_t> live_dist{0};

[[noreturn, maybe_unused]] void unavailable() {
#ifdef SR4G_DIST_UNSUPPORTED_VERSION
  throw std::runtime_error("distributed training supports libtorch 1.13 and >= 2.4; this build has " TORCH_VERSION);
#else
  throw std::runtime_error(
      "distributed training is not in this build: the libtorch found at build time has no c10d headers, or neither "
      "Gloo's headers (Debian: apt-get install -y --no-install-recommends libgloo-dev) nor NCCL's; rebuild after "
      "installing them");
#endif
}
}  // namespace

#ifdef SR4G_WITH_DIST
namespace {
using Ms = std::chrono::milliseconds;
constexpr size_t kBroadcastBucketBytes = 250u * 1024u * 1024u;  // DDP's broadcast_bucket_size for the initial sync

// Flat bucket buffers of sr4g_dist_allreduce_grads, kept from call to call for the same parameters (as DDP's Reducer
// keeps its buckets): a fresh 40 MB buffer per call made a 10M-float all-reduce ~10x slower here (page faults).
struct GradBuckets {
  std::vector<int64_t> key;  // numel of every gradient, then the two bucket limits
  std::vector<std::vector<size_t>> plan;
  std::vector<at::Tensor> flat;
};

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  int rank = 0, size = 1, backend = 0, device = -1;
  Ms timeout{0};
  std::string init;
  GradBuckets grad_buckets;
};

Group& G(sr4g_pg h) {
  if (h == nullptr) throw std::invalid_argument("null process group handle");
  return *static_cast<Group*>(h);
}

// The Reducer with read access to two protected flags, to tell whether a backward pass finished its reduction. It is
// constructed here, so it is a real object of this class (no cast of a base object).
class Sr4gReducer : public c10d::Reducer {
 public:
  using c10d::Reducer::Reducer;
  bool finished() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return !expect_autograd_hooks_ && !require_finalize_;
  }
};

// The stand-in for torch/csrc/distributed/autograd/context/context.h (native/src/main/c/standin, used where libtorch
// does not ship it) declares only the two types reducer.hpp names; the Reducer's layout must not depend on it. On
// Debian's 1.13 the offsets below are the ones libtorch_cpu.so's own Reducer constructor writes (bucket_bytes_cap_ at
// 0x208, div_factor_ = -1 at 0x240) and 912 is the size its last member ends at (docs/native.md).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
struct LayoutProbe : Sr4gReducer {
  static constexpr size_t cap() { return offsetof(LayoutProbe, bucket_bytes_cap_); }
  static constexpr size_t div() { return offsetof(LayoutProbe, div_factor_); }
};
#if TORCH_VERSION_MAJOR == 1 && TORCH_VERSION_MINOR == 13 && defined(__x86_64__)
static_assert(sizeof(c10d::Reducer) == 912 && LayoutProbe::cap() == 0x208 && LayoutProbe::div() == 0x240,
              "c10d::Reducer's layout differs from libtorch 1.13's: check the context.h stand-in");
#endif
#pragma GCC diagnostic pop

Sr4gReducer& R(sr4g_reducer h) {
  if (h == nullptr) throw std::invalid_argument("null reducer handle");
  return *static_cast<Sr4gReducer*>(h);
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

#ifdef USE_C10D_GLOO
// Where Gloo listens: GLOO_SOCKET_IFNAME's first interface as torch honours it; the loopback address for a rendezvous
// on this machine (a file store, or a master on 127.x); else the address this host's name resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device(bool loopback) {
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  if (ifname != nullptr && *ifname != '\0') {
    std::string s(ifname);
    return c10d::ProcessGroupGloo::createDeviceForInterface(s.substr(0, s.find(',')));
  }
  if (loopback) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif

c10::intrusive_ptr<c10d::Store> make_store(const std::string& init, bool hosts, int size, Ms timeout, bool* loopback) {
  if (init.rfind("file://", 0) == 0) {
    std::string path = init.substr(7);
    if (path.empty()) throw std::invalid_argument("--dist-init file://PATH: empty path");
    *loopback = true;
    auto store = c10::make_intrusive<c10d::FileStore>(path, size);
    store->setTimeout(timeout);
    return store;
  }
  if (init.rfind("tcp://", 0) == 0) {
    std::string hp = init.substr(6);
    size_t colon = hp.rfind(':');
    if (colon == std::string::npos || colon == 0) throw std::invalid_argument("init " + init + ": expected tcp://HOST:PORT");
    std::string host = hp.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    long port = std::strtol(hp.c_str() + colon + 1, nullptr, 10);
    if (port < 1 || port > 65535) throw std::invalid_argument("init " + init + ": bad port");
    *loopback = is_loopback(host);
    c10d::TCPStoreOptions o;
    o.port = static_cast<uint16_t>(port);
    o.isServer = hosts;
    o.numWorkers = static_cast<size_t>(size);
    o.waitWorkers = false;  // the join below waits, and can name who is missing
    o.timeout = timeout;
    o.multiTenant = true;  // as torch's env:// rendezvous
    return c10::make_intrusive<c10d::TCPStore>(host, o);
  }
  throw std::invalid_argument("init " + init + ": expected tcp://HOST:PORT or file://PATH");
}

std::string joined_key(int r) { return "sr4g/joined/" + std::to_string(r); }

// Every rank announces itself and waits for all others: a missing rank is named instead of timing out somewhere
// inside the backend's own rendezvous.
void join(c10d::Store& store, int rank, int size, Ms timeout, const std::string& init) {
  store.set(joined_key(rank), std::vector<uint8_t>{'1'});
  std::vector<std::string> keys;
  for (int r = 0; r < size; r++) keys.push_back(joined_key(r));
  try {
    store.wait(keys, timeout);
  } catch (const std::exception&) {
    std::string missing;
    for (int r = 0; r < size; r++) {
      bool there = false;
      try {
        there = store.check({joined_key(r)});
      } catch (const std::exception&) {
      }
      if (!there) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
    }
    throw std::runtime_error("rank " + std::to_string(rank) + ": rank(s) " + (missing.empty() ? "?" : missing) +
                             " did not join within " + std::to_string(timeout.count() / 1000) + " s (" + init + ")");
  }
}

// The group that serves one backend (Gloo, or NCCL when `nccl`): libtorch 2.x dispatches through a ProcessGroup that
// names a backend per device type; in 1.x the backend is the group itself.
template <typename Backend>
c10::intrusive_ptr<c10d::ProcessGroup> as_group(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                c10::intrusive_ptr<Backend> backend, bool nccl) {
#if TORCH_VERSION_MAJOR >= 2
  auto type = nccl ? c10d::ProcessGroup::BackendType::NCCL : c10d::ProcessGroup::BackendType::GLOO;
  auto pg = c10::make_intrusive<c10d::ProcessGroup>(store, rank, size);
  pg->setDefaultBackend(type);
  pg->setBackend(nccl ? c10::DeviceType::CUDA : c10::DeviceType::CPU, type, backend);
  return pg;
#else
  (void)store;
  (void)rank;
  (void)size;
  (void)nccl;
  return backend;
#endif
}

c10::intrusive_ptr<c10d::ProcessGroup> make_group(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                  int backend, int device, Ms timeout, bool loopback) {
  if (backend == 0) {
#ifdef USE_C10D_GLOO
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    opts->devices.push_back(gloo_device(loopback));
    return as_group(store, rank, size, c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, opts), false);
#else
    throw std::runtime_error("the Gloo backend is not in this build (Gloo's headers were missing at build time)");
#endif
  }
  if (backend == 1) {
#ifdef SR4G_WITH_NCCL
    if (device < 0) throw std::invalid_argument("NCCL needs a CUDA device");
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(device));
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = timeout;
    return as_group(store, rank, size, c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, opts), true);
#else
    throw std::runtime_error("the NCCL backend is not in this build (it needs a CUDA libtorch and nccl.h at build time)");
#endif
  }
  throw std::invalid_argument("backend must be 0 (gloo) or 1 (nccl)");
}

void wait(const c10::intrusive_ptr<c10d::Work>& w) { w->wait(); }

at::TensorOptions host_array_options(const Group& g, at::ScalarType t) {
  return at::TensorOptions().dtype(t).device(g.backend == 1 ? at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(g.device))
                                                            : at::Device(at::kCPU));
}

template <class V>
void allreduce_host(Group& g, V* values, int64_t n, at::ScalarType t) {
  if (n < 0) throw std::invalid_argument("negative count");
  if (n == 0) return;
  at::Tensor host = at::from_blob(values, {n}, at::TensorOptions().dtype(t));
  std::vector<at::Tensor> ts{host.to(host_array_options(g, t), /*non_blocking=*/false, /*copy=*/true)};
  wait(g.pg->allreduce(ts));
  host.copy_(ts[0].cpu());
}

std::vector<at::Tensor> tensors(const sr4g_t* ts, int64_t n) {
  if (n < 0) throw std::invalid_argument("negative count");
  std::vector<at::Tensor> v;
  v.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i++) v.push_back(sr4g::T(ts[i]));
  return v;
}

// DDP's bucket assignment: one list of parameter indices per bucket, in the order the Reducer reduces them (the
// reverse of definition order, approximating the order gradients become ready).
std::pair<std::vector<std::vector<size_t>>, std::vector<size_t>> buckets(const std::vector<at::Tensor>& ps,
                                                                         std::vector<size_t> limits) {
  auto [idx, lim] = c10d::compute_bucket_assignment_by_size(ps, limits, std::vector<bool>(ps.size(), false));
  std::reverse(idx.begin(), idx.end());
  std::reverse(lim.begin(), lim.end());
  return {idx, lim};
}

void check_params(const std::vector<at::Tensor>& ps) {
  if (ps.empty()) throw std::invalid_argument("no parameters");
  for (size_t i = 0; i < ps.size(); i++) {
    const at::Tensor& p = ps[i];
    if (!p.defined()) throw std::invalid_argument("parameter " + std::to_string(i) + " is undefined");
    if (!p.requires_grad()) throw std::invalid_argument("parameter " + std::to_string(i) + " does not require grad");
    if (p.is_sparse()) throw std::invalid_argument("parameter " + std::to_string(i) + " is sparse");
    if (p.device() != ps[0].device())
      throw std::invalid_argument("parameters on several devices (" + ps[0].device().str() + ", " +
                                  p.device().str() + ")");
  }
}
}  // namespace
#endif

extern "C" {

sr4g_err sr4g_dist_features(int32_t* gloo, int32_t* nccl) {
  SR4G_TRY
  *gloo = 0;
  *nccl = 0;
#ifdef SR4G_WITH_DIST
#ifdef USE_C10D_GLOO
  *gloo = 1;
#endif
#ifdef SR4G_WITH_NCCL
  *nccl = 1;
#endif
#endif
  SR4G_END
}

sr4g_err sr4g_dist_nccl_version(const char** out) {
  SR4G_TRY
#if defined(SR4G_WITH_DIST) && defined(SR4G_WITH_NCCL)
  static thread_local std::string v;
  v = c10d::getNcclVersion();
  *out = v.c_str();
#else
  (void)out;
  throw std::runtime_error("NCCL is not in this build (it needs a CUDA libtorch and nccl.h at build time)");
#endif
  SR4G_END
}

int64_t sr4g_dist_live(void) { return live_dist.load(std::memory_order_relaxed); }

#ifdef SR4G_WITH_DIST

sr4g_err sr4g_dist_init(const char* init, int32_t rank, int32_t size, int32_t backend, int32_t device,
                        int64_t timeout_ms, int32_t host_store, const char* key_prefix, sr4g_pg* out) {
  SR4G_TRY
  if (init == nullptr) throw std::invalid_argument("null init");
  if (size < 1 || rank < 0 || rank >= size)
    throw std::invalid_argument("rank " + std::to_string(rank) + " of world size " + std::to_string(size));
  if (timeout_ms < 1) throw std::invalid_argument("timeout must be positive");
  auto g = std::make_unique<Group>();
  g->rank = rank;
  g->size = size;
  g->backend = backend;
  g->device = device;
  g->timeout = Ms(timeout_ms);
  g->init = init;
  bool loopback = false;
  g->store = make_store(g->init, host_store != 0, size, g->timeout, &loopback);
  if (key_prefix != nullptr && *key_prefix != '\0')
    g->store = c10::make_intrusive<c10d::PrefixStore>(key_prefix, g->store);
  join(*g->store, rank, size, g->timeout, g->init);
  g->pg = make_group(g->store, rank, size, backend, device, g->timeout, loopback);
  *out = g.release();
  live_dist.fetch_add(1, std::memory_order_relaxed);
  SR4G_END
}

sr4g_err sr4g_dist_free(sr4g_pg pg) {
  SR4G_TRY
  if (pg != nullptr) {
    delete static_cast<Group*>(pg);
    live_dist.fetch_sub(1, std::memory_order_relaxed);
  }
  SR4G_END
}

sr4g_err sr4g_dist_barrier(sr4g_pg pg) {
  SR4G_TRY
  Group& g = G(pg);
  c10d::BarrierOptions o;
  if (g.backend == 1) o.device_ids = {g.device};
  o.timeout = g.timeout;
  wait(g.pg->barrier(o));
  SR4G_END
}

sr4g_err sr4g_dist_broadcast(sr4g_pg pg, const sr4g_t* ts, int64_t n, int32_t root) {
  SR4G_TRY
  Group& g = G(pg);
  if (root < 0 || root >= g.size) throw std::invalid_argument("broadcast root " + std::to_string(root));
  std::vector<at::Tensor> v = tensors(ts, n);
  if (v.empty()) return nullptr;
  // In place into parameters that require grad: outside autograd, as DDP's initial _sync_module_states.
  c10::AutoGradMode no_grad(false);
  c10d::broadcast_coalesced(g.pg, v, kBroadcastBucketBytes, root);
  SR4G_END
}

sr4g_err sr4g_dist_allreduce_f64(sr4g_pg pg, double* values, int64_t n) {
  SR4G_TRY
  allreduce_host(G(pg), values, n, at::kDouble);
  SR4G_END
}

sr4g_err sr4g_dist_allreduce_i64(sr4g_pg pg, int64_t* values, int64_t n) {
  SR4G_TRY
  allreduce_host(G(pg), values, n, at::kLong);
  SR4G_END
}

sr4g_err sr4g_dist_allreduce_grads(sr4g_pg pg, const sr4g_t* params, int64_t n, int64_t first_bytes,
                                   int64_t bucket_bytes) {
  SR4G_TRY
  Group& g = G(pg);
  if (first_bytes < 1 || bucket_bytes < 1) throw std::invalid_argument("bucket sizes must be positive");
  std::vector<at::Tensor> ps = tensors(params, n);
  check_params(ps);
  std::vector<at::Tensor> grads;
  for (size_t i = 0; i < ps.size(); i++) {
    at::Tensor gr = ps[i].grad();
    if (!gr.defined()) throw std::invalid_argument("parameter " + std::to_string(i) + " has no gradient");
    grads.push_back(gr);
  }
  c10::AutoGradMode no_grad(false);
  GradBuckets& gb = g.grad_buckets;
  std::vector<int64_t> key;
  for (const at::Tensor& gr : grads) key.push_back(gr.numel());
  key.push_back(first_bytes);
  key.push_back(bucket_bytes);
  if (key != gb.key || gb.flat.empty() || !gb.flat[0].options().type_equal(grads[0].options())) {
    gb.plan = buckets(grads, {static_cast<size_t>(first_bytes), static_cast<size_t>(bucket_bytes)}).first;
    gb.flat.clear();
    for (const auto& bucket : gb.plan) {
      int64_t total = 0;
      for (size_t i : bucket) total += grads[i].numel();
      gb.flat.push_back(at::empty({total}, grads[bucket[0]].options()));
    }
    gb.key = key;
  }
  const double scale = 1.0 / g.size;  // divided before the sum, as DDP's Reducer does
  for (size_t b = 0; b < gb.plan.size(); b++) {
    at::Tensor& flat = gb.flat[b];
    int64_t off = 0;
    for (size_t i : gb.plan[b]) {
      int64_t k = grads[i].numel();
      flat.narrow(0, off, k).view(grads[i].sizes()).copy_(grads[i]).mul_(scale);
      off += k;
    }
    std::vector<at::Tensor> one{flat};
    wait(g.pg->allreduce(one));
    off = 0;
    for (size_t i : gb.plan[b]) {
      int64_t k = grads[i].numel();
      grads[i].copy_(flat.narrow(0, off, k).view(grads[i].sizes()));
      off += k;
    }
  }
  SR4G_END
}

sr4g_err sr4g_dist_store_set(sr4g_pg pg, const char* key, const char* value) {
  SR4G_TRY
  if (key == nullptr || value == nullptr) throw std::invalid_argument("null key or value");
  G(pg).store->set(key, std::vector<uint8_t>(value, value + std::strlen(value)));
  SR4G_END
}

sr4g_err sr4g_dist_store_get(sr4g_pg pg, const char* key, char* buf, int64_t cap, int64_t* len) {
  SR4G_TRY
  if (key == nullptr || buf == nullptr || cap < 0) throw std::invalid_argument("bad store_get arguments");
  Group& g = G(pg);
  if (!g.store->check({key})) {
    *len = -1;
  } else {
    std::vector<uint8_t> v = g.store->get(key);
    int64_t k = std::min<int64_t>(cap, static_cast<int64_t>(v.size()));
    if (k > 0) std::memcpy(buf, v.data(), static_cast<size_t>(k));
    *len = k;
  }
  SR4G_END
}

sr4g_err sr4g_reducer_new(sr4g_pg pg, const sr4g_t* params, int64_t n, int64_t first_bytes, int64_t bucket_bytes,
                          sr4g_reducer* out) {
  SR4G_TRY
  Group& g = G(pg);
  if (first_bytes < 1 || bucket_bytes < 1) throw std::invalid_argument("bucket sizes must be positive");
  std::vector<at::Tensor> ps = tensors(params, n);
  check_params(ps);
  // As DistributedDataParallel's constructor: the same parameter shapes on every rank (a different --model on one node
  // fails here, on every rank, instead of all-reducing mismatched buckets).
  c10d::verify_params_across_processes(g.pg, ps, {});
  // DDP with find_unused_parameters=false starts with a single bucket and, after the first backward, rebuilds DDP's
  // buckets (first_bytes, then bucket_bytes) in the order the gradients became ready (rebuild_buckets, called from
  // sr4g_reducer_prepare). Unused-parameter search stays off: with gradient checkpointing the recomputed segments are
  // separate graphs that a search from the loss would not see.
  auto initial = buckets(ps, {SIZE_MAX});
  // A plain new (no unique_ptr): ~Reducer is noexcept(false), and a throwing destructor inside a smart pointer's
  // noexcept one would terminate the JVM instead of becoming an error message in sr4g_reducer_free.
  *out = new Sr4gReducer(ps, initial.first, initial.second, g.pg, std::vector<bool>(ps.size(), false), bucket_bytes,
                         /*find_unused_parameters=*/false, /*gradient_as_bucket_view=*/false,
                         std::unordered_map<size_t, std::string>(), first_bytes);
  live_dist.fetch_add(1, std::memory_order_relaxed);
  SR4G_END
}

sr4g_err sr4g_reducer_prepare(sr4g_reducer r) {
  SR4G_TRY
  Sr4gReducer& red = R(r);
  red.rebuild_buckets();  // a no-op after the first rebuild (DDP calls it before every synchronised forward)
  red.prepare_for_backward({});
  SR4G_END
}

sr4g_err sr4g_reducer_check(sr4g_reducer r) {
  SR4G_TRY
  if (!R(r).finished())
    throw std::runtime_error(
        "the gradient all-reduce did not finish: some trainable parameter received no gradient in this step (the "
        "Reducer runs with find_unused_parameters=false)");
  SR4G_END
}

sr4g_err sr4g_reducer_free(sr4g_reducer r) {
  SR4G_TRY
  if (r != nullptr) {
    // ~Reducer removes its autograd hooks; it is noexcept(false), so an error still comes back as a message.
    live_dist.fetch_sub(1, std::memory_order_relaxed);
    delete static_cast<Sr4gReducer*>(r);
  }
  SR4G_END
}

#else

// Without c10d in this build every entry but the queries above says so (in the thread's error buffer).
#define SR4G_DIST_UNAVAILABLE(signature) \
  sr4g_err signature {                   \
    SR4G_TRY                             \
    unavailable();                       \
    SR4G_END                             \
  }
SR4G_DIST_UNAVAILABLE(sr4g_dist_init(const char* init, int32_t rank, int32_t size, int32_t backend, int32_t device,
                                     int64_t timeout_ms, int32_t host_store, const char* key_prefix, sr4g_pg* out))
sr4g_err sr4g_dist_free(sr4g_pg pg) { return nullptr; }  // nothing can have been allocated
SR4G_DIST_UNAVAILABLE(sr4g_dist_barrier(sr4g_pg pg))
SR4G_DIST_UNAVAILABLE(sr4g_dist_broadcast(sr4g_pg pg, const sr4g_t* ts, int64_t n, int32_t root))
SR4G_DIST_UNAVAILABLE(sr4g_dist_allreduce_f64(sr4g_pg pg, double* values, int64_t n))
SR4G_DIST_UNAVAILABLE(sr4g_dist_allreduce_i64(sr4g_pg pg, int64_t* values, int64_t n))
SR4G_DIST_UNAVAILABLE(sr4g_dist_allreduce_grads(sr4g_pg pg, const sr4g_t* params, int64_t n, int64_t first_bytes,
                                                int64_t bucket_bytes))
SR4G_DIST_UNAVAILABLE(sr4g_dist_store_set(sr4g_pg pg, const char* key, const char* value))
SR4G_DIST_UNAVAILABLE(sr4g_dist_store_get(sr4g_pg pg, const char* key, char* buf, int64_t cap, int64_t* len))
SR4G_DIST_UNAVAILABLE(sr4g_reducer_new(sr4g_pg pg, const sr4g_t* params, int64_t n, int64_t first_bytes,
                                       int64_t bucket_bytes, sr4g_reducer* out))
SR4G_DIST_UNAVAILABLE(sr4g_reducer_prepare(sr4g_reducer r))
SR4G_DIST_UNAVAILABLE(sr4g_reducer_check(sr4g_reducer r))
sr4g_err sr4g_reducer_free(sr4g_reducer r) { return nullptr; }  // nothing can have been allocated

#endif

}  // extern "C"
