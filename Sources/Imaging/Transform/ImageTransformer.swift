import Foundation

/// Resizes and re-encodes images for shards, exports and question-file images: decode, apply the EXIF orientation, resize
/// (`keep_ratio`, `center_crop`, `border`, as img2dataset names them), re-encode. `transform`: inputs with
/// alpha are written as PNG (alpha kept), everything else as JPEG. `render`: the one format asked for; JPEG
/// flattens alpha onto the background, PNG keeps it. Greyscale stays greyscale in both.
public struct ImageTransformer: Sendable {
    public let maxPixels: Int

    public init(maxPixels: Int = ImageDecoder.defaultMaxPixels) { self.maxPixels = maxPixels }

    /// Upright, resized; PNG when the image has alpha, else JPEG at the requested quality.
    public func transform(_ data: Data, format: String, request: ImageTransformRequest) throws -> TransformedImage {
        var image = try upright(data)
        if image.channels == 2 { image = image.rgb() }
        image = Self.resize(image, request)
        if image.channels == 4 {
            return TransformedImage(data: try ImageEncoder.png(image), format: "png", width: image.width, height: image.height)
        }
        let jpeg = try ImageEncoder.jpeg(image.channels == 1 ? image : image.rgb(), quality: request.quality)
        return TransformedImage(data: jpeg, format: "jpg", width: image.width, height: image.height)
    }

    /// Upright, resized when `request.resize` is set, encoded in `request.format` (alpha flattened onto
    /// `request.background` for JPEG; greyscale made RGB when `request.colour`).
    public func render(_ data: Data, format: String, request: ImageRenderRequest) throws -> TransformedImage {
        var image = try upright(data)
        if let resize = request.resize { image = Self.resize(image, resize) }
        switch request.format {
        case .png:
            if request.colour { image = image.channels == 2 ? image.rgba() : image.channels == 1 ? image.rgb() : image }
            return TransformedImage(data: try ImageEncoder.png(image), format: "png", width: image.width, height: image.height)
        case .jpeg:
            image = Self.flatten(image, onto: request.background)
            if request.colour && image.channels == 1 { image = image.rgb() }
            return TransformedImage(data: try ImageEncoder.jpeg(image, quality: request.quality), format: "jpg",
                                    width: image.width, height: image.height)
        }
    }

    /// Decoded pixels with the EXIF orientation applied.
    func upright(_ data: Data) throws -> DecodedImage {
        let orientation = (try? ImageProber.probe(data: data, scope: .geometry).orientation) ?? 1
        return try ImageDecoder.decode(data: data, maxPixels: maxPixels, strict: false).applyingOrientation(orientation)
    }

    /// Composites grey+alpha or RGBA onto an opaque background (straight alpha, rounded): grey+alpha onto a grey
    /// background stays grey only when the background is grey; otherwise the result is RGB. Opaque images
    /// are returned as they are.
    static func flatten(_ image: DecodedImage, onto background: RGBColor) -> DecodedImage {
        guard image.channels == 2 || image.channels == 4 else { return image }
        let n = image.width * image.height
        let bg = [Int(background.red), Int(background.green), Int(background.blue)]
        var out = [UInt8](repeating: 0, count: n * 3)
        let c = image.channels
        image.pixels.withUnsafeBufferPointer { src in
            for i in 0..<n {
                let a = Int(src[i * c + c - 1])
                for k in 0..<3 {
                    let v = Int(src[i * c + (c == 2 ? 0 : k)])
                    out[3 * i + k] = UInt8((v * a + bg[k] * (255 - a) + 127) / 255)
                }
            }
        }
        return DecodedImage(width: image.width, height: image.height, channels: 3, pixels: out)
    }

    static func resize(_ input: DecodedImage, _ request: ImageTransformRequest) -> DecodedImage {
        var image = input
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
        return image
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
