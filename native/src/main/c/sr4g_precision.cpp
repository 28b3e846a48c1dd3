// Float32 precision switches of libtorch's global context (process-wide, not per thread).
#include "sr4g_internal.h"

#include <ATen/Context.h>

extern "C" {

sr4g_err sr4g_allow_tf32(int32_t on, int32_t* previous) {
  SR4G_TRY
  *previous = (at::globalContext().allowTF32CuDNN() || at::globalContext().allowTF32CuBLAS()) ? 1 : 0;
  at::globalContext().setAllowTF32CuDNN(on != 0);
  at::globalContext().setAllowTF32CuBLAS(on != 0);
  SR4G_END
}

}  // extern "C"
