#include "dsb_image.h"
#include "dsb_jpeg_internal.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

void dsb_free(void *p) { free(p); }


/* ---------------------------------------------------------------- JPEG */

void dsb_jpeg_error_exit(j_common_ptr cinfo) {
    dsb_jpeg_err *e = (dsb_jpeg_err *)cinfo->err;
    longjmp(e->jump, 1);
}

void dsb_jpeg_emit(j_common_ptr cinfo, int level) {
    dsb_jpeg_err *e = (dsb_jpeg_err *)cinfo->err;
    if (level < 0) {                       /* a warning */
        if (e->pub.msg_code == JWRN_JPEG_EOF) e->saw_eof_warning = 1;
        if (e->warnings == 0) (*cinfo->err->format_message)(cinfo, e->first_warning);
        e->warnings++;
        e->pub.num_warnings++;
    }
}

void dsb_jpeg_silent(j_common_ptr cinfo) { (void)cinfo; }

void dsb_set_err(char *err, size_t errlen, const char *msg) {
    if (err && errlen) {
        snprintf(err, errlen, "%s", msg);
    }
}

void dsb_jpeg_scale_for_min_side(struct jpeg_decompress_struct *cinfo, int min_side) {
    if (min_side <= 0) return;
    unsigned int shortest = cinfo->image_width < cinfo->image_height ? cinfo->image_width : cinfo->image_height;
    unsigned int denom = 8;
    while (denom > 1 && shortest / denom < (unsigned int)min_side) denom /= 2;
    cinfo->scale_num = 1;
    cinfo->scale_denom = denom;
}

#define MULDIV255(a, b) ({ int t_ = (a) * (b) + 128; ((t_ >> 8) + t_) >> 8; })

/* Pillow's RGB -> L, one row. Written over 32-bit lanes without aliasing so clang vectorises it
 * (an AVX2 clone is picked at load time where the CPU has it). */
