#ifndef DSBUILD_CZSTD_SHIM_H
#define DSBUILD_CZSTD_SHIM_H
/* libzstd from Debian's libzstd-dev: one-shot frame compression for text shards. */
#include <zstd.h>
#endif
