// oneDNN (Debian: libdnnl-dev) for matrix products with bfloat16 inputs and Float32
// accumulation, which run on the CPU's AVX512-BF16 or AMX units. Only DPModel's
// `BFloat16Weight` calls it.
#include <dlfcn.h>
#include <stdint.h>
#include <oneapi/dnnl/dnnl.h>

// Exported by libdnnl (DNNL_API) but declared only in oneDNN's tests: C ← α·op(A)·op(B) + β·C
// in row-major order, A and B bfloat16 (the upper 16 bits of a Float32), C Float32.
dnnl_status_t dnnl_gemm_bf16bf16f32(char transa, char transb, dnnl_dim_t M, dnnl_dim_t N,
    dnnl_dim_t K, float alpha, const uint16_t *A, dnnl_dim_t lda, const uint16_t *B,
    dnnl_dim_t ldb, float beta, float *C, dnnl_dim_t ldc);

// oneDNN runs its products on OpenMP threads, as many as the cores by default. dpfl's own
// threads (clients, shards) already share the cores, so each of them asks OpenMP for one
// thread, once. omp_set_num_threads is looked up at run time in the libgomp that libdnnl
// loaded, so that dpfl does not link libgomp itself.
static inline void dpfl_dnnl_use_calling_thread_only(void) {
  static __thread int done = 0;
  if (done) return;
  done = 1;
  void (*set_threads)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
  if (set_threads) set_threads(1);
}
