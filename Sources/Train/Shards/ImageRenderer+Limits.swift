import Dataset
import Foundation
import Imaging

/// What a reader accepts of an image beyond the dataset's own settings: colour only (no greyscale, palette or
/// CMYK), and at most so many bytes. OpenAI's fine-tuning takes RGB or RGBA images of at most 10 MB.
struct ImageLimits: Sendable, Equatable {
    var colourOnly = false
    var maxBytes: Int?

    static let openAI = ImageLimits(colourOnly: true, maxBytes: OpenAIExportSettings.maxImageBytes)
}

extension ImageRenderer {
    /// `rendered` (this renderer's output for `image`) made to fit `limits`: greyscale, palette or CMYK
    /// re-encoded as RGB (RGBA when it has alpha and the format keeps it), then, while it is bigger than
    /// `limits.maxBytes`, scaled down (aspect kept) from the rendered pixels — a crop or border the settings made stays.
    /// Still in the dataset's one format; unchanged when it fits already.
    func fitting(_ rendered: RenderedImage, of image: StoredImage, to limits: ImageLimits) throws -> RenderedImage {
        let colour = limits.colourOnly && !Self.isColour(rendered.data)
        let tooBig = limits.maxBytes.map { rendered.data.count > $0 } ?? false
        guard colour || tooBig else { return rendered }
        var request = settings.request
        request.resize = nil
        request.colour = limits.colourOnly
        var out = rendered
        do {
            if colour { out = try reencode(rendered, request) }
            while let limit = limits.maxBytes, out.data.count > limit {
                var side = max(out.width ?? 0, out.height ?? 0)
                if side == 0, let probe = try? ImageProber.probe(data: out.data, scope: .geometry) {
                    side = max(probe.displayWidth, probe.displayHeight)  // a copied image the manifest has no size for
                }
                let scale = (Double(limit) / Double(out.data.count)).squareRoot() * 0.9
                let target = max(16, Int(Double(side) * scale))
                guard target < side else {
                    throw ShardError(.write, "image \(image.sha.prefix(12)) (\(image.path)) is \(out.data.count) bytes at \(side) pixels, more than the \(limit) allowed")
                }
                request.resize = ImageTransformRequest(mode: .keepRatio, size: target, quality: request.quality)
                out = try reencode(rendered, request)
            }
        } catch let error as ShardError {
            throw error
        } catch {
            throw ShardError(.write, "image \(image.sha.prefix(12)) (\(image.path)) cannot be re-encoded within its reader's limits: \(error)")
        }
        return out
    }

    private func reencode(_ rendered: RenderedImage, _ request: ImageRenderRequest) throws -> RenderedImage {
        let out = try ImageTransformer().render(rendered.data, format: rendered.fileExtension, request: request)
        return RenderedImage(data: out.data, fileExtension: ImageFormatName.normalized(out.format), width: out.width, height: out.height,
                             reasons: rendered.reasons, writtenSHA256: ContentHash.sha256Hex(out.data))
    }

    /// Whether the image's header says RGB or RGBA (a 3-component JPEG counts: Pillow opens it as RGB).
    static func isColour(_ data: Data) -> Bool {
        guard let probe = try? ImageProber.probe(data: data, scope: .geometry) else { return false }
        return [.rgb, .rgba, .ycbcr].contains(probe.colorModel)
    }
}
