#ifndef DSBUILD_CWEBP_SHIM_H
#define DSBUILD_CWEBP_SHIM_H
#include <webp/decode.h>
#include <webp/encode.h>
#include <webp/demux.h>

/* WebPAnimDecoderOptionsInit / WebPAnimDecoderNew are static inline ABI-version wrappers in
   demux.h; Swift imports them, but keep explicit wrappers so the call sites stay obvious. */
static inline int dsb_webp_anim_options_init(WebPAnimDecoderOptions *o) {
    return WebPAnimDecoderOptionsInit(o);
}
static inline WebPAnimDecoder *dsb_webp_anim_decoder_new(const WebPData *data,
                                                       const WebPAnimDecoderOptions *o) {
    return WebPAnimDecoderNew(data, o);
}
#endif
