// Release-mode driver for bench/filter.
//   BenchFilter bench FILE...     probe all files, then pHash all files; prints timings as JSON
//   BenchFilter phash FILE...     prints "<hex> <file>" per file (for comparing with imagehash)
//   BenchFilter probe FILE...     prints one JSON probe per line
import Filter
import Foundation

let args = Array(CommandLine.arguments.dropFirst())
guard let mode = args.first else {
    FileHandle.standardError.write(Data("usage: BenchFilter bench|phash|probe FILE...\n".utf8))
    exit(2)
}
let files = args.dropFirst().map { URL(fileURLWithPath: $0) }

switch mode {
case "phash":
    for f in files {
        do { print(try PerceptualHash.compute(fileAt: f).hex, f.lastPathComponent) } catch {
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
    var probeFailures = 0
    var sink = 0
    var (w0, c0) = (wallSeconds(), cpuSeconds())
    for p in paths {
        if let probe = try? ImageProber.probe(path: p) { sink &+= probe.width } else { probeFailures += 1 }
    }
    let (probeWall, probeCPU) = (wallSeconds() - w0, cpuSeconds() - c0)
    var hashFailures = 0
    var checksum: UInt64 = 0
    let skipHash = ProcessInfo.processInfo.environment["BENCH_PROBE_ONLY"] != nil
    (w0, c0) = (wallSeconds(), cpuSeconds())
    for f in files where !skipHash {
        if let h = try? PerceptualHash.compute(fileAt: f) { checksum &+= h.value } else { hashFailures += 1 }
    }
    let (hashWall, hashCPU) = (wallSeconds() - w0, cpuSeconds() - c0)
    // The same pHash work spread over all cores (a real filter run hashes with a task group).
    let cores = ProcessInfo.processInfo.activeProcessorCount
    (w0, c0) = (wallSeconds(), cpuSeconds())
    if !skipHash {
        await withTaskGroup(of: Void.self) { group in
            let chunk = (files.count + cores - 1) / cores
            for start in stride(from: 0, to: files.count, by: chunk) {
                let slice = Array(files[start..<min(start + chunk, files.count)])
                group.addTask { for f in slice { _ = try? PerceptualHash.compute(fileAt: f) } }
            }
        }
    }
    let parallelWall = wallSeconds() - w0
    let n = Double(files.count)
    print("""
    {"files": \(files.count), "probe_wall_s": \(probeWall), "probe_cpu_s": \(probeCPU), \
    "probe_failures": \(probeFailures), "phash_wall_s": \(hashWall), "phash_cpu_s": \(hashCPU), \
    "phash_parallel_wall_s": \(parallelWall), "cores": \(cores), \
    "phash_failures": \(hashFailures), "checksum": "\(String(checksum, radix: 16))", "sink": \(sink), "n": \(n)}
    """)
default:
    FileHandle.standardError.write(Data("unknown mode \(mode)\n".utf8))
    exit(2)
}
