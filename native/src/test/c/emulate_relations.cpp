// Runs sr4g_relations from sr4g_kernels.cu on the CPU, one loop iteration per CUDA thread, so CI (no GPU) can check
// the kernel source against the Java rules. Build: g++ -ffp-contract=off -DSR4G_KERNELS_CU=\"path/sr4g_kernels.cu\"
// Input on stdin: n W H, then 4n floats; output: n*n masks, one per line.
#include <cstdio>
#include <cstdint>
#include <cmath>
#include <vector>
struct D3 { unsigned x, y, z; };
static D3 blockIdx, threadIdx, blockDim, gridDim;
#define __global__
#define __restrict__
#include SR4G_KERNELS_CU
int main() {
  int n; float W, H;
  if (scanf("%d %f %f", &n, &W, &H) != 3) return 1;
  std::vector<float> b(4 * n);
  for (auto& v : b) scanf("%f", &v);
  std::vector<uint32_t> m((size_t)n * n);
  blockDim = {256, 1, 1};
  unsigned blocks = (unsigned)(((long long)n * n + 255) / 256);
  for (unsigned bx = 0; bx < blocks; bx++) for (unsigned tx = 0; tx < 256; tx++) {
    blockIdx = {bx, 0, 0}; threadIdx = {tx, 0, 0};
    sr4g_relations(b.data(), n, W, H, m.data());
  }
  for (auto v : m) printf("%u\n", v);
}
