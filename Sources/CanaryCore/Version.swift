public enum CanaryCoreVersion { public static let string = "0.1.0" }
