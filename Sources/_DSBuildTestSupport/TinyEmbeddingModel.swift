import Foundation
import Synchronization

/// Vectors as `dsbuild embed` stores them (little-endian IEEE half floats), made by tests from plain floats.
public enum HalfFloats {
    /// The rows of `vectors`, each value rounded to the nearest half float, concatenated.
    public static func encode(_ vectors: [[Float]]) -> Data {
        var data = Data()
        for vector in vectors {
            for value in vector {
                var bits = half(value).littleEndian
                withUnsafeBytes(of: &bits) { data.append(contentsOf: $0) }
            }
        }
        return data
    }

    /// The half-float bit pattern nearest to `value` (normal range, zero, ±infinity beyond it).
    public static func half(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF) - 127 + 15
        var mantissa = bits & 0x7F_FFFF
        if value == 0 || exponent <= 0 { return sign }
        if exponent >= 31 { return sign | 0x7C00 }
        // Round to nearest, ties to even, on the 13 bits dropped.
        let dropped = mantissa & 0x1FFF
        mantissa >>= 13
        var result = UInt32(exponent) << 10 | mantissa
        if dropped > 0x1000 || (dropped == 0x1000 && mantissa & 1 == 1) { result += 1 }
        return sign | UInt16(result)
    }
}

/// A tiny random CLIP or SigLIP built by `trainer/make_tiny_clip.py` with the trainer's Python, once per test
/// process and family, so `dsbuild embed` runs its real loading, batching and storage code in tests.
public enum TinyEmbeddingModel {
    /// The Python with the trainer's requirements (`DSBUILD_TRAINER_PYTHON`); nil when the tests that need one are off.
    public static var python: String? { ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"] }

    private static let built = Mutex<[String: URL]>([:])
    private static let folder = TemporaryDirectory.shared("tiny-embedders")

    /// The model folder of `family` (`clip`, `siglip`, `open_clip`), built on first use.
    public static func folder(_ family: String) throws -> URL {
        if let url = built.withLock({ $0[family] }) { return url }
        guard let python else { throw CocoaError(.executableNotLoadable) }
        let out = folder.path(family)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [TestPaths.repositoryRoot.appendingPathComponent("trainer/make_tiny_clip.py").path, out.path, "--family", family]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: out.path]) }
        built.withLock { $0[family] = out }
        return out
    }
}
