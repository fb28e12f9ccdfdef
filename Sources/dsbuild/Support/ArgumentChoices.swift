import ArgumentParser
import Dataset
import Imaging
import Train

// Options with a fixed set of values parse straight into the modules' enums: the values, the error for a
// wrong one and the help's list of choices all come from the enum's cases.

extension ShardSettings.Compression: ExpressibleByArgument {}
extension ParquetMode: ExpressibleByArgument {}
extension ShardsSection.Resize: ExpressibleByArgument {}
extension PublishSection.Layout: ExpressibleByArgument {}

extension ImageOutputFormat: ExpressibleByArgument {
    /// `jpg` is read as `jpeg`.
    public init?(argument: String) {
        self.init(rawValue: argument == "jpg" ? "jpeg" : argument)
    }
}
extension TrainSection.Device: ExpressibleByArgument {}
extension EvalCondition: ExpressibleByArgument {}
extension QuestionFileFormat: ExpressibleByArgument {}
