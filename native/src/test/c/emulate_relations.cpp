// Runs sr4g_relations from sr4g_kernels.cu on the CPU, one loop iteration per CUDA thread, so CI (no GPU) checks the
// kernel source against RelationKernel.scalar() (CudaRelationKernelSourceTest). Build:
//   g++ -O2 -ffp-contract=off -DSR4G_KERNELS_CU=\"path/sr4g_kernels.cu\" emulate_relations.cpp
// (x86-64 g++ computes float in SSE registers, so every operation rounds to float32 as on the GPU and in Java.)
//
// Input on stdin, whitespace-separated, every float as the hex of its IEEE bits (exact, no decimal round trip):
//   t b_left_of b_right_of ... b_smaller_than   the tolerance and the sr4g_relation_bits fields, in struct order
//   T                                           the number of tables, then T times:
//   n c_0 ... c_{9n-1}                          n boxes as the kernel's nine columns (x0, y0, x1, y1, cx, cy, bw, bh, area)
// Output: for each table, the n*n masks of one all-pairs launch, one per line. Every table is also launched once per
// subject (first = s, subjects = 1), as CudaRelationKernel.relate does; any difference exits 3.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <vector>
struct D3 { unsigned x, y, z; };
static D3 blockIdx, threadIdx, blockDim, gridDim;
#define __global__
#define __restrict__
#include SR4G_KERNELS_CU

static float read_float() {
  uint32_t u;
  if (scanf("%x", &u) != 1) { fprintf(stderr, "emulate_relations: truncated input\n"); std::exit(1); }
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// One launch of `threads` threads in blocks of 256, as CudaRelationKernel launches it.
static void launch(const std::vector<float>& cols, int n, int first, int subjects, float t, sr4g_relation_bits bits,
                   uint32_t* masks) {
  long long threads = (long long)subjects * n;
  blockDim = {256, 1, 1};
  unsigned blocks = (unsigned)((threads + 255) / 256);
  gridDim = {blocks, 1, 1};
  for (unsigned bx = 0; bx < blocks; bx++) {
    for (unsigned tx = 0; tx < 256; tx++) {
      blockIdx = {bx, 0, 0};
      threadIdx = {tx, 0, 0};
      sr4g_relations(cols.data(), n, first, subjects, t, bits, masks);
    }
  }
}

int main() {
  float t = read_float();
  uint32_t field[14];
  for (auto& f : field) if (scanf("%u", &f) != 1) return 1;
  sr4g_relation_bits bits;
  static_assert(sizeof bits == sizeof field, "sr4g_relation_bits has 14 uint32 fields");
  std::memcpy(&bits, field, sizeof bits);
  int tables;
  if (scanf("%d", &tables) != 1) return 1;
  for (int k = 0; k < tables; k++) {
    int n;
    if (scanf("%d", &n) != 1 || n < 1) return 1;
    std::vector<float> cols(9 * (size_t)n);
    for (auto& v : cols) v = read_float();
    std::vector<uint32_t> all((size_t)n * n), one((size_t)n * n);
    launch(cols, n, 0, n, t, bits, all.data());
    for (int s = 0; s < n; s++) launch(cols, n, s, 1, t, bits, one.data() + (size_t)s * n);
    if (all != one) { fprintf(stderr, "emulate_relations: table %d: per-subject launches differ from one launch\n", k); return 3; }
    for (auto v : all) printf("%u\n", v);
  }
  return 0;
}
