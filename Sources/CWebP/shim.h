#ifndef DSBUILD_CWEBP_SHIM_H
#define DSBUILD_CWEBP_SHIM_H
#include <webp/decode.h>
#include <webp/encode.h>
#endif
