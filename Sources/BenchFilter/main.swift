// Release-mode driver for bench/filter.
//   BenchFilter bench FILE...     probe all files, then pHash all files; prints timings as JSON
//   BenchFilter phash FILE...     prints "<hex> <file>" per file (for comparing with imagehash)
//   BenchFilter probe FILE...     prints one JSON probe per line
import Foundation
import Imaging

let args = Array(CommandLine.arguments.dropFirst())
guard let mode = args.first else {
    FileHandle.standardError.write(Data("usage: BenchFilter bench|phash|probe FILE...\n".utf8))
    exit(2)
}
let files = args.dropFirst().map { URL(fileURLWithPath: $0) }

/// Runs `body` over `items` split into one contiguous slice per core, in a task group (as the filter spreads work).
func onAllCores<T: Sendable>(_ items: [T], cores: Int, _ body: @escaping @Sendable (T) -> Void) async {
    await withTaskGroup(of: Void.self) { group in
        let chunk = max(1, (items.count + cores - 1) / cores)
        for start in stride(from: 0, to: items.count, by: chunk) {
            let slice = Array(items[start..<min(start + chunk, items.count)])
            group.addTask { for item in slice { body(item) } }
        }
    }
}

switch mode {
case "phash":
    for f in files {
        do { print(try PerceptualHash.compute(fileAt: f).hex, f.lastPathComponent) } catch {
            print("error", f.lastPathComponent, error)
        }
    }
case "phash-fast":
    for f in files {
        do { print(try PerceptualHash.compute(fileAt: f, mode: .fast()).hex, f.lastPathComponent) } catch {
            print("error", f.lastPathComponent, error)
        }
    }
case "probe":
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    for f in files {
        do { print(String(decoding: try encoder.encode(try ImageProber.probe(fileAt: f)), as: UTF8.self)) } catch {
            print("{\"error\": \"\(error)\", \"file\": \"\(f.lastPathComponent)\"}")
        }
    }
case "write-cmyk":
    // Diagnostic: write a CMYK JPEG and print our decode (first pixels) and pHash, to compare with Pillow.
    let w = 48, h = 40
    var samples = [UInt8]()
    for y in 0..<h { for x in 0..<w { samples += [UInt8(x * 5), UInt8(y * 6), UInt8((x + y) * 2), UInt8((x * y) % 200)] } }
    let data = try ImageEncoder.jpegCMYK(samples: samples, width: w, height: h)
    try data.write(to: files[0])
    let d = try ImageDecoder.decode(data: data)
    print(Array(d.pixels.prefix(12)), PerceptualHash.compute(image: d).hex, d.luma().pixels.reduce(0) { $0 + Int($1) })
case "write-gray16":
    // Diagnostic: a 16-bit gray PNG (values 0…65520) and our pHash, to compare with Pillow's I;16 handling.
    let w = 64, h = 64
    var samples = [UInt8]()
    for i in 0..<(w * h) { let v = i * 16; samples += [UInt8(v >> 8), UInt8(v & 0xFF)] }
    try ImageEncoder.png(samples: samples, width: w, height: h, channels: 1, bitDepth: 16).write(to: files[0])
    print(try PerceptualHash.compute(fileAt: files[0]).hex)
case "probe-mem":
    // Diagnostic: parse cost alone (files already in memory, first 64 KiB), and read cost alone.
    let blobs = files.map { (try? Data(contentsOf: $0).prefix(65536)) ?? Data() }
    var t = ContinuousClock.now
    var sink = 0
    for _ in 0..<100 { for b in blobs { if let p = try? ImageProber.probe(data: b) { sink &+= p.width } } }
    print("parse only: \((ContinuousClock.now - t) / (100 * blobs.count)) per file", sink)
    t = ContinuousClock.now
    var buf = [UInt8](repeating: 0, count: 4096)
    for f in files {
        let fd = open(f.path, O_RDONLY)
        _ = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 4096, 0) }
        close(fd)
    }
    print("open+pread 4K+close: \((ContinuousClock.now - t) / files.count) per file")
case "probe-repeat":
    // Diagnostic for profilers: geometry probes over all files, 20 times.
    var sink = 0
    let paths = files.map(\.path)
    for _ in 0..<200 { for p in paths { if let r = try? ImageProber.probe(path: p, scope: .geometry) { sink &+= r.width } } }
    print(sink)
