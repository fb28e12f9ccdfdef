import Logging

/// A `LogHandler` that passes every message and metadata value through `SecretRedactor` before the wrapped
/// handler writes it: no log line carries a key, whatever the code that logs puts in it.
public struct RedactingLogHandler: LogHandler {
    public var wrapped: any LogHandler

    public init(wrapping handler: any LogHandler) {
        wrapped = handler
    }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }

    public func log(event: LogEvent) {
        var clean = event
        clean.message = "\(SecretRedactor.redact(event.message.description))"
        clean.metadata = event.metadata?.mapValues(Self.redact)
        if let error = event.error {
            clean.error = RedactedError(description: SecretRedactor.redact(String(describing: error)))
        }
        wrapped.log(event: clean)
    }

    static func redact(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): return .string(SecretRedactor.redact(text))
        case .stringConvertible(let thing): return .string(SecretRedactor.redact(thing.description))
        case .array(let items): return .array(items.map(redact))
        case .dictionary(let entries): return .dictionary(entries.mapValues(redact))
        }
    }
}

/// An error's description, redacted, standing in for the error in a log event.
struct RedactedError: Error, CustomStringConvertible {
    let description: String
}
