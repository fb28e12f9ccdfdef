/// BMP: BITMAPFILEHEADER + DIB header (OS/2 core or BITMAPINFOHEADER and later; negative height = top-down).
enum BMPProbe {
    static func probe(_ r: ByteReader) throws(ProbeError) -> ImageProbe {
        guard r.has(0, 18) else { throw .truncated(.bmp) }
        let dibSize = r.u32le(14)!
        let width: Int, height: Int, bpp: Int
        var compression = 0
        if dibSize == 12 {
            guard r.has(14, 12) else { throw .truncated(.bmp) }
            width = r.u16le(18)!
            height = r.u16le(20)!
            bpp = r.u16le(24)!
        } else if dibSize >= 40 && dibSize <= 124 {
            guard r.has(14, 40) else { throw .truncated(.bmp) }
            width = Int(Int32(bitPattern: UInt32(r.u32le(18)!)))
            height = Int(Int32(bitPattern: UInt32(r.u32le(22)!)))
            bpp = r.u16le(28)!
            compression = r.u32le(30)!
        } else {
            throw .corrupt(.bmp, "unknown DIB header size \(dibSize)")
        }
        guard width > 0, height != 0, height != Int(Int32.min) else {
            throw .corrupt(.bmp, "size \(width)×\(height) is invalid")
        }
        guard [1, 2, 4, 8, 16, 24, 32].contains(bpp) else { throw .corrupt(.bmp, "invalid bit count \(bpp)") }
        let alpha = bpp == 32 && compression == 3 && dibSize >= 56
        return ImageProbe(
            format: .bmp, width: width, height: abs(height), frameCount: 1, bitDepth: bpp,
            colorModel: bpp <= 8 ? .palette : (alpha ? .rgba : .rgb), hasAlpha: alpha)
    }
}
