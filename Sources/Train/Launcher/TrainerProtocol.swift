import Foundation

/// One JSON line from the trainer (`trainer/protocol.py`).
public enum TrainerEvent: Sendable, Equatable {
    case start(totalSteps: Int?)
    case step(step: Int, loss: Double?, lr: Double?, tokensPerSecond: Double?, samplesPerSecond: Double?, memoryBytes: Int?)
    case checkpoint(step: Int?, path: String)
    case eval(step: Int?, loss: Double?)
    case end(TrainerTotals)
    case error(String)
    /// A line that is not a protocol object (printed by something that escaped the trainer's stdout guard).
    case other(String)

    public static func parse(_ line: String) -> TrainerEvent? {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return nil }
        guard let o = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [String: Any],
              let event = o["event"] as? String else { return .other(trimmed) }
        func int(_ k: String) -> Int? { (o[k] as? NSNumber)?.intValue }
        func double(_ k: String) -> Double? { (o[k] as? NSNumber)?.doubleValue }
        switch event {
        case "start": return .start(totalSteps: int("total_steps") ?? int("max_steps"))
        case "step":
            return .step(step: int("step") ?? 0, loss: double("loss"), lr: double("lr"), tokensPerSecond: double("tokens_per_s"),
                         samplesPerSecond: double("samples_per_s"), memoryBytes: int("memory_bytes"))
        case "checkpoint": return .checkpoint(step: int("step"), path: o["path"] as? String ?? "")
        case "eval": return .eval(step: int("step"), loss: double("loss"))
        case "end":
            return .end(TrainerTotals(steps: int("steps") ?? 0, firstLoss: double("first_loss"), finalLoss: double("final_loss"),
                                      wallSeconds: double("wall_seconds"), peakMemoryBytes: int("peak_memory_bytes"),
                                      checkpoint: o["checkpoint"] as? String, tokens: int("tokens"), samples: int("samples")))
        case "error": return .error(o["message"] as? String ?? "(no message)")
        default: return .other(trimmed)
        }
    }
}

/// The trainer's `end` event.
public struct TrainerTotals: Sendable, Equatable {
    public var steps: Int
    public var firstLoss: Double?
    public var finalLoss: Double?
    public var wallSeconds: Double?
    public var peakMemoryBytes: Int?
    public var checkpoint: String?
    public var tokens: Int?
    public var samples: Int?
}
