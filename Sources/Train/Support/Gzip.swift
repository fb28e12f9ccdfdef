import CZlib
import Foundation

/// gzip compression through zlib. The header zlib writes has mtime 0 and no file name, so equal input gives
/// equal output (for the same zlib version).
enum Gzip {
    struct GzipError: Error, CustomStringConvertible {
        let code: Int32
        var description: String { "zlib error \(code)" }
    }

    static func compress(_ input: Data, level: Int32 = 6) throws -> Data {
        var stream = z_stream()
        var status = dsbuild_deflate_init_gzip(&stream, level)
        guard status == Z_OK else { throw GzipError(code: status) }
        defer { deflateEnd(&stream) }
        var output = Data()
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        var source = [UInt8](input)
        try source.withUnsafeMutableBufferPointer { src in
            stream.next_in = src.baseAddress
            stream.avail_in = uInt(src.count)
            repeat {
                try buffer.withUnsafeMutableBufferPointer { dst in
                    stream.next_out = dst.baseAddress
                    stream.avail_out = uInt(chunk)
                    status = deflate(&stream, Z_FINISH)
                    guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { throw GzipError(code: status) }
                    output.append(dst.baseAddress!, count: chunk - Int(stream.avail_out))
                }
            } while status != Z_STREAM_END
        }
        return output
    }

    /// Inflates a gzip stream (what `compress` wrote, or any gzip file).
    static func decompress(_ input: Data) throws -> Data {
        var stream = z_stream()
        var status = dsbuild_inflate_init_gzip(&stream)
        guard status == Z_OK else { throw GzipError(code: status) }
        defer { inflateEnd(&stream) }
        var output = Data()
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        var source = [UInt8](input)
        try source.withUnsafeMutableBufferPointer { src in
            stream.next_in = src.baseAddress
            stream.avail_in = uInt(src.count)
            repeat {
                try buffer.withUnsafeMutableBufferPointer { dst in
                    stream.next_out = dst.baseAddress
                    stream.avail_out = uInt(chunk)
                    status = inflate(&stream, Z_NO_FLUSH)
                    guard status == Z_OK || status == Z_STREAM_END else { throw GzipError(code: status) }
                    output.append(dst.baseAddress!, count: chunk - Int(stream.avail_out))
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
