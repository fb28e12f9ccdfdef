import Dataset

/// The `collect:` section of a recipe.
public enum CollectRecipe {
    /// `collect.per_keyword` and `--per-keyword`.
    public static let perKeywordRule = ValueRule.atLeast(1)
    /// `collect.concurrency`/`per_host` and `--concurrency`/`--per-host`.
    public static let concurrencyRule = ValueRule.atLeast(1)

    static let source: RecipeType = .map([
        "enabled": .bool,
        "base_url": .string,
        "api_key_env": .string,
        "per_keyword": .checked(.int, .atLeast(1)),
        "requests_per_minute": .checked(.number, .greaterThan(0)),
        "thumbnail_width": .int,
        "photo_size": .choice(["small", "medium", "large", "original"]),
        "quality_grade": .string,
        "file": .string,
        "path": .string,
        "url_column": .string,
        "caption_column": .string,
        "keyword_column": .string,
        "keyword": .string,
        "format": .choice(["csv", "tsv", "jsonl", "parquet"]),
    ])

    public static let section = RecipeSection("collect", [
        "sources": .map([
            "commons": source, "inaturalist": source, "openverse": source, "gbif": source, "flickr": source,
            "urls": source, "directory": source,
        ]),
        "per_keyword": .checked(.int, perKeywordRule),
        "licenses": .checked(.list(.string), LicenseFilter.rule),
        "concurrency": .checked(.int, concurrencyRule),
        "per_host": .checked(.int, concurrencyRule),
        "timeout_seconds": .checked(.number, .greaterThan(0)),
        "connect_timeout_seconds": .checked(.number, .greaterThan(0)),
        "low_speed_bytes": .checked(.int, .atLeast(0)),
        "low_speed_seconds": .checked(.number, .atLeast(0)),
        "max_bytes": .checked(.int, .atLeast(1)),
        "max_redirects": .checked(.int, .atLeast(0)),
        "max_attempts": .checked(.int, .atLeast(1)),
        "retry_base_seconds": .checked(.number, .atLeast(0)),
        "retry_max_seconds": .checked(.number, .atLeast(0)),
        "max_wait_seconds": .checked(.number, .greaterThan(0)),
        "allow_hosts": .list(.string),
        "robots": .bool,
        "respect_x_robots_tag": .bool,
        "user_agent_contact": .string,
    ])
}
