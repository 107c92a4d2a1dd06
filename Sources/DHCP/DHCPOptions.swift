import NetworkAddress

/// Option codes LiteServer reads or writes (RFC 2132, 3046, 4578, 5071; iPXE 175).
public enum DHCPOptionCode: UInt8, Sendable {
    case pad = 0
    case subnetMask = 1
    case router = 3
    case domainNameServer = 6
    case hostName = 12
    case domainName = 15
    case broadcastAddress = 28
    case vendorSpecific = 43
    case requestedAddress = 50
    case leaseTime = 51
    case overload = 52
    case messageType = 53
    case serverIdentifier = 54
    case parameterRequestList = 55
    case maximumMessageSize = 57
    case renewalTime = 58
    case rebindingTime = 59
    case vendorClass = 60
    case clientIdentifier = 61
    case tftpServerName = 66
    case bootFileName = 67
    case userClass = 77
    case relayAgentInformation = 82
    case clientArchitecture = 93
    case clientNetworkInterface = 94
    case clientMachineID = 97
    case iPXEEncapsulated = 175
    case end = 255
}

/// DHCP message types (option 53).
public enum DHCPMessageType: UInt8, Sendable, CustomStringConvertible {
    case discover = 1, offer, request, decline, ack, nak, release, inform

    public var description: String {
        switch self {
        case .discover: return "DHCPDISCOVER"
        case .offer: return "DHCPOFFER"
        case .request: return "DHCPREQUEST"
        case .decline: return "DHCPDECLINE"
        case .ack: return "DHCPACK"
        case .nak: return "DHCPNAK"
        case .release: return "DHCPRELEASE"
        case .inform: return "DHCPINFORM"
        }
    }
}

/// The options of one message in the order they came (or are to be sent). A code that appears
/// more than once is one option whose data is the concatenation (RFC 3396).
public struct DHCPOptions: Equatable, Sendable {
    public private(set) var entries: [(code: UInt8, data: [UInt8])] = []

    public init() {}

    public static func == (a: DHCPOptions, b: DHCPOptions) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.code == $1.code && $0.data == $1.data }
    }

    public subscript(code: UInt8) -> [UInt8]? {
        get { entries.first { $0.code == code }?.data }
        set {
            if let index = entries.firstIndex(where: { $0.code == code }) {
                if let newValue { entries[index].data = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((code, newValue))
            }
        }
    }

    public subscript(code: DHCPOptionCode) -> [UInt8]? {
        get { self[code.rawValue] }
        set { self[code.rawValue] = newValue }
    }

    /// Appends data for `code`, joining it to an earlier occurrence (RFC 3396).
    mutating func append(_ code: UInt8, _ data: ArraySlice<UInt8>) {
        if let index = entries.firstIndex(where: { $0.code == code }) {
            entries[index].data += data
        } else {
            entries.append((code, Array(data)))
        }
    }

    // MARK: typed views

    public var messageType: DHCPMessageType? {
        guard let data = self[.messageType], data.count == 1 else { return nil }
        return DHCPMessageType(rawValue: data[0])
    }

    public var requestedAddress: IPv4Address? { address(.requestedAddress) }
    public var serverIdentifier: IPv4Address? { address(.serverIdentifier) }

    public var parameterRequestList: [UInt8] { self[.parameterRequestList] ?? [] }

    /// Option 57, when it is a sane value (RFC 2132: at least 576).
    public var maximumMessageSize: Int? {
        guard let data = self[.maximumMessageSize], data.count == 2 else { return nil }
        let size = Int(data[0]) << 8 | Int(data[1])
        return size >= 576 ? size : nil
    }

    public var vendorClass: String? { self[.vendorClass].map { String(decoding: $0, as: UTF8.self) } }
    public var userClass: String? { self[.userClass].map { String(decoding: $0, as: UTF8.self) } }

    /// Option 93: the client's architecture types (a list of 16-bit values).
    public var clientArchitectures: [UInt16] {
        guard let data = self[.clientArchitecture], !data.isEmpty, data.count % 2 == 0 else { return [] }
        return stride(from: 0, to: data.count, by: 2).map { UInt16(data[$0]) << 8 | UInt16(data[$0 + 1]) }
    }

    func address(_ code: DHCPOptionCode) -> IPv4Address? {
        guard let data = self[code], data.count == 4 else { return nil }
        return IPv4Address(bytes: data, at: 0)
    }

    public mutating func set(_ code: DHCPOptionCode, address: IPv4Address) { self[code] = address.bytes }
    public mutating func set(_ code: DHCPOptionCode, seconds: UInt32) {
        self[code] = seconds.bigEndianBytes
    }
    public mutating func set(_ code: DHCPOptionCode, text: String) { self[code] = Array(text.utf8) }
}
