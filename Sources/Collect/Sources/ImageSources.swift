/// The one list of sources collect knows. A new source is one file conforming to `RegisteredSource` and one entry
/// here; the recipe's `collect.sources` keys, their documentation, `--sources` and the collector follow from it.
public enum ImageSources {
    /// Every source, in the order `--sources` help lists them.
    public static let all: [any RegisteredSource.Type] = [
        CommonsSource.self, INaturalistSource.self, OpenverseSource.self, GBIFSource.self, FlickrSource.self,
        URLListSource.self, DirectorySource.self,
    ]

    public static var names: [String] { all.map { $0.sourceName } }

    /// The source called `name`, if there is one.
    public static func named(_ name: String) -> (any RegisteredSource.Type)? {
        all.first { $0.sourceName == name }
    }
}
