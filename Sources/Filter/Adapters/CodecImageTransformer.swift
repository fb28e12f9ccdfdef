import Dataset
import Foundation

/// `ImageTransforming` with the real codecs, for `dsbuild shards --resize`: decode, apply the EXIF
/// orientation, resize (`keep_ratio`, `center_crop`, `border`, as img2dataset names them), re-encode. PNG and
/// WebP inputs with alpha are written as PNG (alpha kept); everything else as JPEG at the requested quality.
public struct CodecImageTransformer: ImageTransforming {
    public let maxPixels: Int

    public init(maxPixels: Int = ImageDecoder.defaultMaxPixels) { self.maxPixels = maxPixels }

    public func transform(_ data: Data, format: String, request: ImageTransformRequest) throws -> TransformedImage {
        let orientation = (try? ImageProber.probe(data: data, scope: .geometry).orientation) ?? 1
        var image = try ImageDecoder.decode(data: data, maxPixels: maxPixels, strict: false).applyingOrientation(orientation)
        if image.channels == 2 { image = image.rgb() }
        let size = max(1, request.size)
        switch request.mode {
        case .keepRatio:
            image = Self.scale(image, longest: size)
        case .centerCrop:
            let s = Double(size) / Double(min(image.width, image.height))
            let w = max(size, Int((Double(image.width) * s).rounded()))
            let h = max(size, Int((Double(image.height) * s).rounded()))
            image = Resampler.resize(image, width: w, height: h, filter: .lanczos)
            image = Self.crop(image, x: (w - size) / 2, y: (h - size) / 2, width: size, height: size)
        case .border:
            image = Self.pad(Self.scale(image, longest: size), to: size)
        }
        if image.channels == 4 {
            return TransformedImage(data: try ImageEncoder.png(image), format: "png", width: image.width, height: image.height)
        }
        let jpeg = try ImageEncoder.jpeg(image.channels == 1 ? image : image.rgb(), quality: request.quality)
        return TransformedImage(data: jpeg, format: "jpg", width: image.width, height: image.height)
    }

    /// Scales so the longer side is `longest` (up or down, as img2dataset's keep_ratio does).
    static func scale(_ image: DecodedImage, longest: Int) -> DecodedImage {
        let s = Double(longest) / Double(max(image.width, image.height))
        let w = max(1, Int((Double(image.width) * s).rounded()))
        let h = max(1, Int((Double(image.height) * s).rounded()))
        if w == image.width && h == image.height { return image }
        return Resampler.resize(image, width: w, height: h, filter: .lanczos)
    }

    static func crop(_ image: DecodedImage, x: Int, y: Int, width: Int, height: Int) -> DecodedImage {
        let c = image.channels
        var out = [UInt8](repeating: 0, count: width * height * c)
        for row in 0..<height {
            let src = ((y + row) * image.width + x) * c
            out.replaceSubrange(row * width * c..<(row + 1) * width * c, with: image.pixels[src..<src + width * c])
        }
        return DecodedImage(width: width, height: height, channels: c, pixels: out)
    }

    /// Centres the image on a black square of `side`.
    static func pad(_ image: DecodedImage, to side: Int) -> DecodedImage {
        let c = image.channels
        var out = [UInt8](repeating: 0, count: side * side * c)
        let x0 = (side - image.width) / 2
        let y0 = (side - image.height) / 2
        for row in 0..<image.height {
            let dst = ((y0 + row) * side + x0) * c
            let src = row * image.width * c
            out.replaceSubrange(dst..<dst + image.width * c, with: image.pixels[src..<src + image.width * c])
        }
        return DecodedImage(width: side, height: side, channels: c, pixels: out)
    }
}
