// sr4g's own CUDA kernels, compiled with `nvcc --fatbin -fmad=false` and launched from Java through the CUDA driver
// API (org.sr4g.cuda). extern "C" keeps the symbol names unmangled for cuModuleGetFunction.
// -fmad=false: no fused multiply-add contraction, so a float result rounds exactly as the Java equivalent's.
#include <stdint.h>

// The mask bit of each relation, passed by value from Java (CudaRelationKernel fills it from
// org.sr4g.relations.Relation#bit by name): the kernel knows the relations' names, never their bit numbers.
struct sr4g_relation_bits {
  uint32_t left_of, right_of, above, below, surrounding, inside, overlapping, separated;
  uint32_t wider_than, narrower_than, taller_than, shorter_than, larger_than, smaller_than;
};

// The sr4g14 rules of org.sr4g.relations.RelationRules (docs/relations.md) for one ordered pair per thread: subject
// s in [first, first + subjects), object o in [0, n), result at masks[(s - first) * n + o].
// `boxes` holds a BoxTable's nine columns of n floats each, in this order: x0, y0, x1, y1, cx, cy, bw, bh, area.
// They were normalised on the host by NormalizedBox.fromCoco, so this kernel only subtracts, adds the tolerance
// `t` (RelationRules.TOLERANCE, also passed from Java), takes minima/maxima and compares: the same float32
// operations, in the same order, as RelationRules.relations.
extern "C" __global__ void sr4g_relations(const float* __restrict__ boxes, int n, int first, int subjects, float t,
                                          sr4g_relation_bits bit, uint32_t* __restrict__ masks) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)subjects * n) return;
  int si = first + (int)(idx / n), oi = (int)(idx % n);
  const long long N = n;
  const float *x0 = boxes, *y0 = boxes + N, *x1 = boxes + 2 * N, *y1 = boxes + 3 * N, *cx = boxes + 4 * N;
  const float *cy = boxes + 5 * N, *bw = boxes + 6 * N, *bh = boxes + 7 * N, *area = boxes + 8 * N;
  float sx0 = x0[si], sy0 = y0[si], sx1 = x1[si], sy1 = y1[si];
  float ox0 = x0[oi], oy0 = y0[oi], ox1 = x1[oi], oy1 = y1[oi];
  uint32_t m = 0;
  // Position group: at most one, checked in this order.
  if (sx0 - t <= ox0 && sx1 + t >= ox1 && sy0 - t <= oy0 && sy1 + t >= oy1) {
    m |= bit.surrounding;
  } else if (sx0 + t >= ox0 && sx1 - t <= ox1 && sy0 + t >= oy0 && sy1 - t <= oy1) {
    m |= bit.inside;
  } else {
    float dx = cx[si] - cx[oi];
    float dy = cy[si] - cy[oi];
    if (dx > 0 && -dx <= dy && dy < dx) m |= bit.right_of;
    else if (dy > 0 && -dy < dx && dx <= dy) m |= bit.below;
    else if (dx < 0 && dx <= dy && dy <= -dx) m |= bit.left_of;
    else if (dy < 0 && dy < dx && dx < -dy) m |= bit.above;
  }
  // Overlap group: exactly one. fminf/fmaxf may pick the other zero of -0/+0 than Java's Math.min/max; the
  // difference is then a zero either way, and "> 0" treats both zeros alike.
  float iw = fminf(sx1, ox1) - fmaxf(sx0, ox0);
  float ih = fminf(sy1, oy1) - fmaxf(sy0, oy0);
  m |= (iw > 0 && ih > 0) ? bit.overlapping : bit.separated;
  // Scale group: strict comparisons, ties give nothing.
  if (bw[si] > bw[oi]) m |= bit.wider_than;
  else if (bw[si] < bw[oi]) m |= bit.narrower_than;
  if (bh[si] > bh[oi]) m |= bit.taller_than;
  else if (bh[si] < bh[oi]) m |= bit.shorter_than;
  if (area[si] > area[oi]) m |= bit.larger_than;
  else if (area[si] < area[oi]) m |= bit.smaller_than;
  masks[idx] = m;
}

// Fused DDPM forward noising, in place on x (libtorch CUDA tensors, f32, contiguous, shape [B, ...]):
//   x[b, i] = sqrt_ab[b] * x[b, i] + sqrt_1mab[b] * noise[b, i]
// One pass over memory instead of the three kernels (mul, mul, add) that the libtorch expression launches.
extern "C" __global__ void sr4g_add_noise(float* __restrict__ x, const float* __restrict__ noise,
                                          const float* __restrict__ sqrt_ab, const float* __restrict__ sqrt_1mab,
                                          long long per_batch, long long total) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  long long stride = (long long)gridDim.x * blockDim.x;
  for (; i < total; i += stride) {
    long long b = i / per_batch;
    float a = sqrt_ab[b] * x[i];
    float c = sqrt_1mab[b] * noise[i];
    x[i] = a + c;
  }
}
