import Dataset
@testable import Filter
import Foundation
import Testing
import _DSBuildTestSupport

/// What the rule tests share: subjects built from a probe without a workspace, real probes of bytes a test made,
/// and settings read from a recipe's `filter:` section.
enum RuleTesting {
    /// A subject with this probe; the other facts default to an ordinary stored JPEG.
    static func subject(_ probe: ProbedImage, bytes: Int = 100_000, urls: [String] = [], extra: [String: String] = [:],
                        file: URL = URL(fileURLWithPath: "/nonexistent/image.jpg"), sha: String = sha(1)) -> FilterSubject {
        FilterSubject(sha256: sha, keywordID: 1, keyword: "K", fileURL: file, bytes: bytes, probe: probe, urls: urls,
                      extra: extra, searchRank: 0)
    }

    /// A probe as the manifest stores it: orientations 5–8 swap the display size.
    static func probe(width: Int, height: Int, orientation: Int = 1, format: String = "jpeg", animated: Bool = false,
                      frames: Int? = nil, rights: [String: String] = [:]) -> ProbedImage {
        let swap = orientation >= 5
        return ProbedImage(format: format, width: width, height: height, displayWidth: swap ? height : width,
                           displayHeight: swap ? width : height, orientation: orientation, animated: animated,
                           frames: frames, rights: rights)
    }

    /// A subject of this size (the display size unless `orientation` turns it).
    static func subject(width: Int, height: Int, orientation: Int = 1) -> FilterSubject {
        subject(probe(width: width, height: height, orientation: orientation))
    }

    /// The probe collect would store for these bytes.
    static func realProbe(_ data: Data) throws -> ProbedImage { try ProbedImage.probe(data: data) }

    /// A header-only JPEG of `width`×`height` stored pixels with this EXIF orientation, probed for real.
    static func rotatedJPEG(width: Int, height: Int, orientation: Int) throws -> FilterSubject {
        let data = ImageFactory.jpegHeader(width: width, height: height, segments: [ImageFactory.exifAPP1(orientation: orientation)])
        return subject(try realProbe(data), bytes: data.count)
    }

    /// Settings read from a recipe whose `filter:` section is `body` (indented two spaces).
    static func settings(_ body: String) throws -> FilterSettings {
        let schema = RecipeSchema(settings: [FilterSettings.self])
        return FilterSettings(recipe: try Recipe.parse(text: "filter:\n\(body)", file: "r.yaml", schema: schema))
    }

    /// The recipe's error for a `filter:` section, or nil when it is accepted.
    static func recipeError(_ body: String) -> RecipeError? {
        do {
            _ = try settings(body)
            return nil
        } catch {
            return error as? RecipeError
        }
    }

    /// The rule of type `Rule` these settings switch on, built through the registry; nil when it is off.
    static func rule<Rule: RegisteredRule>(_ type: Rule.Type, _ settings: FilterSettings = FilterSettings(),
                                           analyzer: (any PixelAnalyzing)? = nil, judge: (any WatermarkJudging)? = nil,
                                           hashes: PHashByproducts? = nil, relevance: (any RelevanceJudging)? = nil,
                                           siblings: KeywordSiblings? = nil) -> Rule? {
        settings.rules(analyzer: analyzer, judge: judge, hashes: hashes, relevance: relevance, siblings: siblings)
            .lazy.compactMap { $0 as? Rule }.first
    }
}