DSB_SIMD_CLONES void dsb_luma_row(uint8_t *restrict out, const uint8_t *restrict rgb, size_t n) {
#pragma clang loop vectorize(enable) interleave(enable)
    for (size_t x = 0; x < n; x++) {
        uint32_t r = rgb[3 * x], g = rgb[3 * x + 1], b = rgb[3 * x + 2];
        out[x] = (uint8_t)((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
    }
}

static int jpeg_decode(const uint8_t *data, size_t len, uint64_t max_pixels, int strict, int luma,
                       int min_side, dsb_image *out, char *err, size_t errlen) {
    struct jpeg_decompress_struct cinfo;
    dsb_jpeg_err jerr;
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile row = NULL;
    uint8_t *volatile rgbrow = NULL;
    memset(out, 0, sizeof(*out));
    memset(&jerr, 0, sizeof(jerr));
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = dsb_jpeg_error_exit;
    jerr.pub.emit_message = dsb_jpeg_emit;
    jerr.pub.output_message = dsb_jpeg_silent;
    if (setjmp(jerr.jump)) {
        char msg[JMSG_LENGTH_MAX];
        (*cinfo.err->format_message)((j_common_ptr)&cinfo, msg);
        dsb_set_err(err, errlen, msg);
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        free(rgbrow);
        memset(out, 0, sizeof(*out));
        return DSB_ERROR;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    out->width = (int)cinfo.image_width;
    out->height = (int)cinfo.image_height;
    out->source_components = cinfo.num_components;
    if (max_pixels && (uint64_t)cinfo.image_width * (uint64_t)cinfo.image_height > max_pixels) {
        jpeg_destroy_decompress(&cinfo);
        return DSB_TOO_LARGE;
    }
    dsb_jpeg_scale_for_min_side(&cinfo, min_side);
    int cmyk = 0, adobe_inverted = 0;
    switch (cinfo.jpeg_color_space) {
        case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; break;
        case JCS_CMYK:
        case JCS_YCCK:
            cinfo.out_color_space = JCS_CMYK;
            cmyk = 1;
            adobe_inverted = cinfo.saw_Adobe_marker;
            break;
        default: cinfo.out_color_space = JCS_RGB; break;
    }
    jpeg_start_decompress(&cinfo);
    int outc = cmyk ? 3 : cinfo.output_components;
    int gray_in = cinfo.output_components == 1;
    if (luma) outc = 1;
    size_t stride = (size_t)cinfo.output_width * (size_t)outc;
    /* A scanline buffer is needed for CMYK (converted to RGB) and for luma from RGB. */
    int via_row = cmyk || (luma && !gray_in);
    pixels = malloc(stride * cinfo.output_height);
    if (!pixels) {
        jpeg_destroy_decompress(&cinfo);
        return DSB_NO_MEMORY;
    }
    if (via_row) {
        row = malloc((size_t)cinfo.output_width * 4);
        rgbrow = malloc((size_t)cinfo.output_width * 3);
        if (!row || !rgbrow) { jpeg_destroy_decompress(&cinfo); free(pixels); free(row); free(rgbrow); return DSB_NO_MEMORY; }
    }
    /* Non-volatile copies for the hot loop (the volatile originals exist only for the longjmp path). */
    uint8_t *const px = pixels, *const rowbuf = row, *const rgb = rgbrow;
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        if (!via_row) {
            JSAMPROW r = px + y * stride;
            jpeg_read_scanlines(&cinfo, &r, 1);
        } else if (!cmyk) {
            /* luma from RGB */
            JSAMPROW r = rgb;
            jpeg_read_scanlines(&cinfo, &r, 1);
            dsb_luma_row(px + y * stride, rgb, cinfo.output_width);
        } else {
            JSAMPROW r = rowbuf;
            jpeg_read_scanlines(&cinfo, &r, 1);
            uint8_t *o = luma ? rgb : px + y * stride;
            for (JDIMENSION x = 0; x < cinfo.output_width; x++) {
                int c = rowbuf[4 * x], m = rowbuf[4 * x + 1], yy = rowbuf[4 * x + 2], k = rowbuf[4 * x + 3];
                if (adobe_inverted) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
                /* Pillow cmyk2rgb */
                int nk = 255 - k;
                int v;
                v = nk - MULDIV255(c, nk);  o[3 * x] = v < 0 ? 0 : (v > 255 ? 255 : v);
                v = nk - MULDIV255(m, nk);  o[3 * x + 1] = v < 0 ? 0 : (v > 255 ? 255 : v);
                v = nk - MULDIV255(yy, nk); o[3 * x + 2] = v < 0 ? 0 : (v > 255 ? 255 : v);
            }
            if (luma) {
                dsb_luma_row(px + y * stride, rgb, cinfo.output_width);
            }
        }
        if (strict && jerr.saw_eof_warning) break;
    }
    if (strict && jerr.saw_eof_warning) {
        dsb_set_err(err, errlen, "premature end of JPEG data: the file is truncated");
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        free(rgbrow);
        memset(out, 0, sizeof(*out));
        return DSB_TRUNCATED;
    }
    jpeg_finish_decompress(&cinfo);
    if (strict && jerr.saw_eof_warning) {
        dsb_set_err(err, errlen, "premature end of JPEG data: the file is truncated");
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        free(rgbrow);
        memset(out, 0, sizeof(*out));
        return DSB_TRUNCATED;
    }
    out->width = (int)cinfo.output_width;
    out->height = (int)cinfo.output_height;
    out->channels = outc;
    out->pixels = pixels;
    jpeg_destroy_decompress(&cinfo);
    free(row);
    free(rgbrow);
    return DSB_OK;
}

int dsb_jpeg_decode(const uint8_t *data, size_t len, uint64_t max_pixels, int strict,
                    dsb_image *out, char *err, size_t errlen) {
    return jpeg_decode(data, len, max_pixels, strict, 0, 0, out, err, errlen);
}

int dsb_jpeg_decode_luma(const uint8_t *data, size_t len, uint64_t max_pixels, int strict,
                         dsb_image *out, char *err, size_t errlen) {
    return jpeg_decode(data, len, max_pixels, strict, 1, 0, out, err, errlen);
}

int dsb_jpeg_decode_luma_scaled(const uint8_t *data, size_t len, uint64_t max_pixels, int strict,
                                int min_side, dsb_image *out, char *err, size_t errlen) {
    return jpeg_decode(data, len, max_pixels, strict, 1, min_side > 0 ? min_side : 1, out, err, errlen);
}

int dsb_jpeg_encode(const uint8_t *pixels, int width, int height, int channels, int quality,
                    int progressive, uint8_t **out, size_t *outlen, char *err, size_t errlen) {
    struct jpeg_compress_struct cinfo;
    dsb_jpeg_err jerr;
    unsigned char *volatile buf = NULL;
    unsigned long buflen = 0;
    *out = NULL;
    *outlen = 0;
    if (channels != 1 && channels != 3 && channels != 4) {
        dsb_set_err(err, errlen, "JPEG encoder takes gray, RGB or CMYK pixels");
        return DSB_ERROR;
    }
    memset(&jerr, 0, sizeof(jerr));
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = dsb_jpeg_error_exit;
    jerr.pub.output_message = dsb_jpeg_silent;
    if (setjmp(jerr.jump)) {
        char msg[JMSG_LENGTH_MAX];
        (*cinfo.err->format_message)((j_common_ptr)&cinfo, msg);
        dsb_set_err(err, errlen, msg);
        jpeg_destroy_compress(&cinfo);
        free(buf);
        return DSB_ERROR;
    }
    jpeg_create_compress(&cinfo);
    unsigned char *b = NULL;
    jpeg_mem_dest(&cinfo, &b, &buflen);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : (channels == 3 ? JCS_RGB : JCS_CMYK);
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * (size_t)channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW r = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &r, 1);
    }
    jpeg_finish_compress(&cinfo);
    buf = b;
    jpeg_destroy_compress(&cinfo);
    *out = buf;
    *outlen = buflen;
    return DSB_OK;
}

