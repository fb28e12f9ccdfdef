import Dataset
import Foundation
import Imaging
import Testing
import _DSBuildTestSupport

/// The cosine lookup behind semantic duplicates and the embedding side of the split's leak check, and the half
/// floats the vectors are stored as.
@Suite struct CosineIndexTests {
    /// A unit vector at `degrees` from the x axis in the x–y plane, padded with zeros.
    static func unit(_ degrees: Double, dimension: Int = 4) -> [Float] {
        let r = degrees * .pi / 180
        return [Float(cos(r)), Float(sin(r))] + Array(repeating: 0, count: dimension - 2)
    }

    @Test func findsEveryStoredVectorAtOrAboveTheThresholdWithItsCosine() {
        var index = CosineIndex<String>(dimension: 4, threshold: 0.95)
        for (name, degrees) in [("same", 0.0), ("near", 15.0), ("edge", acos(0.95) * 180 / .pi - 0.01), ("far", 30.0), ("opposite", 180.0)] {
            index.insert(Self.unit(degrees).map { $0 * 3 }, name)  // any length: normalised on the way in
        }
        let found = index.neighbours(of: Self.unit(0))
        #expect(found.map(\.value) == ["same", "near", "edge"])
        #expect(abs(found[1].cosine - Float(cos(15 * Double.pi / 180))) < 1e-5)
        #expect(index.nearest(to: Self.unit(14))?.value == "near")
        #expect(index.nearest(to: Self.unit(90)) == nil)
    }

    @Test func aZeroVectorOrOneOfAnotherSizeIsIgnored() {
        var index = CosineIndex<Int>(dimension: 3, threshold: 0.5)
        index.insert([0, 0, 0], 1)
        index.insert([1, 0], 2)
        index.insert([1, 0, 0], 3)
        #expect(index.count == 1)
        #expect(index.neighbours(of: [0, 0, 0]).isEmpty && index.neighbours(of: [1, 0]).isEmpty)
        #expect(CosineIndex<Int>.cosine([1, 0], [0, 0]) == 0)
        #expect(abs(CosineIndex<Int>.cosine([1, 1], [2, 2]) - 1) < 1e-6)
    }

    @Test(arguments: [(UInt16(0x3C00), Float(1)), (0xC000, -2), (0x7BFF, 65504), (0x3555, 0.333251953125), (0x0001, 5.9604645e-8),
                      (0x8000, -0.0), (0x0000, 0)])
    func halfFloatsDecodeExactly(bits: UInt16, value: Float) {
        var le = bits.littleEndian
        let data = withUnsafeBytes(of: &le) { Data($0) }
        let row = data.withUnsafeBytes { Float16Rows.row(0, dimension: 1, in: $0) }
        #expect(row == [value])
        #expect(HalfFloats.half(value) == bits || value == 5.9604645e-8)  // the test encoder drops subnormals
    }

    @Test func rowsAreReadByIndexAndAMissingRowIsNil() {
        let data = HalfFloats.encode([[1, 0.5], [-0.25, 2]])
        data.withUnsafeBytes { raw in
            #expect(Float16Rows.row(1, dimension: 2, in: raw) == [-0.25, 2])
            #expect(Float16Rows.row(0, dimension: 2, in: raw) == [1, 0.5])
            #expect(Float16Rows.row(2, dimension: 2, in: raw) == nil)
            #expect(Float16Rows.row(-1, dimension: 2, in: raw) == nil)
        }
    }
}
