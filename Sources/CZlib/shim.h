#ifndef DSBUILD_CZLIB_SHIM_H
#define DSBUILD_CZLIB_SHIM_H
#include <zlib.h>

/* deflateInit2 is a macro over deflateInit2_; Swift cannot call macros. */
static inline int dsbuild_deflate_init_gzip(z_streamp strm, int level) {
    return deflateInit2(strm, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
/* inflateInit2 is a macro too: 15 + 32 reads gzip or zlib headers. */
static inline int dsbuild_inflate_init_gzip(z_streamp strm) {
    return inflateInit2(strm, 15 + 32);
}
#endif
