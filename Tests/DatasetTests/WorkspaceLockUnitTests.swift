import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// The workspace lock within one process: `dsbuild run` takes it and its stage commands take it again.
@Suite struct WorkspaceLockUnitTests {
    @Test func lockIsReentrantInOneProcessRecordsItsHolderAndIsFreeAfterTheLastRelease() throws {
        let tmp = TemporaryDirectory()
        let first = try WorkspaceLock.acquire(root: tmp.url, command: "run")
        let second = try WorkspaceLock.acquire(root: tmp.url, command: "collect")
        #expect(first === second)
        let holder = try #require(WorkspaceLock.holder(root: tmp.url))
        #expect(holder.pid == getpid())
        #expect(holder.command == "run", "the first taker is named")
        second.release()
        #expect(WorkspaceLock.holder(root: tmp.url) != nil, "still held once")
        first.release()
        #expect(WorkspaceLock.holder(root: tmp.url) == nil)
    }
}
