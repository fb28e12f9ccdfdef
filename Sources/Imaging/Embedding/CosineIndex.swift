/// Finds the stored vectors whose cosine with a query is at least `threshold`: the embedding counterpart of
/// `HammingIndex` (near copies by meaning rather than by pHash). Vectors are normalised on the way in and kept in
/// one contiguous buffer; a query is compared with every stored vector (exact; a dot product of `dimension`
/// floats each, which is fast enough for the test images of a dataset — tens of thousands).
public struct CosineIndex<Value: Sendable>: Sendable {
    public let dimension: Int
    public let threshold: Float
    private var storage: [Float] = []
    private var values: [Value] = []

    public init(dimension: Int, threshold: Double) {
        self.dimension = dimension
        self.threshold = Float(threshold)
    }

    public var count: Int { values.count }

    /// Adds `vector` (any length; normalised here). A vector of another dimension or of length zero is ignored.
    public mutating func insert(_ vector: [Float], _ value: Value) {
        guard vector.count == dimension, let unit = Self.normalized(vector) else { return }
        storage.append(contentsOf: unit)
        values.append(value)
    }

    /// Every stored entry at cosine ≥ `threshold` with `vector`, with its cosine, in insertion order.
    public func neighbours(of vector: [Float]) -> [(value: Value, cosine: Float)] {
        guard vector.count == dimension, let query = Self.normalized(vector) else { return [] }
        var out: [(Value, Float)] = []
        storage.withUnsafeBufferPointer { all in
            query.withUnsafeBufferPointer { q in
                for i in values.indices {
                    let c = Self.dot(q.baseAddress!, all.baseAddress! + i * dimension, dimension)
                    if c >= threshold { out.append((values[i], c)) }
                }
            }
        }
        return out
    }

    /// The closest stored entry at cosine ≥ `threshold`, or nil.
    public func nearest(to vector: [Float]) -> (value: Value, cosine: Float)? {
        neighbours(of: vector).max { $0.cosine < $1.cosine }
    }

    /// The cosine of two vectors of the same length (0 when either is zero).
    public static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count, let ua = normalized(a), let ub = normalized(b) else { return 0 }
        return ua.withUnsafeBufferPointer { pa in ub.withUnsafeBufferPointer { pb in dot(pa.baseAddress!, pb.baseAddress!, a.count) } }
    }

    /// `vector` scaled to length 1, or nil for a zero (or non-finite) vector.
    public static func normalized(_ vector: [Float]) -> [Float]? {
        var sum: Float = 0
        for x in vector { sum += x * x }
        guard sum > 0, sum.isFinite else { return nil }
        let scale = 1 / sum.squareRoot()
        return vector.map { $0 * scale }
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        var i = 0
        while i + 4 <= n {
            s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1]; s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3]
            i += 4
        }
        while i < n { s0 += a[i] * b[i]; i += 1 }
        return (s0 + s1) + (s2 + s3)
    }
}

/// Rows of little-endian IEEE half-precision floats, as `dsbuild embed` stores vectors (`embeddings/<model>.f16`).
public enum Float16Rows {
    /// Row `row` of `dimension` halves in `data` as floats, or nil when the data holds no such row.
    public static func row(_ row: Int, dimension: Int, in data: UnsafeRawBufferPointer) -> [Float]? {
        let start = row * dimension * 2
        guard row >= 0, dimension > 0, start + dimension * 2 <= data.count else { return nil }
        var out = [Float](repeating: 0, count: dimension)
        for i in 0..<dimension {
            let bits = UInt16(littleEndian: data.loadUnaligned(fromByteOffset: start + 2 * i, as: UInt16.self))
            out[i] = Float(halfBits: bits)
        }
        return out
    }
}

extension Float {
    /// The value of an IEEE 754 binary16 bit pattern (no `Float16` needed: it is missing on some platforms).
    init(halfBits bits: UInt16) {
        let sign = UInt32(bits >> 15) << 31
        let exponent = UInt32((bits >> 10) & 0x1F)
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa × 2^-24.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            self = sign == 0 ? magnitude : -magnitude
        case 0x1F:
            self = Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            self = Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
    }
}
