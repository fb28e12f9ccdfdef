import Dataset
import Foundation

/// The registry of sources: a name in a recipe or `--sources` → a configured `ImageSource`.
public enum ImageSources {
    public static let names = ["commons", "inaturalist", "openverse", "gbif", "flickr", "urls", "directory"]

    /// Requests per minute each API's terms ask for, used unless the recipe sets `requests_per_minute`.
    public static let defaultRequestsPerMinute: [String: Double] = [
        "inaturalist": INaturalistSource.defaultRequestsPerMinute,
        "flickr": 60,
    ]

    public static func make(_ name: String, options: CollectSettings.SourceOptions,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws(CollectError) -> any ImageSource {
        switch name {
        case "commons":
            return CommonsSource(baseURL: options.baseURL ?? CommonsSource.defaultBaseURL,
                                 thumbnailWidth: options.thumbnailWidth ?? 1280)
        case "inaturalist":
            return INaturalistSource(baseURL: options.baseURL ?? INaturalistSource.defaultBaseURL,
                                     photoSize: options.photoSize ?? "large", qualityGrade: options.qualityGrade ?? "research")
        case "openverse":
            return OpenverseSource(baseURL: options.baseURL ?? OpenverseSource.defaultBaseURL)
        case "gbif":
            return GBIFSource(baseURL: options.baseURL ?? GBIFSource.defaultBaseURL)
        case "flickr":
            return try FlickrSource(baseURL: options.baseURL ?? FlickrSource.defaultBaseURL,
                                    keyVariable: options.apiKeyEnv ?? FlickrSource.defaultKeyVariable, environment: environment)
        case "urls":
            guard let file = options.file else {
                throw CollectError(.invalidSetting, item: "urls", detail: "give the URL list with --source-file or collect.sources.urls.file")
            }
            var columns = URLListSource.Columns()
            if let v = options.urlColumn { columns.url = v }
            if let v = options.captionColumn { columns.caption = v }
            columns.keyword = options.keywordColumn
            if let v = options.keyword { columns.fixedKeyword = v }
            return try URLListSource(file: URL(fileURLWithPath: file), format: options.format, columns: columns)
        case "directory":
            guard let path = options.path ?? options.file else {
                throw CollectError(.invalidSetting, item: "directory", detail: "give the folder with --source-file or collect.sources.directory.path")
            }
            return try DirectorySource(root: URL(fileURLWithPath: path), fixedKeyword: options.keyword)
        default:
            throw CollectError(.invalidSetting, item: "--sources",
                               detail: "unknown source \(name); use \(names.joined(separator: ", "))")
        }
    }

    /// The base URL a source's API requests go to (for its rate limiter).
    static func apiBaseURL(of source: any ImageSource) -> String? {
        switch source {
        case let s as CommonsSource: return s.baseURL
        case let s as INaturalistSource: return s.baseURL
        case let s as OpenverseSource: return s.baseURL
        case let s as GBIFSource: return s.baseURL
        case let s as FlickrSource: return s.baseURL
        default: return nil
        }
    }
}