case "probe-threads":
    // Diagnostic: full-scope probes of all files ×20 on 1 thread, then on 2 threads.
    let paths = files.map(\.path)
    for threads in [1, 2] {
        let t = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for k in 0..<threads {
                group.addTask {
                    for _ in 0..<20 { for (i, p) in paths.enumerated() where i % threads == k { _ = try? ImageProber.probe(path: p) } }
                }
            }
        }
        print(threads, "threads:", (ContinuousClock.now - t) / (20 * paths.count), "per file")
    }
case "integrity":
    // What the filter's pixel work costs per image: integrity decode + separate exact pHash (two decodes)
    // against the verifying decode that yields the exact pHash on the way (one decode for JPEGs).
    let analyzer = PixelAnalyzer()
    var t = ContinuousClock.now
    for f in files { _ = try? analyzer.verifyDecodes(fileAt: f, maxPixels: 1 << 28); _ = try? analyzer.perceptualHash(fileAt: f, mode: .exact) }
    let two = ContinuousClock.now - t
    t = ContinuousClock.now
    var missing = 0
    for f in files where (try? analyzer.verifyDecodesAndHash(fileAt: f, maxPixels: 1 << 28)) == nil {
        _ = try? analyzer.perceptualHash(fileAt: f, mode: .exact)
        missing += 1
    }
    let one = ContinuousClock.now - t
    func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15 }
    let n = Double(files.count)
    print(String(format: "verify + hash as two decodes: %.2f ms/image; verify yielding the hash: %.2f ms/image (%d non-JPEG hashed separately); %.2fx",
                 ms(two) / n, ms(one) / n, missing, ms(two) / ms(one)))
case "probe-each":
    // Diagnostic: parse cost per file (head already in memory), slowest first.
    var rows: [(Double, String)] = []
    for f in files {
        let b = [UInt8]((try? Data(contentsOf: f)) ?? Data()).prefix(1 << 20)
        let a = Array(b)
        let t = ContinuousClock.now
        for _ in 0..<200 { _ = a.withUnsafeBytes { try? ImageProber.probe(bytes: $0) } }
        let d = (ContinuousClock.now - t) / 200
        rows.append((Double(d.components.attoseconds) / 1e12, f.lastPathComponent))
    }
    rows.sort { $0.0 > $1.0 }
    print("mean us", rows.map(\.0).reduce(0, +) / Double(rows.count))
    for r in rows.prefix(40) { print(String(format: "%.2f", r.0), r.1) }
