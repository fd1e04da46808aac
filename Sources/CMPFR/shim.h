// MPFR (correctly rounded multiple-precision floats) and the GMP it is built on,
// resolved through pkg-config "mpfr". gmp.h must come first: mpfr.h declares its
// mpz/mpq interfaces (mpfr_mul_z, …) only when gmp.h has been included.
// GMP's mpz_* names are macros that Swift does not import: call __gmpz_* instead.
#include <gmp.h>
#include <mpfr.h>
