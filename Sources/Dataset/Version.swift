public enum DSBuildVersion { public static let string = "0.1.0" }
