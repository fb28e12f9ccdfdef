/* JPEG -> Pillow "L" -> Pillow resample, streamed: each decoded scanline is converted to luma and
 * resampled horizontally at once, so the full-resolution image is never stored. Used for pHash. */
#include "dsb_image.h"
#include "dsb_jpeg_internal.h"

#include <stdlib.h>
#include <string.h>
#include <jerror.h>

struct dsb_jpeg_stream {
    struct jpeg_decompress_struct cinfo;
    dsb_jpeg_err jerr;
    int created;
};

/* Pillow's PRECISION_BITS for 8-bit resampling. */
#define DSB_PRECISION_BITS (32 - 8 - 2)

static inline uint8_t dsb_clip8(int32_t v) {
    int32_t s = v >> DSB_PRECISION_BITS;
    return s <= 0 ? 0 : (s >= 255 ? 255 : (uint8_t)s);
}

/* Pillow's RGB -> L over RGBX pixels (libjpeg-turbo's 4-byte output, same RGB values as JCS_RGB):
 * aligned 32-bit lanes vectorise far better than 3-byte pixels. */
DSB_SIMD_CLONES static void luma_row_rgbx(uint8_t *restrict out, const uint8_t *restrict rgbx, size_t n) {
#pragma clang loop vectorize(enable) interleave(enable)
    for (size_t x = 0; x < n; x++) {
        uint32_t p;
        memcpy(&p, rgbx + 4 * x, 4);
        uint32_t r = p & 0xFFu, g = (p >> 8) & 0xFFu, b = (p >> 16) & 0xFFu;
        out[x] = (uint8_t)((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
    }
}

/* One row of Pillow's horizontal pass (ImagingResampleHorizontal_8bpc, one band). */
DSB_SIMD_CLONES static void hresample_row(uint8_t *restrict out, const uint8_t *restrict line, int out_w,
                                          const int32_t *restrict bounds, const int32_t *restrict weights, int ksize) {
    for (int xx = 0; xx < out_w; xx++) {
        const uint8_t *p = line + bounds[2 * xx];
        const int32_t *k = weights + (size_t)xx * (size_t)ksize;
        int n = bounds[2 * xx + 1];
        int32_t ss = 1 << (DSB_PRECISION_BITS - 1);
#pragma clang loop vectorize(enable) interleave(enable)
        for (int x = 0; x < n; x++) ss += (int32_t)p[x] * k[x];
        out[xx] = dsb_clip8(ss);
    }
}

/* One output row of Pillow's vertical pass over `w`-wide rows. */
DSB_SIMD_CLONES static void vresample_row(uint8_t *restrict out, const uint8_t *restrict rows, int w,
                                          int ymin, int ycount, const int32_t *restrict k) {
    for (int i = 0; i < w; i++) {
        int32_t ss = 1 << (DSB_PRECISION_BITS - 1);
        for (int y = 0; y < ycount; y++) ss += (int32_t)rows[(size_t)(ymin + y) * (size_t)w + i] * k[y];
        out[i] = dsb_clip8(ss);
    }
}

void dsb_jpeg_stream_close(dsb_jpeg_stream *s) {
    if (!s) return;
    if (s->created) jpeg_destroy_decompress(&s->cinfo);
    free(s);
}

int dsb_jpeg_stream_open(const uint8_t *data, size_t len, uint64_t max_pixels, int min_side,
                         dsb_jpeg_stream **out, int *width, int *height, int *components,
                         char *err, size_t errlen) {
    *out = NULL;
    *width = *height = *components = 0;
    dsb_jpeg_stream *volatile s = calloc(1, sizeof(dsb_jpeg_stream));
    if (!s) return DSB_NO_MEMORY;
    s->cinfo.err = jpeg_std_error(&s->jerr.pub);
    s->jerr.pub.error_exit = dsb_jpeg_error_exit;
    s->jerr.pub.emit_message = dsb_jpeg_emit;
    s->jerr.pub.output_message = dsb_jpeg_silent;
    if (setjmp(s->jerr.jump)) {
        char msg[JMSG_LENGTH_MAX];
        (*s->cinfo.err->format_message)((j_common_ptr)&s->cinfo, msg);
        dsb_set_err(err, errlen, msg);
        dsb_jpeg_stream_close(s);
        return DSB_ERROR;
    }
    jpeg_create_decompress(&s->cinfo);
    s->created = 1;
    jpeg_mem_src(&s->cinfo, data, (unsigned long)len);
    jpeg_read_header(&s->cinfo, TRUE);
    *components = s->cinfo.num_components;
    if (max_pixels && (uint64_t)s->cinfo.image_width * (uint64_t)s->cinfo.image_height > max_pixels) {
        *width = (int)s->cinfo.image_width;
        *height = (int)s->cinfo.image_height;
        dsb_jpeg_stream_close(s);
        return DSB_TOO_LARGE;
    }
    dsb_jpeg_scale_for_min_side(&s->cinfo, min_side);
    switch (s->cinfo.jpeg_color_space) {
        case JCS_GRAYSCALE: s->cinfo.out_color_space = JCS_GRAYSCALE; break;
        case JCS_CMYK:
        case JCS_YCCK:
            /* Pillow's CMYK -> RGB -> L goes through dsb_jpeg_decode_luma; not streamed here. */
            dsb_set_err(err, errlen, "CMYK/YCCK JPEG: use the full decoder");
            dsb_jpeg_stream_close(s);
            return DSB_ERROR;
#if defined(JCS_EXTENSIONS) && !defined(WORDS_BIGENDIAN) && (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
        default: s->cinfo.out_color_space = JCS_EXT_RGBX; break;
#else
        default: s->cinfo.out_color_space = JCS_RGB; break;
#endif
    }
    jpeg_calc_output_dimensions(&s->cinfo);
    *width = (int)s->cinfo.output_width;
    *height = (int)s->cinfo.output_height;
    *out = s;
    return DSB_OK;
}

int dsb_jpeg_stream_resample_luma(dsb_jpeg_stream *s, int strict,
                                  int out_w, const int32_t *hbounds, const int32_t *hweights, int hksize,
                                  int out_h, const int32_t *vbounds, const int32_t *vweights, int vksize,
                                  uint8_t *out, char *err, size_t errlen) {
    struct jpeg_decompress_struct *cinfo = &s->cinfo;
    uint8_t *volatile scan = NULL, *volatile luma = NULL, *volatile rows = NULL;
    if (setjmp(s->jerr.jump)) {
        char msg[JMSG_LENGTH_MAX];
        (*cinfo->err->format_message)((j_common_ptr)cinfo, msg);
        dsb_set_err(err, errlen, msg);
        free(scan); free(luma); free(rows);
        return DSB_ERROR;
    }
    jpeg_start_decompress(cinfo);
    const int w = (int)cinfo->output_width, h = (int)cinfo->output_height;
    const int gray = cinfo->output_components == 1;
    const int horizontal = hksize > 0, vertical = vksize > 0;
    const int row_w = horizontal ? out_w : w;
    /* Rows the vertical pass reads (all of them when there is no vertical pass). */
    const int first = vertical ? vbounds[0] : 0;
    const int last = vertical ? vbounds[2 * (out_h - 1)] + vbounds[2 * out_h - 1] : h;
    const int rgbx = cinfo->out_color_space != JCS_RGB && !gray;
    scan = malloc((size_t)w * 4);
    luma = malloc((size_t)w);
    rows = malloc((size_t)row_w * (size_t)(last - first > 0 ? last - first : 1));
    if (!scan || !luma || !rows) { free(scan); free(luma); free(rows); return DSB_NO_MEMORY; }
    uint8_t *const scanbuf = scan, *const lumabuf = luma, *const rowbuf = rows;
    while (cinfo->output_scanline < cinfo->output_height) {
        int y = (int)cinfo->output_scanline;
        JSAMPROW r = gray ? lumabuf : scanbuf;
        jpeg_read_scanlines(cinfo, &r, 1);
        if (strict && s->jerr.saw_eof_warning) break;
        if (y < first || y >= last) continue;
        if (rgbx) luma_row_rgbx(lumabuf, scanbuf, (size_t)w);
        else if (!gray) dsb_luma_row(lumabuf, scanbuf, (size_t)w);
        uint8_t *dst = rowbuf + (size_t)(y - first) * (size_t)row_w;
        if (horizontal) hresample_row(dst, lumabuf, out_w, hbounds, hweights, hksize);
        else memcpy(dst, lumabuf, (size_t)w);
    }
    if (!(strict && s->jerr.saw_eof_warning)) jpeg_finish_decompress(cinfo);
    if (strict && s->jerr.saw_eof_warning) {
        dsb_set_err(err, errlen, "premature end of JPEG data: the file is truncated");
        free(scan); free(luma); free(rows);
        return DSB_TRUNCATED;
    }
    if (vertical) {
        for (int yy = 0; yy < out_h; yy++) {
            vresample_row(out + (size_t)yy * (size_t)row_w, rowbuf, row_w, vbounds[2 * yy] - first, vbounds[2 * yy + 1],
                          vweights + (size_t)yy * (size_t)vksize);
        }
    } else {
        memcpy(out, rowbuf, (size_t)row_w * (size_t)h);
    }
    free(scan); free(luma); free(rows);
    return DSB_OK;
}
