// OpenBLAS (Debian: libopenblas-dev) through its CBLAS interface. Resolved through
// pkg-config "openblas", which pins OpenBLAS's own cblas.h; the alternatives symlink
// /usr/include/x86_64-linux-gnu/cblas.h may point at another BLAS's header.
#include <cblas.h>
