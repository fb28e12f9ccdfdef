import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// Issue 15's closing test: `dsbuild run` against a loopback Commons whose files answer with every failure a
/// hostile network produces (`ImageFault`) and a chat endpoint that answers with every failure a broken one
/// produces (`ChatFault`, the key echoed in error bodies), with canary secrets in the API key, in userinfo of
/// `OPENAI_BASE_URL` and in `FLICKR_API_KEY` (no Flickr source runs: that one only must not be copied anywhere).
/// One uninterrupted run is the reference; a second workspace is built by runs SIGKILLed inside each stage and at
/// seeded random points (`DSBUILD_FAULT_SEED` replays a schedule), and a final run. Then: the manifests and shards are equal, every transient fault ended as success and every
/// permanent one is recorded with its reason in both, no request was paid twice beyond the concurrency in flight
/// at each kill, and no form of any canary is in any output or workspace file.
@Suite(.serialized) struct FaultInjectionTests {
    static let openAIKey = "sk-CANARY-fault+k=/42"
    static let flickrKey = "FLKCANARY+fault=7 q"
    static let baseUser = "fuser-CANARY"
    static let basePassword = "pw-CANARY-fault"
    /// `llm.concurrency` (describe and mcq use the same): the most requests a kill can leave paid but unrecorded.
    static let concurrency = 4
    static let maxBytes = 2_000_000

