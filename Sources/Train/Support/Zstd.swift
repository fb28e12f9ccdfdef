import CZstd
import Foundation

/// zstd compression through libzstd: one frame per shard with the content size in its header, no dictionary,
/// single-threaded, so equal input gives equal output (for the same libzstd version and level).
enum Zstd {
    struct ZstdError: Error, CustomStringConvertible {
        let message: String
        var description: String { "zstd: \(message)" }
    }

    /// Level 3 is zstd's default: about gzip -6's ratio at several times its speed.
    static func compress(_ input: Data, level: Int32 = 3) throws -> Data {
        let bound = ZSTD_compressBound(input.count)
        guard ZSTD_isError(bound) == 0 else { throw ZstdError(message: "input of \(input.count) bytes is too large") }
        var output = Data(count: bound)
        let written = output.withUnsafeMutableBytes { dst in
            input.withUnsafeBytes { src in
                ZSTD_compress(dst.baseAddress, bound, src.baseAddress, src.count, level)
            }
        }
        guard ZSTD_isError(written) == 0 else { throw ZstdError(message: String(cString: ZSTD_getErrorName(written))) }
        output.count = written
        return output
    }
}
