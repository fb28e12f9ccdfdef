import Foundation

/// Resampling filters with Pillow's supports.
public enum ResampleFilter: String, Sendable, Codable {
    case box, bilinear, hamming, bicubic, lanczos

    var support: Double {
        switch self {
        case .box: 0.5
        case .bilinear, .hamming: 1.0
        case .bicubic: 2.0
        case .lanczos: 3.0
        }
    }

    @inline(__always) func weight(_ x: Double) -> Double {
        switch self {
        case .box:
            return x > -0.5 && x <= 0.5 ? 1.0 : 0.0
        case .bilinear:
            let a = abs(x)
            return a < 1.0 ? 1.0 - a : 0.0
        case .hamming:
            let a = abs(x)
            if a == 0.0 { return 1.0 }
            if a >= 1.0 { return 0.0 }
            let px = a * Double.pi
            return sin(px) / px * (Double(Float(0.54)) + Double(Float(0.46)) * cos(px))
        case .bicubic:
            let a = abs(x), k = -0.5
            if a < 1.0 { return ((k + 2.0) * a - (k + 3.0)) * a * a + 1 }
            if a < 2.0 { return (((a - 5) * a + 8) * a - 4) * k }
            return 0.0
        case .lanczos:
            guard -3.0 <= x && x < 3.0 else { return 0.0 }
            return Self.sinc(x) * Self.sinc(x / 3)
        }
    }

    @inline(__always) static func sinc(_ x: Double) -> Double {
        if x == 0.0 { return 1.0 }
        let px = x * Double.pi
        return sin(px) / px
    }
}

/// A bit-exact reimplementation of Pillow's `ImagingResample` for 8-bit images (libImaging/Resample.c):
/// separable convolution, horizontal pass then vertical pass, support = filter support × max(scale, 1),
/// bounds rounded with `(int)(center ± support + 0.5)`, weights normalised to sum 1 in double and then
/// converted to fixed point with PRECISION_BITS = 22 (round half away from zero), accumulators start at
/// 1 << 21, results clipped to 0…255 after each pass.
public enum Resampler {
    static let precisionBits = 32 - 8 - 2

    struct Coefficients {
        var ksize: Int
        var bounds: [Int]  // (xmin, count) pairs
        var weights: [Int32]  // outSize × ksize fixed-point weights
    }

