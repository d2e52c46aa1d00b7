/// The journald MESSAGE_IDs canaryd uses; `systemd/canary.catalog` explains each one.
public enum MessageID {
    public static let deviation = "4e1b1c3e0f7a4d6b9a52c7f0d3e8a101"
    public static let composite = "4e1b1c3e0f7a4d6b9a52c7f0d3e8a102"
    public static let gap = "4e1b1c3e0f7a4d6b9a52c7f0d3e8a103"
    public static let resolved = "4e1b1c3e0f7a4d6b9a52c7f0d3e8a104"
    /// An ingest peer was refused by the allow-list.
    public static let unauthorized = "4e1b1c3e0f7a4d6b9a52c7f0d3e8a105"
    /// A reload found an invalid configuration and kept the old one.
    public static let reloadRefused = "4e1b1c3e0f7a4d6b9a52c7f0d3e8a106"
}
