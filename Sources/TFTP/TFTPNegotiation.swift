/// What a server grants for a read request's options (RFC 2347-2349, 7440). The OACK lists
/// only the granted options, in the client's order and spelling; no granted option means DATA 1
/// follows the request at once.
public struct TFTPNegotiation: Equatable, Sendable {
    public static let defaultBlockSize = 512
    public static let largestBlockSize = 65_464

    public private(set) var blockSize = TFTPNegotiation.defaultBlockSize
    /// Retransmission timeout in seconds the client asked for (1-255), if granted.
    public private(set) var timeout: Int?
    public private(set) var windowSize = 1
    public private(set) var granted: [TFTPOption] = []

    /// `pathMTU`: the egress interface's MTU, read for this request (a block must fit one
    /// datagram: MTU − 20 IP − 8 UDP − 4 TFTP). `maximumWindow` caps `windowsize`.
    public init(requested: [TFTPOption], fileSize: UInt64, pathMTU: Int, maximumWindow: Int = 16) {
        var seen: Set<String> = []
        for option in requested {
            let name = option.name.lowercased()
            guard seen.insert(name).inserted else { continue }
            let value = !option.value.isEmpty && option.value.allSatisfy({ $0 >= "0" && $0 <= "9" }) ? Int(option.value) : nil
            switch name {
            case "blksize":
                guard let value, value >= 8 else { continue }
                blockSize = min(value, Self.largestBlockSize, max(8, pathMTU - 32))
                granted.append(TFTPOption(name: option.name, value: String(blockSize)))
            case "timeout":
                guard let value, (1...255).contains(value) else { continue }
                timeout = value
                granted.append(option)
            case "tsize":
                // Any value (atftp sends "enable"): the answer is the file's size.
                granted.append(TFTPOption(name: option.name, value: String(fileSize)))
            case "windowsize":
                guard let value, (1...65_535).contains(value), maximumWindow >= 1 else { continue }
                windowSize = min(value, maximumWindow)
                granted.append(TFTPOption(name: option.name, value: String(windowSize)))
            default:
                continue
            }
        }
    }
}
