import Foundation

/// Hand-built image bytes for tests: headers, metadata segments and small valid files in every format
/// the filter stage probes. Everything is built in Swift, so no test depends on Python or on files
/// outside the repository.
public enum ImageFactory {
    // MARK: - Byte helpers

    public static func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    public static func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    public static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    public static func le24(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF)] }
    public static func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16(v >> 16 & 0xFFFF) }
    public static func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }

    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }

    // MARK: - JPEG

    /// A JPEG marker segment: FF marker, length, payload.
    public static func jpegSegment(_ marker: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [0xFF, marker] + be16(payload.count + 2) + payload
    }

    /// SOF payload for any SOF kind.
    public static func sof(_ marker: UInt8, precision: Int = 8, width: Int, height: Int, components: Int = 3) -> [UInt8] {
        var p: [UInt8] = [UInt8(precision)] + be16(height) + be16(width) + [UInt8(components)]
        for i in 0..<components { p += [UInt8(i + 1), i == 0 ? 0x22 : 0x11, 0] }
        return jpegSegment(marker, p)
    }

    /// A header-only JPEG (SOI, segments, SOF, a minimal SOS, one byte of "scan", EOI): enough for probing.
    public static func jpegHeader(sofMarker: UInt8 = 0xC0, precision: Int = 8, width: Int, height: Int,
                                  components: Int = 3, segments: [[UInt8]] = []) -> Data {
        var b: [UInt8] = [0xFF, 0xD8]
        for s in segments { b += s }
        b += sof(sofMarker, precision: precision, width: width, height: height, components: components)
        var sos: [UInt8] = [UInt8(components)]
        for i in 0..<components { sos += [UInt8(i + 1), 0] }
        sos += [0, 63, 0]
        b += jpegSegment(0xDA, sos)
        b += [0x00, 0xFF, 0xD9]
        return Data(b)
    }

    /// Insert segments right after SOI of an existing JPEG.
    public static func insertAfterSOI(_ jpeg: Data, _ segments: [[UInt8]]) -> Data {
        var b = Array(jpeg)
        b.insert(contentsOf: segments.flatMap { $0 }, at: 2)
        return Data(b)
    }

    /// APP14 "Adobe" with a colour transform (0 = RGB/CMYK, 1 = YCbCr, 2 = YCCK).
    public static func adobeAPP14(transform: Int) -> [UInt8] {
        jpegSegment(0xEE, ascii("Adobe") + be16(100) + be16(0) + be16(0) + [UInt8(transform)])
    }

    /// A TIFF structure with IFD0 entries (tag, type, value): type 3 SHORT (Int) or 2 ASCII (String).
    public static func tiff(bigEndian: Bool = false, entries: [(tag: Int, value: Any)]) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { bigEndian ? be16(v) : le16(v) }
        func u32(_ v: Int) -> [UInt8] { bigEndian ? be32(v) : le32(v) }
        var head: [UInt8] = (bigEndian ? ascii("MM") : ascii("II")) + u16(42) + u32(8)
        let sorted = entries.sorted { $0.tag < $1.tag }
        var ifd = u16(sorted.count)
        var extra: [UInt8] = []
        let extraBase = 8 + 2 + sorted.count * 12 + 4
        for e in sorted {
            if let s = e.value as? String {
                let bytes = ascii(s) + [0]
                ifd += u16(e.tag) + u16(2) + u32(bytes.count)
                if bytes.count <= 4 {
                    ifd += bytes + [UInt8](repeating: 0, count: 4 - bytes.count)
                } else {
                    ifd += u32(extraBase + extra.count)
                    extra += bytes
                    if extra.count & 1 == 1 { extra.append(0) }
                }
            } else if let v = e.value as? Int {
                let type = v > 0xFFFF ? 4 : 3
                ifd += u16(e.tag) + u16(type) + u32(1) + (type == 3 ? u16(v) + [0, 0] : u32(v))
            }
        }
        ifd += u32(0)
        head += ifd + extra
        return head
    }

    /// APP1 EXIF with orientation and optional copyright/artist.
    public static func exifAPP1(orientation: Int? = nil, copyright: String? = nil, artist: String? = nil, bigEndian: Bool = false) -> [UInt8] {
        jpegSegment(0xE1, ascii("Exif") + [0, 0] + exifTIFF(orientation: orientation, copyright: copyright, artist: artist, bigEndian: bigEndian))
    }

    public static func exifTIFF(orientation: Int? = nil, copyright: String? = nil, artist: String? = nil, bigEndian: Bool = false) -> [UInt8] {
        var entries: [(tag: Int, value: Any)] = []
        if let orientation { entries.append((0x0112, orientation)) }
        if let copyright { entries.append((0x8298, copyright)) }
        if let artist { entries.append((0x013B, artist)) }
        return tiff(bigEndian: bigEndian, entries: entries)
    }

    /// APP1 XMP packet.
    public static func xmpAPP1(_ xml: String) -> [UInt8] {
        jpegSegment(0xE1, ascii("http://ns.adobe.com/xap/1.0/") + [0] + ascii(xml))
    }

    /// APP13 Photoshop 3.0 with an IPTC-IIM block (record 2 datasets).
    public static func iptcAPP13(_ datasets: [(Int, String)]) -> [UInt8] {
        var iim: [UInt8] = [0x1C, 1, 90] + be16(3) + [0x1B, 0x25, 0x47]  // 1:90 coded character set = UTF-8
        for (ds, v) in datasets { let b = ascii(v); iim += [0x1C, 2, UInt8(ds)] + be16(b.count) + b }
        var res: [UInt8] = ascii("8BIM") + be16(0x0404) + [0, 0] + be32(iim.count) + iim
        if iim.count & 1 == 1 { res.append(0) }
        return jpegSegment(0xED, ascii("Photoshop 3.0") + [0] + res)
    }

    /// An XMP packet like the ones iStock/Getty files carry, using unusual prefixes on purpose
    /// (matching must be by namespace URI).
    public static let istockXMP = """
    <?xpacket begin="\u{FEFF}" id="W5M0MpCehiHzreSzNTczkc9d"?>
    <x:xmpmeta xmlns:x="adobe:ns:meta/">
     <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
      <rdf:Description rdf:about=""
        xmlns:ps="http://ns.adobe.com/photoshop/1.0/"
        xmlns:g="http://xmp.gettyimages.com/gift/1.0/"
        xmlns:xr="http://ns.adobe.com/xap/1.0/rights/"
        xmlns:d="http://purl.org/dc/elements/1.1/"
        xmlns:lic="http://ns.useplus.org/ldf/xmp/1.0/"
        xmlns:ext="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
        ps:Credit="Getty Images"
        g:AssetID="1234567890"
        xr:WebStatement="https://www.istockphoto.com/legal/license-agreement?utm_medium=organic&amp;utm_source=google"
        lic:DataMining="http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING">
       <d:creator><rdf:Seq><rdf:li>Jane Photographer</rdf:li><rdf:li>Second Creator</rdf:li></rdf:Seq></d:creator>
       <d:rights><rdf:Alt><rdf:li xml:lang="de">Rechte</rdf:li><rdf:li xml:lang="x-default">© Jane Photographer</rdf:li></rdf:Alt></d:rights>
       <lic:Licensor><rdf:Seq><rdf:li rdf:parseType="Resource">
         <lic:LicensorURL>https://www.istockphoto.com/photo/license-gm1234567890-?utm_medium=organic</lic:LicensorURL>
       </rdf:li></rdf:Seq></lic:Licensor>
       <ext:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture</ext:DigitalSourceType>
      </rdf:Description>
     </rdf:RDF>
    </x:xmpmeta>
    <?xpacket end="w"?>
    """

    /// Element-form XMP with DataMining PROHIBITED and an AI-generated source type.
    public static let prohibitedXMP = """
    <x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
     <rdf:Description xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/"
        xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">
      <plus:DataMining rdf:resource="http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED"/>
      <xmpRights:Marked>True</xmpRights:Marked>
      <xmpRights:UsageTerms><rdf:Alt><rdf:li xml:lang="x-default">No AI training</rdf:li></rdf:Alt></xmpRights:UsageTerms>
      <photoshop:Source>Shutterstock</photoshop:Source>
      <plus:Licensor><rdf:Seq><rdf:li><rdf:Description plus:LicensorName="Shutterstock Inc"/></rdf:li></rdf:Seq></plus:Licensor>
      <Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType>
     </rdf:Description></rdf:RDF></x:xmpmeta>
    """

    // MARK: - PNG

    public static func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let td = ascii(type) + data
        return be32(data.count) + td + be32(Int(crc32(td)))
    }

    public static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A header-level PNG: signature, IHDR, extra chunks, a dummy IDAT and IEND.
    public static func pngHeader(width: Int, height: Int, bitDepth: Int = 8, colorType: Int = 2, interlace: Int = 0,
                                 chunks: [[UInt8]] = []) -> Data {
        var b = pngSignature
        b += pngChunk("IHDR", be32(width) + be32(height) + [UInt8(bitDepth), UInt8(colorType), 0, 0, UInt8(interlace)])
        for c in chunks { b += c }
        b += pngChunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
        b += pngChunk("IEND", [])
        return Data(b)
    }

    /// Insert chunks right after IHDR of an existing PNG.
    public static func insertAfterIHDR(_ png: Data, _ chunks: [[UInt8]]) -> Data {
        var b = Array(png)
        b.insert(contentsOf: chunks.flatMap { $0 }, at: 33)
        return Data(b)
    }

    public static func acTL(frames: Int, plays: Int = 0) -> [UInt8] { pngChunk("acTL", be32(frames) + be32(plays)) }

    public static func xmpITXt(_ xml: String) -> [UInt8] {
        pngChunk("iTXt", ascii("XML:com.adobe.xmp") + [0, 0, 0, 0, 0] + ascii(xml))
    }

    // MARK: - GIF

    /// A GIF with `frames` frames of `width`×`height` using a 4-colour global palette. The LZW data emits a
    /// clear code before every pixel, which keeps the code width fixed and is valid for every decoder.
    public static func gif(width: Int, height: Int, frames: Int = 1, pixel: (Int, Int, Int) -> Int = { x, y, _ in (x + y) % 4 }) -> Data {
        var b = ascii("GIF89a") + le16(width) + le16(height) + [0xF1, 0, 0]
        b += [0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]  // black, red, green, blue
        if frames > 1 { b += [0x21, 0xFF, 11] + ascii("NETSCAPE2.0") + [3, 1, 0, 0, 0] }
        for f in 0..<frames {
            b += [0x21, 0xF9, 4, 0, 10, 0, 0, 0]  // graphic control: 100 ms
            b += [0x2C] + le16(0) + le16(0) + le16(width) + le16(height) + [0]
            let minCode = 2
            var codes: [Int] = []
            for y in 0..<height { for x in 0..<width { codes += [4, pixel(x, y, f)] } }
            codes.append(5)
            var bytes: [UInt8] = []
            var acc = 0, n = 0
            for c in codes {
                acc |= c << n
                n += minCode + 1
                while n >= 8 { bytes.append(UInt8(acc & 0xFF)); acc >>= 8; n -= 8 }
            }
            if n > 0 { bytes.append(UInt8(acc & 0xFF)) }
            b.append(UInt8(minCode))
            var i = 0
            while i < bytes.count { let m = min(255, bytes.count - i); b.append(UInt8(m)); b += bytes[i..<(i + m)]; i += m }
            b.append(0)
        }
        b.append(0x3B)
        return Data(b)
    }

    // MARK: - WebP

    public static func riffChunk(_ fourcc: String, _ data: [UInt8]) -> [UInt8] {
        ascii(fourcc) + le32(data.count) + data + (data.count & 1 == 1 ? [0] : [])
    }

    public static func riff(_ chunks: [[UInt8]]) -> Data {
        let body = ascii("WEBP") + chunks.flatMap { $0 }
        return Data(ascii("RIFF") + le32(body.count) + body)
    }

    /// Header-only lossy WebP (VP8 key-frame header).
    public static func webpLossyHeader(width: Int, height: Int) -> Data {
        riff([riffChunk("VP8 ", [0x50, 0x02, 0x00, 0x9D, 0x01, 0x2A] + le16(width) + le16(height) + [0, 0])])
    }

    /// Header-only lossless WebP (VP8L 14-bit sizes).
    public static func webpLosslessHeader(width: Int, height: Int, alpha: Bool = false) -> Data {
        let bits = (width - 1) | (height - 1) << 14 | (alpha ? 1 << 28 : 0)
        return riff([riffChunk("VP8L", [0x2F] + le32(bits) + [0, 0, 0])])
    }

    /// Extended WebP: VP8X canvas, ANIM + `frames` ANMF chunks when animated, optional EXIF/XMP chunks.
    public static func webpExtended(width: Int, height: Int, frames: Int = 0, alpha: Bool = false,
                                    exif: [UInt8]? = nil, xmp: String? = nil) -> Data {
        var flags: UInt8 = 0
        if frames > 0 { flags |= 0x02 }
        if alpha { flags |= 0x10 }
        if exif != nil { flags |= 0x08 }
        if xmp != nil { flags |= 0x04 }
        var chunks = [riffChunk("VP8X", [flags, 0, 0, 0] + le24(width - 1) + le24(height - 1))]
        if frames > 0 {
            chunks.append(riffChunk("ANIM", [0, 0, 0, 0, 0, 0]))
            for _ in 0..<frames {
                let frame = riffChunk("VP8L", [0x2F] + le32((width - 1) | (height - 1) << 14) + [0, 0, 0])
                chunks.append(riffChunk("ANMF", le24(0) + le24(0) + le24(width - 1) + le24(height - 1) + le24(100) + [0] + frame))
            }
        } else {
            chunks.append(riffChunk("VP8L", [0x2F] + le32((width - 1) | (height - 1) << 14) + [0, 0, 0]))
        }
        if let exif { chunks.append(riffChunk("EXIF", exif)) }
        if let xmp { chunks.append(riffChunk("XMP ", ascii(xmp))) }
        return riff(chunks)
    }

    // MARK: - BMP

    /// 24-bit uncompressed BMP; `topDown` writes a negative height. Pixels are RGB row-major.
    public static func bmp24(width: Int, height: Int, topDown: Bool = false, rgb: [UInt8]) -> Data {
        let stride = (width * 3 + 3) / 4 * 4
        var pixels = [UInt8](repeating: 0, count: stride * height)
        for y in 0..<height {
            let row = (topDown ? y : height - 1 - y) * stride
            for x in 0..<width {
                let s = (y * width + x) * 3
                pixels[row + 3 * x] = rgb[s + 2]; pixels[row + 3 * x + 1] = rgb[s + 1]; pixels[row + 3 * x + 2] = rgb[s]
            }
        }
        let h = topDown ? -height : height
        var b = ascii("BM") + le32(54 + pixels.count) + le32(0) + le32(54)
        b += le32(40) + le32(width) + le32(Int(UInt32(bitPattern: Int32(h)))) + le16(1) + le16(24) + le32(0)
        b += le32(pixels.count) + le32(2835) + le32(2835) + le32(0) + le32(0)
        return Data(b + pixels)
    }

    // MARK: - AVIF / HEIF / TIFF

    public static func isoBox(_ type: String, _ payload: [UInt8]) -> [UInt8] { be32(payload.count + 8) + ascii(type) + payload }

    /// ftyp + meta/iprp/ipco/ispe, no media data: enough for probing.
    public static func isobmff(brand: String, compatible: [String], width: Int, height: Int) -> Data {
        let ftyp = isoBox("ftyp", ascii(brand) + be32(0) + compatible.flatMap(ascii))
        let ispe = isoBox("ispe", [0, 0, 0, 0] + be32(width) + be32(height))
        let meta = isoBox("meta", [0, 0, 0, 0] + isoBox("hdlr", [0, 0, 0, 0] + be32(0) + ascii("pict") + [UInt8](repeating: 0, count: 13))
                          + isoBox("iprp", isoBox("ipco", ispe)))
        return Data(ftyp + meta)
    }

    /// A header-only TIFF with ImageWidth/ImageLength/Orientation.
    public static func tiffFile(width: Int, height: Int, orientation: Int = 1, bigEndian: Bool = true) -> Data {
        Data(tiff(bigEndian: bigEndian, entries: [(0x100, width), (0x101, height), (0x112, orientation), (0x106, 2), (0x115, 3)]))
    }

    // MARK: - Pixels

    /// A deterministic RGB test pattern (gradients + a diagonal), so resampling and hashing have structure.
    public static func pattern(width: Int, height: Int, seed: Int = 0) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                out[i] = UInt8((x * 255 / max(width - 1, 1) + seed * 37) & 0xFF)
                out[i + 1] = UInt8((y * 255 / max(height - 1, 1) + seed * 11) & 0xFF)
                out[i + 2] = abs(x - y) < 3 ? 255 : UInt8(((x / 8 + y / 8) % 2) * 128)
            }
        }
        return out
    }
}
