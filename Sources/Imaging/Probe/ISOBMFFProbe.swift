/// AVIF / HEIF: recognised by the `ftyp` brands; size from the largest `ispe` property when it can be
/// found by a simple box walk (meta → iprp → ipco → ispe).
enum ISOBMFFProbe {
    static let avifBrands: Set<String> = ["avif", "avis"]
    static let heifBrands: Set<String> = ["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1", "mif2"]

    static func probe(_ r: ByteReader) throws(ProbeError) -> ImageProbe {
        guard let ftypSize = r.u32be(0), ftypSize >= 16, r.has(0, min(ftypSize, r.count)) else {
            throw .truncated(.heif)
        }
        var brands: [String] = []
        var p = 8
        while p + 4 <= min(ftypSize, r.count) {
            if p != 12 { brands.append(String(decoding: r.slice(p, 4)!, as: UTF8.self)) }
            p += 4
        }
        let format: ImageFormat
        if brands.contains(where: avifBrands.contains) { format = .avif }
        else if brands.contains(where: heifBrands.contains) { format = .heif }
        else { throw .notAnImage("looks like an ISO media file with brands \(brands.joined(separator: ",")) (video?)") }
        let animated = brands.first == "avis" || brands.first == "msf1" || brands.first == "hevc"
        var best: (Int, Int)?
        func walk(_ start: Int, _ end: Int, depth: Int) {
            var o = start
            while depth < 6, o + 8 <= end, let size32 = r.u32be(o) {
                var size = size32
                var header = 8
                if size == 1, let hi = r.u32be(o + 8), let lo = r.u32be(o + 12) { size = hi << 32 | lo; header = 16 }
                if size == 0 { size = end - o }
                guard size >= header, size <= end - o else { return }
                if r.matches(o + 4, "meta") {
                    walk(o + header + 4, o + size, depth: depth + 1)  // full box: version + flags
                } else if r.matches(o + 4, "iprp") || r.matches(o + 4, "ipco") {
                    walk(o + header, o + size, depth: depth + 1)
                } else if r.matches(o + 4, "ispe"), let w = r.u32be(o + header + 4), let h = r.u32be(o + header + 8) {
                    // w and h are 32-bit, so their product fits in Int (64-bit).
                    if best == nil || w * h > best!.0 * best!.1 { best = (w, h) }
                }
                o += size
            }
        }
        walk(ftypSize, r.count, depth: 0)
        guard let (w, h) = best else { throw .unsupported("\(format.rawValue.uppercased()) without a readable ispe size box") }
        return ImageProbe(format: format, width: w, height: h, animated: animated)
    }
}
