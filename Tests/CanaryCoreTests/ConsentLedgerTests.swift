import Testing
@testable import CanaryCore

@Suite("Consent ledger")
struct ConsentLedgerTests {
    static func grant(_ subject: String, _ scope: ConsentScope, at: Double = 100, expires: Double? = nil) -> ConsentGrant {
        ConsentGrant(subject: subject, scope: scope, reference: "form-1", recordedBy: "dr-a", grantedAt: at, expiresAt: expires)
    }

    @Test func defaultDeny() {
        let ledger = ConsentLedger()
        #expect(!ledger.allows("s1", .monitor, at: 1000))
        #expect(!ledger.allows("s1", .alertJournal, at: 1000))
    }

    @Test func eachScopeAndEachWebhookSeparately() {
        let ledger = ConsentLedger([Self.grant("s1", .monitor), Self.grant("s1", .alertWebhook("clinic"))])
        #expect(ledger.allows("s1", .monitor, at: 1000))
        #expect(!ledger.allows("s1", .alertJournal, at: 1000))
        #expect(ledger.allows("s1", .alertWebhook("clinic"), at: 1000))
        #expect(!ledger.allows("s1", .alertWebhook("research"), at: 1000))
        #expect(!ledger.allows("s2", .monitor, at: 1000))
    }

    @Test func expiryIsHonouredAtTheMomentOfTheQuestion() {
        var ledger = ConsentLedger([Self.grant("s1", .monitor, expires: 500)])
        #expect(ledger.allows("s1", .monitor, at: 499))
        #expect(!ledger.allows("s1", .monitor, at: 500))
        #expect(!ledger.allows("s1", .monitor, at: 99), "not before it was granted")
        let expired = ledger.expire(at: 600)
        #expect(expired.map(\.subject) == ["s1"])
        #expect(ledger.grants(of: "s1").isEmpty)
        #expect(ledger.expire(at: 700).isEmpty, "an expiry is reported once")
    }

    @Test func revokeRemovesScopesOrEverything() {
        var ledger = ConsentLedger([Self.grant("s1", .monitor), Self.grant("s1", .alertJournal)])
        #expect(ledger.revoke("s1", scopes: [.alertJournal]).map(\.scope) == [.alertJournal])
        #expect(ledger.allows("s1", .monitor, at: 1000))
        #expect(ledger.revoke("s1").map(\.scope) == [.monitor])
        #expect(ledger.subjects.isEmpty)
    }

    @Test(arguments: ["monitor", "alert:journal", "alert:webhook:clinic-1"])
    func scopesRoundTrip(_ text: String) throws {
        #expect(try #require(ConsentScope(text)).description == text)
    }

    @Test(arguments: ["", "alert", "alert:webhook:", "alert:webhook:a b", "monitoring"])
    func unknownScopesAreRefused(_ text: String) {
        #expect(ConsentScope(text) == nil)
    }
}
