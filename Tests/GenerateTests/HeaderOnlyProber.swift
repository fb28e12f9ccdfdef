import Dataset
import Foundation

/// Names an image's container from its magic bytes (orientation 1, no size): enough for the question-file tests
/// that store images without Filter's real prober.
struct HeaderOnlyProber: ImageProbing {
    struct Failure: Error, CustomStringConvertible { let description: String }

    func probe(fileAt url: URL) throws -> ProbedImage { try probe(data: try Data(contentsOf: url)) }

    func probe(data: Data) throws -> ProbedImage {
        guard let format = ImageMagic.format(of: data) else { throw Failure(description: "not an image") }
        return ProbedImage(format: format, width: 0, height: 0, displayWidth: 0, displayHeight: 0)
    }
}
