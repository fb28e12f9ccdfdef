import Dataset
import Foundation

/// `PerceptualHashing` over the Filter module's decoders and `PerceptualHash`.
public struct CodecPerceptualHasher: PerceptualHashing {
    public init() {}

    public func perceptualHash(of data: Data, upright: Bool) throws -> UInt64 {
        guard upright else { return try PerceptualHash.compute(data: data).value }
        let orientation = (try? ImageProber.probe(data: data, scope: .geometry).orientation) ?? 1
        guard orientation != 1 else { return try PerceptualHash.compute(data: data).value }
        return PerceptualHash.compute(image: try ImageDecoder.decode(data: data).applyingOrientation(orientation)).value
    }
}
