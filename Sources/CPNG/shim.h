#ifndef DSBUILD_CPNG_SHIM_H
#define DSBUILD_CPNG_SHIM_H
#include <png.h>
#endif
