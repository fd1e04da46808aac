// FFTW 3 (Debian: libfftw3-dev), double precision, for composing privacy-loss
// distributions by FFT. Resolved through pkg-config "fftw3".
#include <fftw3.h>
