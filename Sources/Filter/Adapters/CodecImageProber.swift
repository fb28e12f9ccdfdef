import Dataset
import Foundation

/// `ImageProbing` over the Filter module's header parsers: what Collect calls on each new image.
public struct CodecImageProber: ImageProbing {
    public init() {}

    public func probe(fileAt url: URL) throws -> ProbedImage {
        Self.convert(try ImageProber.probe(fileAt: url))
    }

    public func probe(data: Data) throws -> ProbedImage {
        Self.convert(try ImageProber.probe(data: data))
    }

    static func convert(_ p: ImageProbe) -> ProbedImage {
        var details: [String: String] = ["color": p.colorModel.rawValue]
        if let bitDepth = p.bitDepth { details["bit_depth"] = String(bitDepth) }
        if let components = p.components { details["components"] = String(components) }
        if p.hasAlpha { details["alpha"] = "true" }
        if p.progressive { details["progressive"] = "true" }
        if p.arithmetic { details["arithmetic"] = "true" }
        if p.lossless { details["lossless"] = "true" }
        if p.interlaced { details["interlaced"] = "true" }
        return ProbedImage(format: p.format.rawValue, width: p.width, height: p.height,
                           displayWidth: p.displayWidth, displayHeight: p.displayHeight, orientation: p.orientation,
                           animated: p.animated, frames: p.frameCount, rights: p.rights.flattened, details: details)
    }
}