    @Test func killedRunsOverFaultyServersEndAsTheUninterruptedRunWithoutPayingTwiceOrLeaking() throws {
        let suiteStart = Date()
        let f = try Fixture()
        defer { f.stop() }
        let seed = ProcessInfo.processInfo.environment["DSBUILD_FAULT_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...999_999)
        var random = SeededGenerator(seed: seed)
        let sweep = CanarySweep(canaries: [Self.openAIKey, Self.flickrKey, Self.baseUser, Self.basePassword])
        var leaks: [CanarySweep.Leak] = []
        var sweptFiles = 0
        func check(_ name: String, _ result: CommandRunner.Result) {
            leaks += sweep.leaks(in: Data(result.stdout.utf8), place: "\(name) stdout")
            leaks += sweep.leaks(in: Data(result.stderr.utf8), place: "\(name) stderr")
        }
        func sweepFiles(_ folder: URL) {
            let (found, files) = sweep.leaks(under: folder)
            leaks += found
            sweptFiles += files
        }

        // The reference: one uninterrupted run.
        let wsA = f.workspace("wsA")
        let started = Date()
        let a = try f.cli.run(["run", f.recipe.path, "--workspace", wsA.path, "--json"])
        let duration = Date().timeIntervalSince(started)
        check("reference", a)
        sweepFiles(f.tmp.url)
        let summaryA = try a.json()
        let stagesA = try #require(summaryA["stages"] as? [[String: Any]], "\(a.stdout) \(a.stderr)")
        #expect(stagesA.map { $0["stage"] as? String } == ["collect", "filter", "describe", "mcq", "shards", "check"])
        #expect(stagesA.dropFirst().allSatisfy { ($0["status"] as? String) == "ok" }, "\(a.stdout)\n\(a.stderr)")
        let paidA = f.responder.paid.snapshot
        let chatFaultsA = f.responder.faultsServed.snapshot
        let imageFaultsA = f.imageFaultsServed.snapshot
        #expect(!paidA.isEmpty)
        #expect(paidA.values.allSatisfy { $0 == 1 }, "an uninterrupted run pays each request once: \(paidA.filter { $0.value > 1 })")

        // Each file was asked for exactly as often as its fault needs: a permanent fault once (a 404, an HTML
        // page, an oversized body and a refused redirect are not retried), a transient one until it was served.
        let requestsA = f.imageAttempts.snapshot
        for (name, fault) in f.faults {
            #expect(requestsA[name, default: 0] == (fault.failingAttempts ?? 0) + 1, "\(name) (\(fault)): \(requestsA[name, default: 0]) requests")
        }

        // The same from scratch, killed at seeded random points, each kill followed by the next attempt.
        f.resetFaults()
        let wsB = f.workspace("wsB")
        print("fault injection: seed \(seed) (DSBUILD_FAULT_SEED), reference run \(String(format: "%.1f", duration)) s, exit \(a.status)")
        var kills = 0
        var attempts = 0
        var points: [String] = []
        // Kills inside each stage in pipeline order (a random moment after the stage's run row appears: a resumed
        // run skips what is done, so each lands where the workspace has got to; short stages get short moments),
        // then two at random points of the reference's time.
        let targets: [String?] = ["search", "download", "download", "filter", "describe", "describe", "mcq.type2", "mcq.type2", "shards", nil, nil]
        var progress = 0.0
        var masked = 0
        /// The keys paid for during each attempt (the final run last).
        var paidPerAttempt: [Set<String>] = []
        var signalled: [Bool] = []
        for target in targets {
            attempts += 1
            let left = max(duration - progress, 0.2 * duration)
            let wait = Double.random(in: 0.15...0.7, using: &random) * left
            let settle = Double.random(in: 0...(target == "filter" || target == "shards" ? 0.08 : 0.6), using: &random)
            if target == nil { progress += wait }
            let fraction = wait / duration
            // Verbose: the retry log lines carry the endpoint's echoing error bodies.
            let runsBefore = ((try? Hardening.runs(wsB)) ?? []).count
            let paidBefore = f.responder.paid.snapshot
            let running = try f.cli.start(["run", f.recipe.path, "--workspace", wsB.path, "--verbose"])
            if let target {
                let deadline = Date().addingTimeInterval(duration * 2)
                while Date() < deadline, running.process.isRunning,
                      !(((try? Hardening.runs(wsB)) ?? []).dropFirst(runsBefore).contains { $0.command == target }) {
                    usleep(20_000)
                }
                let until = Date().addingTimeInterval(settle)
                while Date() < until, running.process.isRunning { usleep(5_000) }
            } else {
                let deadline = Date().addingTimeInterval(wait)
                while Date() < deadline, running.process.isRunning { usleep(10_000) }
            }
            let wasRunning = running.process.isRunning
            if wasRunning { running.kill() }
            let result = running.wait()
            paidPerAttempt.append(Self.increase(from: paidBefore, to: f.responder.paid.snapshot))
            check("attempt \(attempts)", result)
            if result.signalled { kills += 1 }
            signalled.append(result.signalled)
            // The stage the kill hit: the last run this attempt left `running`.
            let hit = ((try? Hardening.runs(wsB)) ?? []).dropFirst(runsBefore).last { $0.status == "running" }?.command
            let place = hit.map { " in \($0)" } ?? " between stages"
            let when = target.map { "\($0) +\(String(format: "%.2f", settle)) s" } ?? String(format: "%.2f of the reference", fraction)
            points.append(when + (result.signalled ? place : " (finished first, exit \(result.status))"))
            if result.stderr.contains(SecretRedactor.mask) { masked += 1 }
            #expect(result.signalled || result.status == 0 || result.status == 1, "attempt \(attempts): \(result.stderr.suffix(2000))")
            // Swept now, while a killed run's WAL is still on disk.
            sweepFiles(wsB)
        }
        let paidBeforeFinal = f.responder.paid.snapshot
        let b = try f.cli.run(["run", f.recipe.path, "--workspace", wsB.path, "--json"])
        paidPerAttempt.append(Self.increase(from: paidBeforeFinal, to: f.responder.paid.snapshot))
        signalled.append(false)
        check("final", b)
        sweepFiles(f.tmp.url)
        let stagesB = try #require(try b.json()["stages"] as? [[String: Any]], "\(b.stdout) \(b.stderr)")
        #expect(stagesB.dropFirst().allSatisfy { ($0["status"] as? String) == "ok" }, "\(b.stdout)\n\(b.stderr)")
        #expect(kills >= 5, "most attempts were killed mid-run: \(points)")
        #expect(masked > 0, "the echoed key reached a log line, masked (so there was something to leak)")
        // A killed process cannot close its run rows; the next writer marks them, so none stays `running`.
        let runsB = try Hardening.runs(wsB)
        #expect(!runsB.contains { $0.status == "running" }, "\(runsB)")
        let killedRows = runsB.filter { $0.status == RunRecord.killedStatus }.count
        #expect(killedRows >= points.filter { $0.contains(" in ") }.count, "\(runsB)")

        // Equal results.
        let fingerprintA = try PipelineFingerprint.manifest(wsA)
        let fingerprintB = try PipelineFingerprint.manifest(wsB)
        #expect(fingerprintA.contains { $0.hasPrefix(#""q"|"#) } && fingerprintA.contains { $0.hasPrefix(#""desc"|"#) })
        let difference = PipelineFingerprint.firstDifference(fingerprintA, fingerprintB)
        #expect(difference == nil, "manifests differ: \(difference ?? "")")
        let shardsA = try PipelineFingerprint.shards(wsA)
        #expect(!shardsA.isEmpty)
        #expect(shardsA == (try PipelineFingerprint.shards(wsB)))
        // The same files in both workspaces (no `.part` or temporary file left by a kill), the same stored images.
        let filesA = try Self.files(wsA), filesB = try Self.files(wsB)
        #expect(filesA.keys.sorted() == filesB.keys.sorted(), "only in A: \(Set(filesA.keys).subtracting(filesB.keys).sorted()); only in B: \(Set(filesB.keys).subtracting(filesA.keys).sorted())")
        let imagesA = filesA.filter { $0.key.hasPrefix("images/") }
        #expect(!imagesA.isEmpty && imagesA == filesB.filter { $0.key.hasPrefix("images/") })

        // Every transient fault ended as success, every permanent one with its reason, in both.
        var survived = 0
        for (label, ws) in [("reference", wsA), ("killed", wsB)] {
            let rows = try Self.downloads(ws)
            for (name, fault) in f.faults.sorted(by: { $0.key < $1.key }) {
                let row = rows[name]
                if let reason = fault.permanentReason {
                    #expect(row?.status == "failed" && row?.reason == reason, "\(label): \(name) (\(fault)) → \(String(describing: row))")
                } else {
                    #expect(row?.status == "ok", "\(label): \(name) (\(fault)) → \(String(describing: row))")
                    if row?.status == "ok", fault != .none, fault != .slowBody { survived += 1 }
                }
            }
        }
        for ws in [wsA, wsB] {
            // Nothing ended as a transient failure either: no download left to retry, no description or question
            // failed (the chat faults are all retried to an answer).
            let left = try Hardening.rows(ws, """
                SELECT (SELECT COUNT(*) FROM downloads WHERE retryable = 1), (SELECT COUNT(*) FROM descriptions WHERE status = 'failed'),
                       (SELECT COUNT(*) FROM questions WHERE status = 'failed'), (SELECT COUNT(*) FROM descriptions WHERE status = 'accepted')
                """)
            #expect(left.first?.prefix(3) == ["0", "0", "0"] && left.first?[3] != "0", "\(ws.lastPathComponent): \(left)")
        }
        #expect(f.elsewhere.totalRequests == 0, "the redirect to another loopback port was refused before connecting")

        // Paid requests: the same requests as the reference, each at most once more per kill, and no more extra
        // than the requests in flight at the kills.
        let paidB = f.responder.paid.snapshot
        #expect(Set(paidB.keys) == Set(paidA.keys), "the same requests were paid for")
        let extra = paidB.values.reduce(0) { $0 + max(0, $1 - 1) }
        #expect(paidB.values.allSatisfy { $0 <= 1 + kills })
        #expect(extra <= kills * Self.concurrency, "paid twice: \(extra) > \(kills) kills × \(Self.concurrency) in flight")
        // Per attempt: the requests it paid for and a later attempt paid for again are those it lost to its kill,
        // at most the requests in flight; an attempt that finished lost none.
        var lostPerKill: [Int] = []
        for (i, paid) in paidPerAttempt.enumerated() {
            let later = paidPerAttempt.dropFirst(i + 1).reduce(into: Set<String>()) { $0.formUnion($1) }
            let lost = paid.intersection(later).count
            #expect(lost <= (signalled[i] ? Self.concurrency : 0), "attempt \(i + 1) (killed: \(signalled[i])) lost \(lost) paid requests")
            if signalled[i] { lostPerKill.append(lost) }
        }

        // Faults served and survived (chat faults are all transient except the malformed answer, which is the answer).
        let chatFaultsB = f.responder.faultsServed.snapshot
        let imageFaultsB = f.imageFaultsServed.snapshot
        let chatKinds = Set(chatFaultsA.keys).union(chatFaultsB.keys)
        let imageKinds = Set(imageFaultsA.keys).union(imageFaultsB.keys)
        #expect(chatKinds.count == ChatFault.allCases.count - 1, "every chat fault was served: \(chatKinds.sorted())")
        #expect(Set(f.faults.values).count == ImageFault.allCases.count)
        let chatServed = chatFaultsA.values.reduce(0, +) + chatFaultsB.values.reduce(0, +)
        let chatTransient = chatServed - (chatFaultsA[ChatFault.malformedContent.rawValue] ?? 0) - (chatFaultsB[ChatFault.malformedContent.rawValue] ?? 0)
        let imageServed = imageFaultsA.values.reduce(0, +) + imageFaultsB.values.reduce(0, +)

        // The release and every export of the killed run's workspace, written by the commands with the keys in the
        // environment, swept too (in a copy: the workspaces above are compared file by file).
        let released = f.tmp.path("released")
        try FileManager.default.copyItem(at: wsB, to: released)
        if let python = TinyEmbeddingModel.python {
            let publish = try f.cli.run(["publish", "--workspace", released.path, "--out", f.tmp.path("release").path, "--python", python])
            check("publish", publish)
            #expect(publish.status == 0, "\(publish.stderr)")
            #expect(FileManager.default.fileExists(atPath: f.tmp.path("release/croissant.json").path))
        }
        var exports = ["shards", "--workspace", released.path]
        for kind in ["llava", "llava-pretrain", "llama-factory", "openai", "mcq", "vlmevalkit", "lmms-eval"] { exports += ["--export", kind] }
        let exported = try f.cli.run(exports)
        check("exports", exported)
        #expect(exported.status == 0, "\(exported.stderr)")
        sweepFiles(f.tmp.path("release"))
        sweepFiles(released)

        let canaryBytes = leaks.reduce(0) { $0 + $1.bytes }
        print("""
            fault injection: seed \(seed); cases tried: \(ImageFault.allCases.count - 1) image faults + 2 search-API faults \
            + \(ChatFault.allCases.count - 1) chat faults = \(ImageFault.allCases.count - 1 + 2 + ChatFault.allCases.count - 1) \
            (served: images/API \(imageKinds.sorted()), chat \(chatKinds.sorted())); \
            kills: \(kills) of \(attempts) attempts (\(points); reference \(String(format: "%.1f", duration)) s); \
            faults injected: \(imageServed) image/API + \(chatServed) chat; transient faults survived: \
            \(survived) faulted files ended ok (\(survived / 2) per run) after \(imageServed) image/API faults, \(chatTransient) transient chat faults retried \
            to the same answers; paid twice: \(extra) (per kill \(lostPerKill), each ≤ \(Self.concurrency) in flight); \
            canary forms: \(sweep.forms.count) over \(sweptFiles) file reads + \(2 * (attempts + 2)) outputs, bytes found: \(canaryBytes); \
            wall \(String(format: "%.0f", Date().timeIntervalSince(suiteStart))) s
            """)
        #expect(canaryBytes == 0, "\(leaks.prefix(20))")
        #expect(sweptFiles > 10)
    }
}
