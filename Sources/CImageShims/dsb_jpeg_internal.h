#ifndef DSBUILD_JPEG_INTERNAL_H
#define DSBUILD_JPEG_INTERNAL_H
/* Shared between the shim's C files; not part of the module's public header. */
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jpeglib.h>

/* libjpeg error manager: fatal errors longjmp to `jump`; warnings are counted, the first kept, and a
 * premature end of data is flagged so strict callers can treat a truncated file as an error. */
typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int saw_eof_warning;
    int warnings;
    char first_warning[JMSG_LENGTH_MAX];
} dsb_jpeg_err;

void dsb_jpeg_error_exit(j_common_ptr cinfo);
void dsb_jpeg_emit(j_common_ptr cinfo, int level);
void dsb_jpeg_silent(j_common_ptr cinfo);
void dsb_set_err(char *err, size_t errlen, const char *msg);

/* Row kernels get an AVX2 clone (chosen by the loader on CPUs that have it) on x86-64 ELF. */
#if defined(__x86_64__) && defined(__ELF__) && defined(__clang__)
#define DSB_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DSB_SIMD_CLONES
#endif

/* DCT scaling for the approximate pHash: the largest 1/2, 1/4 or 1/8 reduction that keeps the short side
 * >= min_side (nothing when min_side <= 0). Call after jpeg_read_header. */
void dsb_jpeg_scale_for_min_side(struct jpeg_decompress_struct *cinfo, int min_side);

void dsb_luma_row(uint8_t *restrict out, const uint8_t *restrict rgb, size_t n);

#endif
