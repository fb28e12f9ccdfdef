import Dataset

/// Drops images whose shorter display side is below a minimum (VLV default 512).
public struct MinShortSideRule: FilterRule {
    public let name = "min_short_side"
    public let minimum: Int
    public init(minimum: Int) { self.minimum = minimum }
    public var settingsDescription: String { "\(minimum)" }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        let short = min(s.probe.displayWidth, s.probe.displayHeight)
        return short >= minimum
            ? .keep("\(short)", "\(minimum)", "short_side \(short) >= \(minimum)")
            : .drop("\(short)", "\(minimum)", "short_side \(short) < \(minimum)")
    }
}

/// Drops images whose longer display side is above a maximum.
public struct MaxLongSideRule: FilterRule {
    public let name = "max_long_side"
    public let maximum: Int
    public init(maximum: Int) { self.maximum = maximum }
    public var settingsDescription: String { "\(maximum)" }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        let long = max(s.probe.displayWidth, s.probe.displayHeight)
        return long <= maximum
            ? .keep("\(long)", "\(maximum)", "long_side \(long) <= \(maximum)")
            : .drop("\(long)", "\(maximum)", "long_side \(long) > \(maximum)")
    }
}

/// Drops images with fewer or more pixels than allowed.
public struct PixelCountRule: FilterRule {
    public let name = "pixels"
    public let minimum: Int?
    public let maximum: Int?
    public init(minimum: Int?, maximum: Int?) { self.minimum = minimum; self.maximum = maximum }
    public var settingsDescription: String { "\(minimum ?? -1)-\(maximum ?? -1)" }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        let pixels = s.probe.width * s.probe.height
        let range = "\(minimum.map(String.init) ?? "0")..\(maximum.map(String.init) ?? "∞")"
        if let minimum, pixels < minimum { return .drop("\(pixels)", range, "pixels \(pixels) < \(minimum)") }
        if let maximum, pixels > maximum { return .drop("\(pixels)", range, "pixels \(pixels) > \(maximum)") }
        return .keep("\(pixels)", range, "pixels \(pixels) in \(range)")
    }
}

/// Drops images whose display aspect ratio (width / height) is outside a range (VLV default 0.5–2.0).
public struct AspectRatioRule: FilterRule {
    public let name = "aspect_ratio"
    public let minimum: Double
    public let maximum: Double
    public init(minimum: Double, maximum: Double) { self.minimum = minimum; self.maximum = maximum }
    public var settingsDescription: String { "\(minimum)-\(maximum)" }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        guard s.probe.displayHeight > 0 else { return .drop("undefined", "\(minimum)-\(maximum)", "height is 0") }
        let ratio = Double(s.probe.displayWidth) / Double(s.probe.displayHeight)
        let shown = String(format: "%.3f", ratio)
        let range = "\(formatNumber(minimum))-\(formatNumber(maximum))"
        if ratio < minimum { return .drop(shown, range, "aspect_ratio \(shown) < \(formatNumber(minimum))") }
        if ratio > maximum { return .drop(shown, range, "aspect_ratio \(shown) > \(formatNumber(maximum))") }
        return .keep(shown, range, "aspect_ratio \(shown) in \(range)")
    }
}

/// Drops files outside a byte-size range.
public struct ByteSizeRule: FilterRule {
    public let name = "bytes"
    public let minimum: Int?
    public let maximum: Int?
    public init(minimum: Int?, maximum: Int?) { self.minimum = minimum; self.maximum = maximum }
    public var settingsDescription: String { "\(minimum ?? -1)-\(maximum ?? -1)" }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        let range = "\(minimum.map(String.init) ?? "0")..\(maximum.map(String.init) ?? "∞")"
        if let minimum, s.bytes < minimum { return .drop("\(s.bytes)", range, "bytes \(s.bytes) < \(minimum)") }
        if let maximum, s.bytes > maximum { return .drop("\(s.bytes)", range, "bytes \(s.bytes) > \(maximum)") }
        return .keep("\(s.bytes)", range, "bytes \(s.bytes) in \(range)")
    }
}

/// Keeps only the listed formats.
public struct FormatRule: FilterRule {
    public let name = "formats"
    public let allowed: [String]
    public init(allowed: [String]) { self.allowed = allowed.map { $0.lowercased() == "jpg" ? "jpeg" : $0.lowercased() }.sorted() }
    public var settingsDescription: String { allowed.joined(separator: ",") }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        let list = allowed.joined(separator: ",")
        return allowed.contains(s.probe.format)
            ? .keep(s.probe.format, list, "format \(s.probe.format) allowed")
            : .drop(s.probe.format, list, "format \(s.probe.format) not in \(list)")
    }
}

/// Drops animated images (GIF, APNG, animated WebP) unless told to keep them.
public struct AnimatedRule: FilterRule {
    public let name = "animated"
    public init() {}
    public var settingsDescription: String { "drop" }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        let frames = s.probe.frames.map { " (\($0) frames)" } ?? ""
        return s.probe.animated
            ? .drop("animated", "still", "animated \(s.probe.format)\(frames)")
            : .keep("still", "still", "not animated")
    }
}