    static func coefficients(inSize: Int, outSize: Int, filter: ResampleFilter) -> Coefficients {
        // Pillow passes the box as floats; (in1 - in0) is computed in float, then widened.
        let in0 = Double(Float(0)), in1 = Double(Float(inSize))
        let scale = (in1 - in0) / Double(outSize)
        let filterscale = max(scale, 1.0)
        let support = filter.support * filterscale
        let ksize = Int(support.rounded(.up)) * 2 + 1
        var bounds = [Int](repeating: 0, count: outSize * 2)
        var weights = [Int32](repeating: 0, count: outSize * ksize)
        var k = [Double](repeating: 0, count: ksize)
        let invFilterscale = 1.0 / filterscale
        let one = Double(1 << precisionBits)
        for xx in 0..<outSize {
            let center = in0 + (Double(xx) + 0.5) * scale
            var ww = 0.0
            var xmin = Int(center - support + 0.5)  // C (int) truncates toward zero
            if xmin < 0 { xmin = 0 }
            var xmax = Int(center + support + 0.5)
            if xmax > inSize { xmax = inSize }
            xmax -= xmin
            for x in 0..<xmax {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * invFilterscale)
                k[x] = w
                ww += w
            }
            if ww != 0.0 { for x in 0..<xmax { k[x] /= ww } }
            for x in 0..<ksize {
                let v = x < xmax ? k[x] : 0.0
                weights[xx * ksize + x] = Int32(v < 0 ? -0.5 + v * one : 0.5 + v * one)
            }
            bounds[2 * xx] = xmin
            bounds[2 * xx + 1] = xmax
        }
        return Coefficients(ksize: ksize, bounds: bounds, weights: weights)
    }

    @inline(__always) static func clip8(_ v: Int32) -> UInt8 {
        let s = v >> Int32(precisionBits)
        return s <= 0 ? 0 : (s >= 255 ? 255 : UInt8(s))
    }

    /// Resize to `width` × `height` exactly as Pillow's `Image.resize(size, filter)` does for 8-bit modes
    /// (per channel; Pillow premultiplies alpha for RGBA before resizing — callers wanting that should do it).
    public static func resize(_ image: DecodedImage, width: Int, height: Int, filter: ResampleFilter = .lanczos) -> DecodedImage {
        precondition(width > 0 && height > 0)
        if width == image.width && height == image.height { return image }
        let c = image.channels
        let vert = coefficients(inSize: image.height, outSize: height, filter: filter)
        var current = image.pixels
        var curW = image.width
        var bounds = vert.bounds
        if width != image.width {
            let horiz = coefficients(inSize: image.width, outSize: width, filter: filter)
            let first = vert.bounds[0]
            let last = vert.bounds[2 * height - 2] + vert.bounds[2 * height - 1]
            for i in 0..<height { bounds[2 * i] -= first }
            let rows = last - first
            var out = [UInt8](repeating: 0, count: width * rows * c)
            let inW = image.width
            current.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    horiz.weights.withUnsafeBufferPointer { kk in
                        if c == 1 {
                            // Gray (the pHash path): contiguous taps, a plain dot product LLVM can vectorise.
                            let s = src.baseAddress!, k = kk.baseAddress!
                            for yy in 0..<rows {
                                let rowIn = s + (yy + first) * inW
                                for xx in 0..<width {
                                    let xmin = horiz.bounds[2 * xx], xmax = horiz.bounds[2 * xx + 1]
                                    let taps = k + xx * horiz.ksize, line = rowIn + xmin
                                    var ss: Int32 = 1 << Int32(precisionBits - 1)
                                    for x in 0..<xmax { ss &+= Int32(line[x]) &* taps[x] }
                                    dst[yy * width + xx] = clip8(ss)
                                }
                            }
                            return
                        }
                        for yy in 0..<rows {
                            let rowIn = (yy + first) * inW * c
                            let rowOut = yy * width * c
                            for xx in 0..<width {
                                let xmin = horiz.bounds[2 * xx], xmax = horiz.bounds[2 * xx + 1]
                                let kbase = xx * horiz.ksize
                                for ch in 0..<c {
                                    var ss: Int32 = 1 << Int32(precisionBits - 1)
                                    var p = rowIn + xmin * c + ch
                                    for x in 0..<xmax {
                                        ss &+= Int32(src[p]) &* kk[kbase + x]
                                        p += c
                                    }
                                    dst[rowOut + xx * c + ch] = clip8(ss)
                                }
                            }
                        }
                    }
                }
            }
            current = out
            curW = width
        }
        if height != image.height {
            var out = [UInt8](repeating: 0, count: curW * height * c)
            let rowLen = curW * c
            current.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    vert.weights.withUnsafeBufferPointer { kk in
                        for yy in 0..<height {
                            let ymin = bounds[2 * yy], ymax = bounds[2 * yy + 1]
                            let kbase = yy * vert.ksize
                            for i in 0..<rowLen {
                                var ss: Int32 = 1 << Int32(precisionBits - 1)
                                var p = ymin * rowLen + i
                                for y in 0..<ymax {
                                    ss &+= Int32(src[p]) &* kk[kbase + y]
                                    p += rowLen
                                }
                                dst[yy * rowLen + i] = clip8(ss)
                            }
                        }
                    }
                }
            }
            current = out
        }
        return DecodedImage(width: width, height: height, channels: c, pixels: current)
    }

    /// Fit inside `maxSide` × `maxSide` keeping the aspect ratio (never upscales); for thumbnails.
    public static func thumbnail(_ image: DecodedImage, maxSide: Int, filter: ResampleFilter = .lanczos) -> DecodedImage {
        let longest = max(image.width, image.height)
        guard longest > maxSide else { return image }
        let s = Double(maxSide) / Double(longest)
        let w = max(1, Int((Double(image.width) * s).rounded()))
        let h = max(1, Int((Double(image.height) * s).rounded()))
        return resize(image, width: w, height: h, filter: filter)
    }
}
