import Dataset

/// The `collect:` section of a recipe.
public enum CollectRecipe {
    static let source: RecipeType = .map([
        "enabled": .bool,
        "base_url": .string,
        "api_key_env": .string,
        "per_keyword": .int,
        "requests_per_minute": .number,
        "concurrency": .int,
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
        "per_keyword": .int,
        "licenses": .list(.string),
        "concurrency": .int,
        "per_host": .int,
        "timeout_seconds": .number,
        "connect_timeout_seconds": .number,
        "low_speed_bytes": .int,
        "low_speed_seconds": .number,
        "max_bytes": .int,
        "max_redirects": .int,
        "max_attempts": .int,
        "retry_base_seconds": .number,
        "retry_max_seconds": .number,
        "max_wait_seconds": .number,
        "allow_hosts": .list(.string),
        "robots": .bool,
        "respect_x_robots_tag": .bool,
        "user_agent_contact": .string,
        "keywords": .string,
    ])
}
