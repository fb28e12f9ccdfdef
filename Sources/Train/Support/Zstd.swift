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

    /// Decompresses one frame that records its content size (what `compress` writes).
    static func decompress(_ input: Data) throws -> Data {
        let size = input.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        // ZSTD_CONTENTSIZE_UNKNOWN is (0ULL - 1), ZSTD_CONTENTSIZE_ERROR (0ULL - 2): macros Swift does not import.
        guard size < UInt64.max - 1, size < UInt64(Int.max) else {
            throw ZstdError(message: "not a zstd frame with a recorded content size")
        }
        var output = Data(count: Int(size))
        let written = output.withUnsafeMutableBytes { dst in
            input.withUnsafeBytes { src in ZSTD_decompress(dst.baseAddress, dst.count, src.baseAddress, src.count) }
        }
        guard ZSTD_isError(written) == 0 else { throw ZstdError(message: String(cString: ZSTD_getErrorName(written))) }
        output.count = written
        return output
    }
}
