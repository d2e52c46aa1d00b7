import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// Webhook signing and configuration, without a daemon.
@Suite struct WebhookSettingsTests {
    @Test func signaturesMatchTheStandardWebhooksTestVector() throws {
        // The published Standard Webhooks vector: any receiver library must accept what we send.
        let signer = try WebhookSignature(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")
        #expect(signer.sign(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: "{\"test\": 2432232314}")
                == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func weakOrEmptySecretsAreRefused() {
        #expect(throws: DaemonError.self) { try WebhookSignature(secret: " \n") }
        #expect(throws: DaemonError.self) { try WebhookSignature(secret: "short") }
        #expect(throws: DaemonError.self) { try WebhookSignature(secret: "whsec_!!notbase64!!") }
        #expect(throws: Never.self) { try WebhookSignature(secret: "a raw key of more than sixteen bytes") }
    }

    @Test func aSecretFileNamedRelativelyIsASystemdCredential() throws {
        let dir = (TestSupport.temporaryFile("x") as NSString).deletingLastPathComponent
        try "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".write(toFile: dir + "/webhook-clinic", atomically: true, encoding: .utf8)
        let signer = try WebhookSignature.load(file: "webhook-clinic", environment: ["CREDENTIALS_DIRECTORY": dir])
        #expect(signer.sign(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: "{\"test\": 2432232314}").hasPrefix("v1,g0hM"))
        #expect {
            _ = try WebhookSignature.load(file: "webhook-missing", environment: ["CREDENTIALS_DIRECTORY": dir])
        } throws: { "\($0)".contains("cannot read the webhook secret file \(dir)/webhook-missing") }
    }

    static func parse(_ webhook: String) throws(ConfigError) -> CanaryConfiguration {
        try CanaryConfiguration.parse("[webhooks.clinic]\n" + webhook)
    }

    @Test func aWebhookIsReadWithEveryKey() throws {
        let c = try Self.parse("""
            url = "https://alerts.example.org/canary"
            secret_file = "webhook-clinic"
            timeout = "5s"
            headers = { Authorization = "Bearer x" }
            kinds = ["deviation", "composite"]
            min_severity = "warning"
            subject = "raw"
            backoff_initial = "2s"
            backoff_max = "1m"
            max_age = "6h"
            """)
        let w = try #require(c.daemon.webhooks.first)
        #expect(w.name == "clinic" && w.url.absoluteString == "https://alerts.example.org/canary" && w.timeoutSeconds == 5)
        #expect(w.headers == ["Authorization": "Bearer x"] && w.kinds == [.deviation, .composite] && w.minSeverity == .warning)
        #expect(w.subject == "raw" && w.policy == DeliveryPolicy(initialBackoff: 2, maxBackoff: 60, maxAge: 21_600))
    }

    @Test func plainHTTPOnlyToLoopbackUnlessAllowed() throws {
        #expect(throws: Never.self) { try Self.parse("url = \"http://127.0.0.1:8080/x\"\nsecret_file = \"s\"") }
        #expect(throws: Never.self) { try Self.parse("url = \"http://[::1]:8080/x\"\nsecret_file = \"s\"") }
        #expect(throws: Never.self) { try Self.parse("url = \"http://localhost/x\"\nsecret_file = \"s\"") }
        #expect {
            try Self.parse("url = \"http://alerts.example.org/x\"\nsecret_file = \"s\"")
        } throws: { ($0 as? ConfigError)?.key == "webhooks.clinic.url" && "\($0)".contains("allow_insecure") }
        #expect(throws: Never.self) { try Self.parse("url = \"http://alerts.example.org/x\"\nsecret_file = \"s\"\nallow_insecure = true") }
    }

    @Test(arguments: [
        ("http://127.0.0.1:8080/x", true), ("http://127.255.3.4/x", true), ("http://[::1]:8080/x", true),
        ("http://[0:0:0:0:0:0:0:1]/x", true), ("http://localhost/x", true), ("http://LOCALHOST:9/x", true),
        ("http://127.attacker.example/x", false), ("http://127.0.0.1.attacker.example/x", false),
        ("http://127.0.0.1@attacker.example/x", false), ("http://attacker.example/127.0.0.1", false),
        ("http://localhost.attacker.example/x", false), ("http://128.0.0.1/x", false), ("http://[::2]/x", false),
        ("http://10.0.0.1/x", false), ("http://[::ffff:8.8.8.8]/x", false),
    ])
    func onlyLoopbackHostsCountAsLoopback(url: String, loopback: Bool) {
        #expect(WebhookSettings.isLoopback(url: url) == loopback, "\(url)")
        let parsed = Result { () throws(ConfigError) in try Self.parse("url = \"\(url)\"\nsecret_file = \"s\"") }
        if loopback {
            #expect(throws: Never.self) { try parsed.get() }
        } else {
            #expect { try parsed.get() } throws: { ($0 as? ConfigError)?.key == "webhooks.clinic.url" && "\($0)".contains("loopback") }
        }
    }

    @Test func mistakesNameTheirKey() {
        let cases: [(String, String)] = [
            ("secret_file = \"s\"", "webhooks.clinic.url"),
            ("url = \"ftp://x.org/\"\nsecret_file = \"s\"", "webhooks.clinic.url"),
            ("url = \"https://x.org/\"", "webhooks.clinic.secret_file"),
            ("url = \"https://x.org/\"\nsecret_file = \"s\"\nkinds = [\"panic\"]", "webhooks.clinic.kinds"),
            ("url = \"https://x.org/\"\nsecret_file = \"s\"\nheaders = { webhook-id = \"x\" }", "webhooks.clinic.headers.webhook-id"),
            ("url = \"https://x.org/\"\nsecret_file = \"s\"\nretries = 3", "webhooks.clinic.retries"),
        ]
        for (text, key) in cases {
            #expect {
                try Self.parse(text)
            } throws: { ($0 as? ConfigError)?.key == key }
        }
    }

    @Test func retentionAndDeliveryKeys() throws {
        let c = try CanaryConfiguration.parse("[state]\nretention = \"90d\"\n[delivery]\nmax_concurrent = 2\n[daemon]\nprogress_interval = \"off\"")
        #expect(c.engine.retentionDays == 90 && c.daemon.maxConcurrentDeliveries == 2 && c.daemon.progressIntervalSeconds == nil)
        #expect(throws: ConfigError.self) { try CanaryConfiguration.parse("[state]\nretention = \"12h\"") }
    }
}
