import Dataset
import Foundation

/// `mcq`'s first step: splits the experiment (`ExperimentSplit`), placing newly kept images and keywords with the
/// stored settings; with `refresh`, re-splits and deletes every generated question so all are derived again.
/// Throws `ExperimentSplit.SettingsChanged` when the stored split was made with other settings.
public struct SplitStage: WholeSetStage {
    public let name = "mcq.split"
    public let settings: SplitSettings
    public let refresh: Bool

    public init(settings: SplitSettings, refresh: Bool) {
        self.settings = settings
        self.refresh = refresh
    }

    public func run(in context: StageContext) async throws -> ExperimentSplit.Assignment {
        try MCQPipeline.assignSplit(settings, refresh: refresh, manifest: context.manifest)
    }

    public func counts(of result: ExperimentSplit.Assignment) -> [String: Int] {
        ["test_images": result.testImages, "train_images": result.trainImages, "test_keywords": result.testKeywords,
         "keywords_without_test": result.keywordsWithoutTest.count]
    }
}

/// Builds and stores the Type 1 (recognition) questions that do not exist yet, in one transaction
/// (`MCQPipeline.buildType1`).
public struct Type1Stage: WholeSetStage {
    public let name = "mcq.type1"
    public let settings: MCQSettings

    public init(settings: MCQSettings) { self.settings = settings }

    public func run(in context: StageContext) async throws -> MCQPipeline.Counts {
        try MCQPipeline.buildType1(settings: settings, manifest: context.manifest)
    }

    public func counts(of result: MCQPipeline.Counts) -> [String: Int] {
        ["accepted": result.type1Accepted, "rejected": result.type1Rejected]
    }
}

/// Over the questions created since the last finalize: drops duplicates and balances their answer letters, in
/// one transaction (`MCQPipeline.finalize`).
public struct FinalizeStage: WholeSetStage {
    public let name = "mcq.finalize"
    public let settings: MCQSettings

    public init(settings: MCQSettings) { self.settings = settings }

    public func run(in context: StageContext) async throws -> MCQPipeline.Counts {
        try MCQPipeline.finalize(settings: settings, manifest: context.manifest)
    }

    public func counts(of result: MCQPipeline.Counts) -> [String: Int] {
        ["created": result.created, "duplicates": result.duplicates, "total": result.total, "test": result.test]
    }
}
