/// The journald MESSAGE_IDs canaryd uses; `systemd/canary.catalog` explains each one.
public enum MessageID {
    public static let deviation = "b3d8641cbb65402097d08718603c3a47"
    public static let composite = "b0599c2abf864777aaff121630fcdb25"
    public static let gap = "d66265c6a9e3442eb8a4945a0e0eccf3"
    public static let resolved = "e93e9d1854be4cad8d8b0653816d24d6"
    /// An ingest peer was refused by the allow-list.
    public static let unauthorized = "d241ece3197847b9b670b1de823f69a0"
    /// An ingest connection reached a bound (connections, subjects, metrics, idle timeout).
    public static let ingestLimit = "e657ca19ef86457d9669e99e6fcf7eb2"
    /// A reload found an invalid configuration and kept the old one.
    public static let reloadRefused = "9d51297879b64de681b4f9f1b0ff9c41"
    /// A consent grant, revocation, expiry or erasure.
    public static let consentAudit = "1e9e6cb1a75a49aca040ea8da100fd65"
    /// An alert's delivery to a channel was given up and moved to the dead letters.
    public static let deliveryDead = "5c0e6a0f2f8b4d7c9a51e3b6d2c47f18"
}