/* ---------------------------------------------------------------- PNG */

typedef struct {
    const uint8_t *data;
    size_t len;
    size_t pos;
    int short_read;
    char message[256];
} dsb_png_ctx;

static void dsb_png_read(png_structp png, png_bytep dst, png_size_t n) {
    dsb_png_ctx *c = (dsb_png_ctx *)png_get_io_ptr(png);
    if (c->len - c->pos < n) {
        c->short_read = 1;
        png_error(png, "unexpected end of PNG data: the file is truncated");
    }
    memcpy(dst, c->data + c->pos, n);
    c->pos += n;
}

static void dsb_png_error(png_structp png, png_const_charp msg) {
    dsb_png_ctx *c = (dsb_png_ctx *)png_get_error_ptr(png);
    snprintf(c->message, sizeof(c->message), "%s", msg);
    png_longjmp(png, 1);
}

static void dsb_png_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static int png_decode(const uint8_t *data, size_t len, uint64_t max_pixels, int clip_gray16,
                      dsb_image *out, char *err, size_t errlen) {
    dsb_png_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.data = data;
    ctx.len = len;
    memset(out, 0, sizeof(*out));
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, dsb_png_error, dsb_png_warning);
    if (!png) return DSB_NO_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_read_struct(&png, NULL, NULL); return DSB_NO_MEMORY; }
    if (setjmp(png_jmpbuf(png))) {
        dsb_set_err(err, errlen, ctx.message[0] ? ctx.message : "PNG decode error");
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels);
        free(rows);
        int truncated = ctx.short_read;
        memset(out, 0, sizeof(*out));
        return truncated ? DSB_TRUNCATED : DSB_ERROR;
    }
    png_set_read_fn(png, &ctx, dsb_png_read);
    /* No decompression-bomb limits beyond ours: we check max_pixels ourselves. */
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    out->width = (int)w;
    out->height = (int)h;
    out->source_components = color;
    if (max_pixels && (uint64_t)w * (uint64_t)h > max_pixels) {
        png_destroy_read_struct(&png, &info, NULL);
        return DSB_TOO_LARGE;
    }
    int gray16 = clip_gray16 && color == PNG_COLOR_TYPE_GRAY && depth == 16;
    if (gray16) {
        png_set_interlace_handling(png);
        png_read_update_info(png, info);
        size_t stride16 = png_get_rowbytes(png, info);
        if (stride16 != (size_t)w * 2) png_error(png, "unexpected row layout for 16-bit gray");
        pixels = malloc(stride16 * h);
        rows = malloc(sizeof(png_bytep) * h);
        if (!pixels || !rows) png_error(png, "out of memory");
        for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + (size_t)y * stride16;
        png_read_image(png, rows);
        png_read_end(png, NULL);
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        /* In place: sample i (2 bytes at 2i) -> byte i; i < 2i so nothing is overwritten before use. */
        size_t n = (size_t)w * h;
        for (size_t i = 0; i < n; i++) {
            unsigned v = ((unsigned)pixels[2 * i] << 8) | pixels[2 * i + 1];
            pixels[i] = (uint8_t)(v > 255 ? 255 : v);
        }
        out->pixels = pixels;
        out->channels = 1;
        return DSB_OK;
    }
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_strip_16(png);
    if (color == PNG_COLOR_TYPE_GRAY_ALPHA ||
        (color == PNG_COLOR_TYPE_GRAY && png_get_valid(png, info, PNG_INFO_tRNS)))
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int channels = png_get_channels(png, info);
    size_t stride = png_get_rowbytes(png, info);
    if (stride != (size_t)w * (size_t)channels) png_error(png, "unexpected row layout after transforms");
    pixels = malloc(stride * h);
    rows = malloc(sizeof(png_bytep) * h);
    if (!pixels || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + (size_t)y * stride;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    out->pixels = pixels;
    out->channels = channels;
    return DSB_OK;
}

