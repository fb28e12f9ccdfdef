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

/* As dsb_jpeg_decode, but returns one channel of Pillow `convert("L")` luma,
 * L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16, computed per scanline from the same RGB that
 * dsb_jpeg_decode would return (gray JPEGs: the gray samples). Saves the full RGB buffer for hashing. */
int dsb_jpeg_decode_luma(const uint8_t *data, size_t len, uint64_t max_pixels, int strict,
                         dsb_image *out, char *err, size_t errlen);

/* Luma with libjpeg's DCT scaling: the largest 1/2, 1/4 or 1/8 reduction that keeps the short side
 * >= min_side. Much faster, but no longer bit-exact with Pillow (an approximate pHash mode). */
int dsb_jpeg_decode_luma_scaled(const uint8_t *data, size_t len, uint64_t max_pixels, int strict,
                                int min_side, dsb_image *out, char *err, size_t errlen);

/* A JPEG opened for streaming luma resampling (pHash): open reads the header and reports the output
 * size (after DCT scaling when min_side > 0, chosen as in dsb_jpeg_decode_luma_scaled); the caller
 * computes Pillow's resampling coefficients for that size and calls dsb_jpeg_stream_resample_luma once.
 * CMYK/YCCK JPEGs are refused by open (DSB_ERROR): decode them with dsb_jpeg_decode_luma. */
typedef struct dsb_jpeg_stream dsb_jpeg_stream;

int dsb_jpeg_stream_open(const uint8_t *data, size_t len, uint64_t max_pixels, int min_side,
                         dsb_jpeg_stream **out, int *width, int *height, int *components,
                         char *err, size_t errlen);

/* Decode every scanline, convert it to Pillow "L" and resample it horizontally to out_w (hksize 0: no
 * horizontal pass, out_w must equal the width), keep the rows the vertical pass reads, then resample
 * vertically to out_h (vksize 0: none, out_h must equal the height). Bounds are (start, count) pairs in
 * input pixels, weights out × ksize fixed-point (Pillow's PRECISION_BITS 22), exactly as Pillow's
 * ImagingResample computes them. `out` receives out_w × out_h bytes. Bit-exact with decoding via
 * dsb_jpeg_decode_luma and resizing with Pillow. */
int dsb_jpeg_stream_resample_luma(dsb_jpeg_stream *s, int strict,
                                  int out_w, const int32_t *hbounds, const int32_t *hweights, int hksize,
                                  int out_h, const int32_t *vbounds, const int32_t *vweights, int vksize,
                                  uint8_t *out, char *err, size_t errlen);

void dsb_jpeg_stream_close(dsb_jpeg_stream *s);

/* Decode a PNG to 8-bit gray, RGB or RGBA: palette expanded, tRNS -> alpha, gray+alpha -> RGBA,
 * 16-bit -> 8-bit by taking the high byte (as Pillow does), Adam7 de-interlaced, no gamma applied. */
int dsb_png_decode(const uint8_t *data, size_t len, uint64_t max_pixels,
                   dsb_image *out, char *err, size_t errlen);

/* As dsb_png_decode, except 16-bit grayscale (colour type 0) is returned as Pillow's `convert("L")` of
 * its `I;16` mode computes it: each sample clipped to 255 (not scaled). Other PNGs decode as above.
 * Only for hashing parity with imagehash; use dsb_png_decode for pixels people look at. */
int dsb_png_decode_pillow_luma16(const uint8_t *data, size_t len, uint64_t max_pixels,
                                 dsb_image *out, char *err, size_t errlen);

/* Encode 8-bit gray (1), RGB (3) or CMYK (4, written as-is with an Adobe marker, i.e. not inverted)
 * pixels as a baseline (or progressive) JPEG. *out is malloc'd. */
int dsb_jpeg_encode(const uint8_t *pixels, int width, int height, int channels, int quality,
                    int progressive, uint8_t **out, size_t *outlen, char *err, size_t errlen);

/* Encode gray/GA/RGB/RGBA (1-4 channels) as PNG. bit_depth 8 or 16 (16: samples are big-endian
 * 16-bit pairs); interlaced != 0 writes Adam7. *out is malloc'd. */
int dsb_png_encode(const uint8_t *pixels, int width, int height, int channels, int bit_depth,
                   int interlaced, uint8_t **out, size_t *outlen, char *err, size_t errlen);

void dsb_free(void *p);

#endif
