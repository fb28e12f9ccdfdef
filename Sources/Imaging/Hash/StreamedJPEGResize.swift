import CImageShims

/// A JPEG decoded scanline by scanline in C, each line turned into Pillow `convert("L")` luma and resampled
/// horizontally at once, then resampled vertically: the result equals `Resampler.resize` of
/// `ImageDecoder.decodeLuma`, without ever storing the full-resolution image. The resampling coefficients
/// come from `Resampler.coefficients`, so there is one definition of Pillow's arithmetic.
enum StreamedJPEGResize {
    /// Luma resized to `width` × `height`, or nil for a JPEG the stream does not take (CMYK/YCCK: decode
    /// those with `ImageDecoder.decodeLuma`).
    /// - Parameter minSide: > 0 decodes with libjpeg DCT scaling first (the approximate pHash mode).
    static func luma(bytes: UnsafeRawBufferPointer, width: Int, height: Int, filter: ResampleFilter,
                     maxPixels: Int, strict: Bool, minSide: Int = 0) throws(DecodeError) -> [UInt8]? {
        var err = [CChar](repeating: 0, count: 256)
        var stream: OpaquePointer?
        var inW: Int32 = 0, inH: Int32 = 0, components: Int32 = 0
        let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let opened = dsb_jpeg_stream_open(base, bytes.count, UInt64(maxPixels), Int32(minSide), &stream,
                                          &inW, &inH, &components, &err, err.count)
        guard opened == DSB_OK, let stream else {
            if opened == DSB_ERROR, components == 4 { return nil }
            throw ImageDecoder.shimError(opened, .jpeg, message: cString(err), width: Int(inW), height: Int(inH), maxPixels: maxPixels)
        }
        defer { dsb_jpeg_stream_close(stream) }
        let horizontal = Int(inW) == width ? nil : Resampler.coefficients(inSize: Int(inW), outSize: width, filter: filter)
        let vertical = Int(inH) == height ? nil : Resampler.coefficients(inSize: Int(inH), outSize: height, filter: filter)
        let hBounds = (horizontal?.bounds ?? [0]).map { Int32($0) }, vBounds = (vertical?.bounds ?? [0]).map { Int32($0) }
        let hWeights = horizontal?.weights ?? [0], vWeights = vertical?.weights ?? [0]
        var out = [UInt8](repeating: 0, count: width * height)
        let rc = out.withUnsafeMutableBufferPointer { o in
            dsb_jpeg_stream_resample_luma(stream, strict ? 1 : 0,
                                          Int32(width), hBounds, hWeights, Int32(horizontal?.ksize ?? 0),
                                          Int32(height), vBounds, vWeights, Int32(vertical?.ksize ?? 0),
                                          o.baseAddress, &err, err.count)
        }
        guard rc == DSB_OK else {
            throw ImageDecoder.shimError(rc, .jpeg, message: cString(err), width: Int(inW), height: Int(inH), maxPixels: maxPixels)
        }
        return out
    }
}
