#ifndef DSBUILD_IMAGE_SHIMS_H
#define DSBUILD_IMAGE_SHIMS_H
/*
 * Thin C helpers around libjpeg-turbo and libpng for the Filter module.
 * Both libraries report fatal errors by longjmp-ing out of a callback; Swift cannot
 * call setjmp, so the setjmp/longjmp dance lives here. Nothing in here exits the process.
 */
#include <stddef.h>
#include <stdint.h>

/* Result codes shared by every function below. */
enum {
    DSB_OK = 0,
    DSB_ERROR = 1,        /* decoder error; message in err */
    DSB_TOO_LARGE = 2,    /* width*height > max_pixels; width/height are filled in, nothing allocated */
    DSB_TRUNCATED = 3,    /* data ended early (libjpeg "premature end", libpng short read) */
    DSB_NO_MEMORY = 4,
};

typedef struct {
    uint8_t *pixels;   /* malloc'd, free with dsb_free; rows packed, width*channels bytes each */
    int width;
    int height;
    int channels;      /* 1 (gray), 3 (RGB) or 4 (RGBA) */
    int source_components; /* JPEG: components in the file; PNG: colour type */
} dsb_image;

/* Decode a JPEG to 8-bit gray or RGB with libjpeg defaults (ISLOW IDCT, fancy upsampling),
 * as Pillow does. CMYK/YCCK are converted to RGB with Pillow's formula (Adobe inverted CMYK honoured).
 * strict != 0: libjpeg's "premature end of JPEG file" warning is an error (DSB_TRUNCATED). */
int dsb_jpeg_decode(const uint8_t *data, size_t len, uint64_t max_pixels, int strict,
                    dsb_image *out, char *err, size_t errlen);

/* Decode a PNG to 8-bit gray, RGB or RGBA: palette expanded, tRNS -> alpha, gray+alpha -> RGBA,
 * 16-bit -> 8-bit by taking the high byte (as Pillow does), Adam7 de-interlaced, no gamma applied. */
int dsb_png_decode(const uint8_t *data, size_t len, uint64_t max_pixels,
                   dsb_image *out, char *err, size_t errlen);

/* Encode 8-bit gray (1) or RGB (3) pixels as a baseline (or progressive) JPEG. *out is malloc'd. */
int dsb_jpeg_encode(const uint8_t *pixels, int width, int height, int channels, int quality,
                    int progressive, uint8_t **out, size_t *outlen, char *err, size_t errlen);

/* Encode gray/GA/RGB/RGBA (1-4 channels) as PNG. bit_depth 8 or 16 (16: samples are big-endian
 * 16-bit pairs); interlaced != 0 writes Adam7. *out is malloc'd. */
int dsb_png_encode(const uint8_t *pixels, int width, int height, int channels, int bit_depth,
                   int interlaced, uint8_t **out, size_t *outlen, char *err, size_t errlen);

void dsb_free(void *p);

#endif
