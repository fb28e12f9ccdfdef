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
    let clock = ContinuousClock()
    var probeFailures = 0
    var pixels = 0
    let probeTime = clock.measure {
        for f in files {
            if let p = try? ImageProber.probe(fileAt: f) { pixels &+= p.width } else { probeFailures += 1 }
        }
    }
    var hashFailures = 0
    var xor: UInt64 = 0
    let hashTime = clock.measure {
        for f in files {
            if let h = try? PerceptualHash.compute(fileAt: f) { xor ^= h.value } else { hashFailures += 1 }
        }
    }
    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
    let n = Double(files.count)
    print("""
    {"files": \(files.count), "probe_s": \(seconds(probeTime)), "probe_per_s": \(n / seconds(probeTime)), \
    "probe_failures": \(probeFailures), "phash_s": \(seconds(hashTime)), "phash_per_s": \(n / seconds(hashTime)), \
    "phash_failures": \(hashFailures), "checksum": "\(String(xor, radix: 16))", "sink": \(pixels)}
    """)
default:
    FileHandle.standardError.write(Data("unknown mode \(mode)\n".utf8))
    exit(2)
}
