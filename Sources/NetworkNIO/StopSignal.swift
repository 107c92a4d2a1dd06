import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// How a long-running service command ends: SIGINT or SIGTERM (a clean stop that saves state),
/// or an optional time limit.
public enum StopSignal {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    /// Blocks until SIGINT or SIGTERM, or until `seconds` have passed.
    public static func wait(seconds: Double?) {
        let stop = DispatchSemaphore(value: 0)
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig)
            source.setEventHandler { stop.signal() }
            source.resume()
            sources.append(source)
        }
        if let seconds { _ = stop.wait(timeout: .now() + seconds) } else { stop.wait() }
    }
}
