import ClonezillaImage
import Foundation

/// Why a restore stopped. Every case names the file, partition or device involved.
public enum RestoreError: Error, CustomStringConvertible, Sendable {
    case image(ImageError)
    case payload(partition: String, chunk: String, detail: String)
    case targetTooSmall(target: String, neededBytes: UInt64, actualBytes: UInt64, reason: String)
    case target(path: String, reason: String)
    case io(path: String, operation: String, errno: Int32)
    case tool(name: String, status: Int32, output: String)
    case streamMismatch(partition: String, reason: String)
    case usage(String)
    case cancelled

    public var description: String {
        switch self {
        case .image(let e): return e.description
        case .payload(let partition, let chunk, let detail):
            return "partition \(partition), chunk file \(chunk): \(detail)"
        case .targetTooSmall(let target, let needed, let actual, let reason):
            return "\(target) is too small: \(reason) needs \(needed) bytes, the target has \(actual)"
        case .target(let path, let reason):
            return "\(path): \(reason)"
        case .io(let path, let operation, let code):
            return "\(path): \(operation) failed: \(String(cString: strerror(code)))"
        case .tool(let name, let status, let output):
            return "\(name) failed (exit \(status))" + (output.isEmpty ? "" : ": \(output)")
        case .streamMismatch(let partition, let reason):
            return "partition \(partition): \(reason); nothing was written to it"
        case .usage(let message):
            return message
        case .cancelled:
            return "cancelled"
        }
    }
}
