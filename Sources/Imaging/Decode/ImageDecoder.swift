import CImageShims
import CWebP
import Foundation

/// Pixel decoding: libjpeg-turbo, libpng and libwebp through C; BMP and GIF (first frame) in Swift.
public enum ImageDecoder {
    /// 2^28 ≈ 268 megapixels: generous for photos, small enough to refuse decompression bombs.
    public static let defaultMaxPixels = 1 << 28

    /// Decode the first frame to 8-bit gray, RGB or RGBA.
    /// - Parameter strict: treat libjpeg's "premature end of data" warning as an error (integrity checks).
    public static func decode(data: Data, maxPixels: Int = defaultMaxPixels, strict: Bool = true) throws(DecodeError) -> DecodedImage {
        do {
            return try data.withUnsafeBytes { (buf: UnsafeRawBufferPointer) throws(DecodeError) -> DecodedImage in
                try decode(bytes: buf, maxPixels: maxPixels, strict: strict)
            }
        } catch let e as DecodeError {
            throw e
        } catch {
            throw .unsupported("\(error)")
        }
    }

    public static func decode(fileAt url: URL, maxPixels: Int = defaultMaxPixels, strict: Bool = true) throws(DecodeError) -> DecodedImage {
        let data: Data
        do { data = try Data(contentsOf: url, options: [.alwaysMapped]) } catch {
            throw .unsupported("cannot read \(url.path): \(error.localizedDescription)")
        }
        return try decode(data: data, maxPixels: maxPixels, strict: strict)
    }

    public static func decode(bytes: UnsafeRawBufferPointer, maxPixels: Int = defaultMaxPixels, strict: Bool = true) throws(DecodeError) -> DecodedImage {
        let r = ByteReader(bytes)
        guard r.count > 0 else { throw .notAnImage("empty file (0 bytes)") }
        if r.u8(0) == 0xFF, r.u8(1) == 0xD8 { return try viaC(.jpeg, bytes, maxPixels, strict: strict) }
        if r.u8(0) == 0x89, r.matches(1, "PNG") { return try viaC(.png, bytes, maxPixels, strict: strict) }
        if r.matches(0, "RIFF"), r.matches(8, "WEBP") { return try webp(bytes, maxPixels) }
        if r.matches(0, "BM") { return try BMPDecoder.decode(r, maxPixels: maxPixels) }
        if r.matches(0, "GIF8") { return try GIFDecoder.decode(r, maxPixels: maxPixels) }
        // Something else: let the prober name it (AVIF/HEIF/TIFF → unsupported, HTML → not an image).
        do {
            let probe = try ImageProber.probe(bytes: bytes, scope: .geometry)
            throw DecodeError.unsupported("no \(probe.format.rawValue.uppercased()) decoder built in")
        } catch let e as ProbeError {
            if case .notAnImage(let what) = e { throw .notAnImage(what) }
            throw .unsupported(e.description)
        } catch let e as DecodeError {
            throw e
        } catch {
            throw .unsupported("\(error)")
        }
    }

    /// Decode straight to Pillow `convert("L")` luma (one channel). For JPEG the conversion happens per
    /// scanline inside the decoder, so the full RGB image is never stored; other formats decode then convert.
    /// - Parameter reducedMinSide: when set, JPEGs are decoded with libjpeg's DCT scaling (1/2–1/8) down
    ///   to a short side of at least this many pixels: several times faster, not bit-exact with Pillow.
    public static func decodeLuma(bytes: UnsafeRawBufferPointer, maxPixels: Int = defaultMaxPixels, strict: Bool = true,
                                  reducedMinSide: Int? = nil) throws(DecodeError) -> DecodedImage {
        if bytes.count > 2, bytes[0] == 0xFF, bytes[1] == 0xD8 {
            return try viaC(.jpeg, bytes, maxPixels, strict: strict, luma: true, minSide: reducedMinSide ?? 0)
        }
        if bytes.count > 8, bytes[0] == 0x89, bytes[1] == 0x50 {
            // 16-bit gray: Pillow's I;16 → L clips instead of scaling; match it for hash parity.
            return try viaC(.png, bytes, maxPixels, strict: strict, luma: true).luma()
        }
        return try decode(bytes: bytes, maxPixels: maxPixels, strict: strict).luma()
    }