case "bench":
    // Wall time and this process's CPU time (user + system): on a shared, loaded machine CPU time is
    // the fairer comparison; both are printed.
    func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
    func wallSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
    let paths = files.map(\.path)
    let cores = ProcessInfo.processInfo.activeProcessorCount
    var probeFailures = 0
    var sink = 0
    for p in paths.prefix(50) { _ = try? ImageProber.probe(path: p) }  // warm-up (Python's side does the same)
    // Probes are microseconds each: every figure is the fastest of `passes` passes over all files (the
    // Python side does the same), so one scheduler hiccup does not decide the ratio.
    let passes = Int(ProcessInfo.processInfo.environment["BENCH_PROBE_PASSES"] ?? "") ?? 5
    func timeProbes(_ scope: ProbeScope) -> (wall: Double, cpu: Double) {
        var best = (wall: Double.infinity, cpu: Double.infinity)
        for _ in 0..<passes {
            let (w, c) = (wallSeconds(), cpuSeconds())
            for p in paths {
                if let probe = try? ImageProber.probe(path: p, scope: scope) { sink &+= probe.width } else { probeFailures += 1 }
            }
            best = (min(best.wall, wallSeconds() - w), min(best.cpu, cpuSeconds() - c))
        }
        return best
    }
    /// The same probes spread over all cores, as collect's download workers and filter's task group run them.
    func timeParallelProbes(_ scope: ProbeScope) async -> Double {
        var best = Double.infinity
        for _ in 0..<passes {
            let w = wallSeconds()
            await onAllCores(paths, cores: cores) { _ = try? ImageProber.probe(path: $0, scope: scope) }
            best = min(best, wallSeconds() - w)
        }
        return best
    }
    let (probeWall, probeCPU) = timeProbes(.geometry)
    let (probeFullWall, probeFullCPU) = timeProbes(.full)
    let probeParallelWall = await timeParallelProbes(.geometry)
    let probeFullParallelWall = await timeParallelProbes(.full)
    probeFailures /= passes
    var w0 = 0.0, c0 = 0.0
    var hashFailures = 0
    var checksum: UInt64 = 0
    let skipHash = ProcessInfo.processInfo.environment["BENCH_PROBE_ONLY"] != nil
    (w0, c0) = (wallSeconds(), cpuSeconds())
    for f in files where !skipHash {
        if let h = try? PerceptualHash.compute(fileAt: f) { checksum &+= h.value } else { hashFailures += 1 }
    }
    let (hashWall, hashCPU) = (wallSeconds() - w0, cpuSeconds() - c0)
    // The same pHash work spread over all cores (a real filter run hashes with a task group).
    (w0, c0) = (wallSeconds(), cpuSeconds())
    if !skipHash {
        await onAllCores(files, cores: cores) { _ = try? PerceptualHash.compute(fileAt: $0) }
    }
    let parallelWall = wallSeconds() - w0
    // Approximate mode (DCT-scaled JPEG decode) and how far it lands from the exact hash.
    var fastDistances: [Int] = []
    let fastMinSide = Int(ProcessInfo.processInfo.environment["BENCH_FAST_MIN_SIDE"] ?? "") ?? 128
    (w0, c0) = (wallSeconds(), cpuSeconds())
    var fastHashes: [PerceptualHash?] = []
    for f in files where !skipHash { fastHashes.append(try? PerceptualHash.compute(fileAt: f, mode: .fast(minSide: fastMinSide))) }
    let (fastWall, fastCPU) = (wallSeconds() - w0, cpuSeconds() - c0)
    w0 = wallSeconds()
    if !skipHash {
        await onAllCores(files, cores: cores) { _ = try? PerceptualHash.compute(fileAt: $0, mode: .fast(minSide: fastMinSide)) }
    }
    let fastParallelWall = wallSeconds() - w0
    if !skipHash {
        for (f, fast) in zip(files.prefix(Set(files.map(\.lastPathComponent)).count), fastHashes) {
            if let fast, let exact = try? PerceptualHash.compute(fileAt: f) { fastDistances.append(fast - exact) }
        }
    }
    // Where probe time goes: parsing alone (bytes already in memory) and the open/pread/close floor.
    let heads = paths.prefix(Set(paths.map { ($0 as NSString).lastPathComponent }).count).map { p -> [UInt8] in
        let fd = open(p, O_RDONLY)
        defer { close(fd) }
        return [UInt8](unsafeUninitializedCapacity: 1 << 20) { buf, count in count = max(0, pread(fd, buf.baseAddress, 1 << 20, 0)) }
    }
    c0 = cpuSeconds()
    var parsed = 0
    for _ in 0..<10 { for h in heads { parsed += h.withUnsafeBytes { (try? ImageProber.probe(bytes: $0, scope: .geometry)) == nil ? 0 : 1 } } }
    let parseCPU = (cpuSeconds() - c0) / Double(10 * heads.count)
    c0 = cpuSeconds()
    var page = [UInt8](repeating: 0, count: 4096)
    for p in paths {
        let fd = open(p, O_RDONLY)
        _ = page.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 4096, 0) }
        close(fd)
    }
    let ioCPU = (cpuSeconds() - c0) / Double(paths.count)
    let n = Double(files.count)
    print("""
    {"files": \(files.count), "probe_wall_s": \(probeWall), "probe_cpu_s": \(probeCPU), \
    "probe_failures": \(probeFailures), "probe_full_wall_s": \(probeFullWall), "probe_full_cpu_s": \(probeFullCPU), \
    "probe_parallel_wall_s": \(probeParallelWall), "probe_full_parallel_wall_s": \(probeFullParallelWall), "phash_wall_s": \(hashWall), "phash_cpu_s": \(hashCPU), \
    "phash_parallel_wall_s": \(parallelWall), "cores": \(cores), \
    "phash_failures": \(hashFailures), "fast_wall_s": \(fastWall), "fast_cpu_s": \(fastCPU), \
    "fast_parallel_wall_s": \(fastParallelWall), \
    "fast_distance_mean": \(Double(fastDistances.reduce(0, +)) / Double(max(fastDistances.count, 1))), \
    "fast_distance_max": \(fastDistances.max() ?? -1), "fast_exact_count": \(fastDistances.filter { $0 == 0 }.count), \
    "fast_compared": \(fastDistances.count), "parse_cpu_us": \(parseCPU * 1e6), "io_floor_cpu_us": \(ioCPU * 1e6), \
    "checksum": "\(String(checksum, radix: 16))", "sink": \(sink), "n": \(n)}
    """)
default:
    FileHandle.standardError.write(Data("unknown mode \(mode)\n".utf8))
    exit(2)
}