int dsb_png_decode(const uint8_t *data, size_t len, uint64_t max_pixels,
                   dsb_image *out, char *err, size_t errlen) {
    return png_decode(data, len, max_pixels, 0, out, err, errlen);
}

int dsb_png_decode_pillow_luma16(const uint8_t *data, size_t len, uint64_t max_pixels,
                                 dsb_image *out, char *err, size_t errlen) {
    return png_decode(data, len, max_pixels, 1, out, err, errlen);
}

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    char message[256];
} dsb_png_wctx;

static void dsb_png_write(png_structp png, png_bytep src, png_size_t n) {
    dsb_png_wctx *c = (dsb_png_wctx *)png_get_io_ptr(png);
    if (c->cap - c->len < n) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap - c->len < n) cap *= 2;
        uint8_t *nb = realloc(c->buf, cap);
        if (!nb) png_error(png, "out of memory");
        c->buf = nb;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, src, n);
    c->len += n;
}

static void dsb_png_flush(png_structp png) { (void)png; }

static void dsb_png_werror(png_structp png, png_const_charp msg) {
    dsb_png_wctx *c = (dsb_png_wctx *)png_get_error_ptr(png);
    snprintf(c->message, sizeof(c->message), "%s", msg);
    png_longjmp(png, 1);
}

int dsb_png_encode(const uint8_t *pixels, int width, int height, int channels, int bit_depth,
                   int interlaced, uint8_t **out, size_t *outlen, char *err, size_t errlen) {
    static const int types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                 PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    *out = NULL;
    *outlen = 0;
    if (channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16)) {
        dsb_set_err(err, errlen, "PNG encoder takes 1-4 channels at 8 or 16 bits");
        return DSB_ERROR;
    }
    dsb_png_wctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    png_bytep *volatile rows = NULL;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, dsb_png_werror, dsb_png_warning);
    if (!png) return DSB_NO_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_write_struct(&png, NULL); return DSB_NO_MEMORY; }
    if (setjmp(png_jmpbuf(png))) {
        dsb_set_err(err, errlen, ctx.message[0] ? ctx.message : "PNG encode error");
        png_destroy_write_struct(&png, &info);
        free(rows);
        free(ctx.buf);
        return DSB_ERROR;
    }
    png_set_write_fn(png, &ctx, dsb_png_write, dsb_png_flush);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, types[channels],
                 interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t stride = (size_t)width * (size_t)channels * (size_t)(bit_depth / 8);
    rows = malloc(sizeof(png_bytep) * (size_t)(height ? height : 1));
    if (!rows) png_error(png, "out of memory");
    for (int y = 0; y < height; y++) rows[y] = (png_bytep)(pixels + (size_t)y * stride);
    png_write_image(png, rows);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(rows);
    *out = ctx.buf;
    *outlen = ctx.len;
    return DSB_OK;
}
