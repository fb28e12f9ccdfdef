/// The version of dsbuild, used in the User-Agent, the shard index and the run records.
public enum DSBuildVersion {
    public static let string = "0.1.0"
}
