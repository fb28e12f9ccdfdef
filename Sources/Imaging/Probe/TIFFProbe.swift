/// TIFF: IFD0 ImageWidth / ImageLength / Orientation / samples, plus Copyright and Artist.
enum TIFFProbe {
    static func probe(_ r: ByteReader) throws(ProbeError) -> ImageProbe {
        let dir: TIFFDirectory
        do { dir = try TIFFDirectory.parse(r.bytes) } catch { throw .truncated(.tiff) }
        guard let w = dir.imageWidth, let h = dir.imageHeight, w > 0, h > 0 else {
            throw .corrupt(.tiff, "IFD0 has no image size")
        }
        let model: ColorModel = switch dir.photometric {
        case 0, 1: .gray
        case 2: (dir.samplesPerPixel ?? 3) >= 4 ? .rgba : .rgb
        case 3: .palette
        case 5: .cmyk
        case 6: .ycbcr
        default: .unknown
        }
        return ImageProbe(
            format: .tiff, width: w, height: h, orientation: dir.orientation ?? 1, bitDepth: dir.bitsPerSample,
            colorModel: model, components: dir.samplesPerPixel, rights: dir.rights)
    }
}