    private static func viaC(_ format: ImageFormat, _ bytes: UnsafeRawBufferPointer, _ maxPixels: Int, strict: Bool,
                             luma: Bool = false, minSide: Int = 0) throws(DecodeError) -> DecodedImage {
        var img = dsb_image()
        var err = [CChar](repeating: 0, count: 256)
        let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let rc: Int32 = format == .jpeg
            ? (minSide > 0
                ? dsb_jpeg_decode_luma_scaled(base, bytes.count, UInt64(maxPixels), strict ? 1 : 0, Int32(minSide), &img, &err, err.count)
                : (luma ? dsb_jpeg_decode_luma : dsb_jpeg_decode)(base, bytes.count, UInt64(maxPixels), strict ? 1 : 0, &img, &err, err.count))
            : (luma ? dsb_png_decode_pillow_luma16 : dsb_png_decode)(base, bytes.count, UInt64(maxPixels), &img, &err, err.count)
        let message = cString(err)
        guard rc == DSB_OK else {
            throw shimError(rc, format, message: message, width: Int(img.width), height: Int(img.height), maxPixels: maxPixels)
        }
        defer { dsb_free(img.pixels) }
        let n = Int(img.width) * Int(img.height) * Int(img.channels)
        let pixels = [UInt8](UnsafeBufferPointer(start: img.pixels, count: n))
        return DecodedImage(width: Int(img.width), height: Int(img.height), channels: Int(img.channels), pixels: pixels)
    }

    /// The typed error for a failed CImageShims call.
    static func shimError(_ rc: Int32, _ format: ImageFormat, message: String, width: Int, height: Int, maxPixels: Int) -> DecodeError {
        switch Int(rc) {
        case Int(DSB_TOO_LARGE):
            return .tooLarge(width: width, height: height, maxPixels: maxPixels)
        case Int(DSB_TRUNCATED):
            return .truncated(format, message)
        case Int(DSB_NO_MEMORY):
            return .corrupt(format, "out of memory while decoding")
        default:
            let lower = message.lowercased()
            if lower.contains("premature end") || lower.contains("truncated") { return .truncated(format, message) }
            if lower.contains("unsupported") { return .unsupported("\(format.rawValue.uppercased()): \(message)") }
            return .corrupt(format, message)
        }
    }

    private static func webp(_ bytes: UnsafeRawBufferPointer, _ maxPixels: Int) throws(DecodeError) -> DecodedImage {
        let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        if let riffSize = ByteReader(bytes).u32le(4), riffSize + 8 > bytes.count {
            throw .truncated(.webp, "RIFF header says \(riffSize + 8) bytes, file has \(bytes.count)")
        }
        var features = WebPBitstreamFeatures()
        let status = WebPGetFeatures(base, bytes.count, &features)
        guard status == VP8_STATUS_OK else {
            if status == VP8_STATUS_NOT_ENOUGH_DATA { throw .truncated(.webp, "not enough data for the bitstream header") }
            throw .corrupt(.webp, "libwebp status \(status.rawValue)")
        }
        let w = Int(features.width), h = Int(features.height)
        guard w * h <= maxPixels else { throw .tooLarge(width: w, height: h, maxPixels: maxPixels) }
        if features.has_animation != 0 {
            var options = WebPAnimDecoderOptions()
            guard dsb_webp_anim_options_init(&options) != 0 else { throw .unsupported("libwebp demux ABI mismatch") }
            options.color_mode = MODE_RGBA
            options.use_threads = 0
            var data = WebPData(bytes: base, size: bytes.count)
            guard let dec = dsb_webp_anim_decoder_new(&data, &options) else {
                throw .corrupt(.webp, "animated WebP could not be demuxed")
            }
            defer { WebPAnimDecoderDelete(dec) }
            var info = WebPAnimInfo()
            guard WebPAnimDecoderGetInfo(dec, &info) != 0 else { throw .corrupt(.webp, "animation info unreadable") }
            let cw = Int(info.canvas_width), ch = Int(info.canvas_height)
            guard cw * ch <= maxPixels else { throw .tooLarge(width: cw, height: ch, maxPixels: maxPixels) }
            var frame: UnsafeMutablePointer<UInt8>?
            var timestamp: Int32 = 0
            guard WebPAnimDecoderGetNext(dec, &frame, &timestamp) != 0, let frame else {
                throw .truncated(.webp, "first animation frame could not be decoded")
            }
            return DecodedImage(width: cw, height: ch, channels: 4, pixels: [UInt8](UnsafeBufferPointer(start: frame, count: cw * ch * 4)))
        }
        let channels = features.has_alpha != 0 ? 4 : 3
        var pixels = [UInt8](repeating: 0, count: w * h * channels)
        let ok = pixels.withUnsafeMutableBufferPointer { out -> Bool in
            let stride = Int32(w * channels)
            let r = channels == 4
                ? WebPDecodeRGBAInto(base, bytes.count, out.baseAddress, out.count, stride)
                : WebPDecodeRGBInto(base, bytes.count, out.baseAddress, out.count, stride)
            return r != nil
        }
        guard ok else { throw .corrupt(.webp, "libwebp could not decode the bitstream (truncated or damaged)") }
        return DecodedImage(width: w, height: h, channels: channels, pixels: pixels)
    }
}
