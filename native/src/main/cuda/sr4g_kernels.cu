// sr4g's own CUDA kernels, compiled with `nvcc --fatbin -fmad=false` and launched from Java through the CUDA driver
// API (org.sr4g.cuda). extern "C" keeps the symbol names unmangled for cuModuleGetFunction.
// -fmad=false: no fused multiply-add contraction, so every float result rounds exactly as the Java CPU equivalent's.
#include <stdint.h>

// One thread per ordered pair (s, o) of n boxes; boxes are (x, y, w, h) in pixels of a W x H image.
// Writes masks[s * n + o]; bit order documented in org.sr4g.cuda.Relations (0 left of ... 13 smaller).
extern "C" __global__ void sr4g_relations(const float* __restrict__ boxes, int n, float W, float H,
                                          uint32_t* __restrict__ masks) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)n * n) return;
  int si = (int)(idx / n), oi = (int)(idx % n);
  const float t = 0.02f;
  const float* s = boxes + 4 * si;
  const float* o = boxes + 4 * oi;
  float sx0 = s[0] / W, sy0 = s[1] / H, sx1 = (s[0] + s[2]) / W, sy1 = (s[1] + s[3]) / H;
  float ox0 = o[0] / W, oy0 = o[1] / H, ox1 = (o[0] + o[2]) / W, oy1 = (o[1] + o[3]) / H;
  float scx = (sx0 + sx1) / 2.0f, scy = (sy0 + sy1) / 2.0f, ocx = (ox0 + ox1) / 2.0f, ocy = (oy0 + oy1) / 2.0f;
  float sbw = s[2] / W, sbh = s[3] / H, obw = o[2] / W, obh = o[3] / H;
  float sarea = sbw * sbh, oarea = obw * obh;
  uint32_t m = 0;
  if (sx0 - t <= ox0 && sx1 + t >= ox1 && sy0 - t <= oy0 && sy1 + t >= oy1) {
    m |= 1u << 4;  // surrounding
  } else if (sx0 + t >= ox0 && sx1 - t <= ox1 && sy0 + t >= oy0 && sy1 - t <= oy1) {
    m |= 1u << 5;  // inside
  } else {
    float dx = scx - ocx, dy = scy - ocy;
    if (dx > 0 && -dx <= dy && dy < dx) m |= 1u << 1;        // right of
    else if (dy > 0 && -dy < dx && dx <= dy) m |= 1u << 3;   // below
    else if (dx < 0 && dx <= dy && dy <= -dx) m |= 1u << 0;  // left of
    else if (dy < 0 && dy < dx && dx < -dy) m |= 1u << 2;    // above
  }
  float iw = fminf(sx1, ox1) - fmaxf(sx0, ox0);
  float ih = fminf(sy1, oy1) - fmaxf(sy0, oy0);
  m |= (iw > 0 && ih > 0) ? (1u << 6) : (1u << 7);
  if (sbw > obw) m |= 1u << 8;
  if (sbw < obw) m |= 1u << 9;
  if (sbh > obh) m |= 1u << 10;
  if (sbh < obh) m |= 1u << 11;
  if (sarea > oarea) m |= 1u << 12;
  if (sarea < oarea) m |= 1u << 13;
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
