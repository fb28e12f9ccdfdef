import Dataset

/// How a registered source's declarations become keys of the `collect:` section: `sources.<name>.enabled`, the
/// API keys when it has an API (`SourceAPISettings`), then its own options, all lifted under `sources.<name>`.
extension RegisteredSource {
    static var collectKeys: [SettingKey<CollectSettings>] {
        let name = sourceName, prefix = "sources.\(sourceName)"
        let enabled = SettingKey<CollectSettings>.custom(
            "\(prefix).enabled", .bool,
            help: "search this source; naming it under sources turns it on (none named: commons alone)",
            apply: { s, v in if v.boolValue == false { s.switchedOff.insert(name) } else { s.switchedOff.remove(name) } },
            render: { .bool($0.sources.contains(name)) })
        var keys = [enabled]
        if api != nil {
            keys += SourceAPISettings.keys.map { $0.lifted(into: \CollectSettings.[api: name], under: prefix) }
        }
        let options: WritableKeyPath<CollectSettings, Options> = \CollectSettings.[options: name]
        keys += Options.keys.map { $0.lifted(into: options, under: prefix) }
        return keys
    }

    /// The source's options with their defaults.
    static func defaultOptions() -> any SourceOptions { Options() }
}
