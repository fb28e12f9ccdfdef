import Dataset
import Foundation
import GRDB
import Testing

/// A full disk, a used-up quota or an I/O error is recognised wherever it surfaces and says where and how much
/// space is left.
@Suite struct StorageErrorTests {
    @Test func sqliteFullAndPOSIXAndCocoaErrorsAreRecognised() {
        let full = StorageError.from(DatabaseError(resultCode: .SQLITE_FULL, message: "database or disk is full"), path: "/w/dsbuild.sqlite")
        #expect(full?.code == ENOSPC)
        #expect(full?.description.hasPrefix("no space left on the device writing /w/dsbuild.sqlite") == true)
        #expect(StorageError.from(NSError(domain: NSPOSIXErrorDomain, code: Int(EDQUOT)), path: "/x")?.reason == "quota_exceeded")
        #expect(StorageError.from(CocoaError(.fileWriteOutOfSpace), path: "/x")?.code == ENOSPC)
        #expect(StorageError.from(NSError(domain: NSPOSIXErrorDomain, code: Int(ENOENT)), path: "/x") == nil, "not a storage failure")
        #expect(StorageError.from(DatabaseError(resultCode: .SQLITE_CONSTRAINT), path: "/x") == nil)
    }

    @Test func theMessageNamesTheFreeSpaceOfTheNearestExistingFolder() {
        let error = StorageError(code: ENOSPC, path: "/tmp/does-not-exist-\(UUID().uuidString)/a/b.part")
        #expect(error.freeBytes != nil)
        #expect(error.description.contains(" free; free some space and run the command again"))
    }
}
