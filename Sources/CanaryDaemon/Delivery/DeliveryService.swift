import Foundation
import ServiceLifecycle

/// The dispatcher as a service: delivers from the outbox until a graceful stop reaches it, the last of
/// the daemon's services (after the engine's final commit has handed it its last alerts); then journal
/// deliveries due go out, webhook requests in flight get `finishWithin`, and the rest stays owed.
struct DeliveryService: Service {
    let dispatcher: AlertDispatcher
    /// How long webhook requests in flight may take to finish, in seconds.
    var finishWithin: TimeInterval = 2

    func run() async throws {
        let delivering = Task { await dispatcher.run() }
        try? await gracefulShutdown()
        // A round in progress finishes first (it reads alert bodies on the store's queue, so it may be
        // suspended now): nothing it started is cut short by the stop below.
        await dispatcher.endRounds()
        await delivering.value
        await dispatcher.stop(deadline: Date().addingTimeInterval(finishWithin))
        delivering.cancel()
    }
}
