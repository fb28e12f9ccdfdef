import Dataset
import Foundation
import HTTP
import Testing

/// A full disk under a streaming download surfaces as the same `StorageError` the manifest reports
/// (`StorageErrorTests` in DatasetTests covers the error itself).
@Suite struct HashingBodySinkTests {
    @Test func aSinkWritingToAFullDeviceAbortsWithAStorageErrorAndFinishThrowsIt() throws {
        let sink = try HashingBodySink(writingTo: URL(fileURLWithPath: "/dev/full"))
        let decision = Data(repeating: 7, count: 4096).withUnsafeBytes { sink.receive($0) }
        guard case .abort(let reason) = decision else {
            Issue.record("a write to /dev/full must abort, got \(decision)")
            return
        }
        let error = try #require(StorageError.from(abortReason: reason))
        #expect(error.code == ENOSPC)
        #expect(error.reason == "disk_full")
        #expect(error.path == "/dev/full")
        #expect(throws: StorageError.self) { _ = try sink.finish() }
    }
}
