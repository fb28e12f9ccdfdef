#ifndef DSBUILD_CJPEG_SHIM_H
#define DSBUILD_CJPEG_SHIM_H
#include <stdio.h>
#include <stddef.h>
#include <jpeglib.h>
#endif
