extension DecodedImage {
    /// Apply an EXIF orientation (1–8) so the result is upright, as Pillow's `ImageOps.exif_transpose`:
    /// 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise.
    public func applyingOrientation(_ orientation: Int) -> DecodedImage {
        guard (2...8).contains(orientation) else { return self }
        let w = width, h = height, c = channels
        let swap = orientation >= 5
        let ow = swap ? h : w, oh = swap ? w : h
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let (sx, sy): (Int, Int)
                        switch orientation {
                        case 2: (sx, sy) = (w - 1 - ox, oy)
                        case 3: (sx, sy) = (w - 1 - ox, h - 1 - oy)
                        case 4: (sx, sy) = (ox, h - 1 - oy)
                        case 5: (sx, sy) = (oy, ox)
                        case 6: (sx, sy) = (oy, h - 1 - ox)
                        case 7: (sx, sy) = (w - 1 - oy, h - 1 - ox)
                        default: (sx, sy) = (w - 1 - oy, ox)
                        }
                        let s = (sy * w + sx) * c, d = (oy * ow + ox) * c
                        for i in 0..<c { dst[d + i] = src[s + i] }
                    }
                }
            }
        }
        return DecodedImage(width: ow, height: oh, channels: c, pixels: out)
    }
}
