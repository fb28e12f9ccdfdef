import Foundation

extension ImageFactory {
    /// A greyscale PNG with 16-bit samples (a seeded gradient with texture), written with stored deflate blocks — the
    /// kind scientific and scanned images come as, which Pillow opens as `I;16`.
    public static func greyPNG16(width: Int, height: Int, seed: Int = 0) -> Data {
        var raw = Data()
        for y in 0..<height {
            raw.append(0)
            for x in 0..<width {
                let v = UInt16(truncatingIfNeeded: (x * 7919 + y * 104_729 + (x * y + seed * 31) * 613 + seed * 4099) % 65_536)
                raw.append(UInt8(v >> 8))
                raw.append(UInt8(v & 0xFF))
            }
        }
        var zlib = Data([0x78, 0x01])
        var offset = 0
        repeat {
            let count = min(65_535, raw.count - offset)
            let last: UInt8 = offset + count == raw.count ? 1 : 0
            zlib.append(contentsOf: [last, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)])
            zlib.append(raw[offset..<(offset + count)])
            offset += count
        } while offset < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65_521; b = (b + a) % 65_521 }
        zlib.append(contentsOf: bigEndian((b << 16) | a))
        func crc(_ data: Data) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for byte in data { c ^= UInt32(byte); for _ in 0..<8 { c = (c >> 1) ^ (c & 1 == 1 ? 0xEDB8_8320 : 0) } }
            return ~c
        }
        func chunk(_ type: String, _ body: Data) -> Data {
            let typed = Data(type.utf8) + body
            return Data(bigEndian(UInt32(body.count))) + typed + Data(bigEndian(crc(typed)))
        }
        let ihdr = Data(bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [16, 0, 0, 0, 0])
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + chunk("IHDR", ihdr) + chunk("IDAT", zlib) + chunk("IEND", Data())
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
