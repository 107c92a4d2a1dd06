import ArgumentParser
import Foundation
import UDPCast
import UDPCastNIO

/// `ocs-cast send|receive`: udpcast-compatible multicast with udp-sender's and
/// udp-receiver's option names (including the abbreviations Clonezilla passes).
struct OCSCast: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocs-cast",
        abstract: "Send or receive a stream with the udpcast 20120424 multicast protocol.",
        subcommands: [Send.self, Receive.self])
}

/// Options both directions share.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("file"), help: "Read (send) or write (receive) this file instead of stdin/stdout.") var file: String?
    @Option(name: [.customLong("portbase"), .customLong("port")], help: "Port base P: receivers use P, the sender P+1.") var portBase: UInt16 = 9000
    @Option(name: .customLong("interface"), help: "Interface name, address or name prefix.") var interface: String?
    @Option(name: [.customLong("mcast-rdv-address"), .customLong("mcast-all-addr"), .customLong("mcast-addr")], help: "Rendezvous group (default: subnet broadcast with --ttl 1, else 224.0.0.1).") var rendezvous: String?
    @Option(name: .customLong("ttl"), help: "Multicast TTL.") var ttl: UInt8 = 1
    @Flag(name: .customLong("nokbd"), help: "Do not read the keyboard (stdin) to start.") var noKeyboard = false
    @Option(name: .customLong("log"), help: "Append log lines to this file.") var logFile: String?

    func rendezvousAddress(_ interface: CastInterface) throws -> IPv4Address {
        if let rendezvous {
            guard let address = IPv4Address(rendezvous) else { throw ValidationError("bad --mcast-rdv-address \(rendezvous)") }
            return address
        }
        if ttl == 1, let broadcast = interface.broadcast { return broadcast }
        return IPv4Address(224, 0, 0, 1)
    }

    func logger() -> (String) -> Void {
        let handle = logFile.flatMap { path -> FileHandle? in
            FileManager.default.createFile(atPath: path, contents: nil)
            let h = FileHandle(forWritingAtPath: path)
            h?.seekToEndOfFile()
            return h
        }
        return { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
            handle?.write(Data((line + "\n").utf8))
        }
    }
}

func seconds(_ value: Double?) -> Nanoseconds? { value.map { .seconds($0) } }

func mb(_ bytes: UInt64, _ seconds: Double) -> String { String(format: "%.1f MB/s", seconds > 0 ? Double(bytes) / seconds / 1e6 : 0) }

/// Parses `--fec [S x]R[/Z]`; `--fec 8` means 8x8/128.
func parseFEC(_ spec: String) throws -> (stripes: Int, redundancy: Int, stripeSize: Int) {
    var text = Substring(spec)
    var stripeSize = 128
    if let slash = text.firstIndex(of: "/") {
        guard let z = Int(text[text.index(after: slash)...]) else { throw ValidationError("bad --fec \(spec)") }
        stripeSize = z
        text = text[..<slash]
    }
    let parts = text.split(separator: "x")
    guard (1...2).contains(parts.count), let last = Int(parts.last!) else { throw ValidationError("bad --fec \(spec)") }
    let stripes = parts.count == 2 ? Int(parts[0]) : 8
    guard let stripes else { throw ValidationError("bad --fec \(spec)") }
    return (stripes, last, stripeSize)
}

/// `10m`, `400k`, `1000000`: bits per second.
func parseBitrate(_ text: String) throws -> UInt64 {
    let lower = text.lowercased()
    let (digits, scale): (Substring, Double) = lower.hasSuffix("m") ? (lower.dropLast(), 1e6) : lower.hasSuffix("k") ? (lower.dropLast(), 1e3) : (Substring(lower), 1)
    guard let value = Double(digits), value > 0 else { throw ValidationError("bad --max-bitrate \(text)") }
    return UInt64(value * scale)
}

/// Without --nokbd a line (or EOF) on stdin counts as the start key, as in udpcast.
func watchKeyboard(_ pressed: @escaping () -> Void) {
    Thread {
        _ = readLine()
        pressed()
    }.start()
}

struct Send: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send stdin (or --file) to the receivers (udp-sender).")
    @OptionGroup var common: CommonOptions
    @Option(name: .customLong("mcast-data-address"), help: "Data group (default: 232.x.y.z derived from the sender's address).") var dataAddress: String?
    @Flag(name: .customLong("broadcast"), help: "Send data to the rendezvous address.") var broadcast = false
    @Flag(name: .customLong("pointopoint"), help: "Accept one receiver only and send to it by unicast.") var pointToPoint = false
    @Flag(name: .customLong("nopointopoint"), help: "Never switch to unicast with a single receiver.") var noPointToPoint = false
    @Flag(name: [.customLong("half-duplex")], help: "Send the next slice only after the previous one is acknowledged.") var halfDuplex = false
    @Flag(name: [.customLong("full-duplex")], help: "Keep two slices in flight (the default).") var fullDuplex = false
    @Option(name: .customLong("blocksize"), help: "Block size in bytes (max 1456 for MTU 1500).") var blockSize = 1456
    @Option(name: [.customLong("slice-size"), .customLong("default-slice-size")], help: "Initial slice size in blocks.") var sliceSize: Int?
    @Option(name: .customLong("min-slice-size")) var minSliceSize = 32
    @Option(name: .customLong("max-slice-size")) var maxSliceSize = 1024
    @Option(name: .customLong("fec"), help: "Forward error correction [S x]R[/Z].") var fec: String?
    @Flag(name: .customLong("async"), help: "No return channel (needs --max-bitrate).") var async = false
    @Option(name: .customLong("max-bitrate"), help: "Rate limit in bit/s (suffix k or m).") var maxBitrate: String?
    @Option(name: .customLong("retries-until-drop"), help: "REQACK rounds before a silent receiver is dropped.") var retriesUntilDrop = 200
    @Option(name: .customLong("rexmit-hello-interval"), help: "Repeat HELLO every N ms during rendezvous (0: never; default 1000).") var helloInterval: UInt64 = 1000
    @Option(name: [.customLong("min-receivers"), .customLong("min-clients")], help: "Start once this many receivers are connected.") var minReceivers: Int?
    @Option(name: .customLong("min-wait"), help: "Wait at least this many seconds after the first connection.") var minWait: Double?
    @Option(name: .customLong("max-wait"), help: "Start at most this many seconds after the first connection.") var maxWait: Double?
    @Option(name: .customLong("start-timeout"), help: "Give up after this many seconds without any receiver (exit 0).") var startTimeout: Double?
    @Option(name: .customLong("autostart"), help: "Start after this many repeated HELLOs.") var autostart: Int?
    @Option(name: .customLong("sendbuf"), help: "Socket send buffer in bytes.") var sendBuffer = 4 << 20

    func run() throws {
        let log = common.logger()
        let interface: CastInterface
        do { interface = try CastInterface.resolve(common.interface) } catch { log("ocs-cast send: \(error)"); throw ExitCode(1) }
        var config = SenderConfiguration(ownAddress: interface.address, rendezvous: try common.rendezvousAddress(interface))
        config.portBase = common.portBase
        if let dataAddress {
            guard let address = IPv4Address(dataAddress) else { throw ValidationError("bad --mcast-data-address \(dataAddress)") }
            config.dataGroup = address
        }
        config.broadcastData = broadcast
        config.pointToPoint = pointToPoint ? .forced : noPointToPoint ? .never : .automatic
        config.duplex = halfDuplex && !fullDuplex ? .half : .full
        config.blockSize = blockSize / 4 * 4
        config.sliceSize = sliceSize
        config.minSliceSize = minSliceSize
        config.maxSliceSize = min(maxSliceSize, 1024)
        config.fec = try fec.map(parseFEC)
        config.async = async
        config.maxBitrate = try maxBitrate.map(parseBitrate)
        config.retriesUntilDrop = retriesUntilDrop
        config.helloInterval = helloInterval == 0 ? nil : .milliseconds(helloInterval)
        config.minReceivers = minReceivers
        config.minWait = seconds(minWait)
        config.maxWait = seconds(maxWait)
        config.startTimeout = seconds(startTimeout)
        config.autostart = autostart
        if !config.hasStartRule && common.noKeyboard && autostart == nil {
            log("ocs-cast send: no start rule (--min-receivers, --min-wait, --max-wait): waiting for a receiver's GO")
        }
        let fd: Int32
        if let file = common.file {
            fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { log("ocs-cast send: cannot open \(file): \(String(cString: strerror(errno)))"); throw ExitCode(1) }
        } else {
            fd = STDIN_FILENO
        }
        log("ocs-cast send (udpcast 20120424 protocol) for \(common.file ?? "(stdin)") at \(interface.address) on \(interface.name)")
        log("Using \(config.duplex == .full ? "full" : "half") duplex mode, data to \(broadcast ? config.rendezvous : config.dataGroup ?? interface.address.derivedDataGroup), rendezvous \(config.rendezvous):\(config.portBase)")
        let driver: SenderDriver
        do {
            driver = try SenderDriver(configuration: config, interface: interface, inputFD: fd, ttl: common.ttl,
                                      sendBuffer: sendBuffer, log: log)
        } catch {
            log("ocs-cast send: \(error)")
            throw ExitCode(1)
        }
        if !common.noKeyboard && common.file != nil { watchKeyboard { driver.keyPressed() } }
        do {
            let report = try driver.run()
            let total = max(report.blocksSent, 1)
            // Swift strings go in by concatenation: Foundation's `%@` takes an object on Linux.
            log(String(format: "bytes=%llu re-xmits=%llu (%.1f%%) in %.2f s, ", report.bytes, report.blocksResent,
                       Double(report.blocksResent) * 100 / Double(total), report.seconds) + mb(report.bytes, report.seconds))
            for endpoint in report.dropped { log("Dropped \(endpoint.address) (no answer after \(retriesUntilDrop) rounds)") }
            switch report.outcome {
            case .complete: log("Transfer complete.")
            case .noParticipants: log("No participants... exiting.")
            case .allReceiversGone: log("All receivers left or were dropped.")
            }
        } catch {
            log("ocs-cast send: \(error)")
            throw ExitCode(1)
        }
    }
}

struct Receive: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Receive a stream to stdout (or --file) (udp-receiver).")
    @OptionGroup var common: CommonOptions
    @Option(name: .customLong("start-timeout"), help: "Fail (status 255 without a sender, 1 without data) after this many seconds.") var startTimeout: Double?
    @Option(name: .customLong("receive-timeout"), help: "Fail after this many seconds without data once it flows.") var receiveTimeout: Double?
    @Option(name: .customLong("exit-wait"), help: "Keep answering this many ms after the end.") var exitWait: UInt64 = 500
    @Flag(name: .customLong("passive"), help: "Never ask to connect; just listen.") var passive = false
    @Option(name: .customLong("rcvbuf"), help: "Socket receive buffer in bytes.") var receiveBuffer = 32 << 20

    func run() throws {
        let log = common.logger()
        let interface: CastInterface
        do { interface = try CastInterface.resolve(common.interface) } catch { log("ocs-cast receive: \(error)"); throw ExitCode(1) }
        var config = ReceiverStateMachine.Configuration(rendezvous: try common.rendezvousAddress(interface), ownAddress: interface.address)
        config.portBase = common.portBase
        config.passive = passive
        config.exitWait = .milliseconds(exitWait)
        config.startTimeout = seconds(startTimeout)
        config.receiveTimeout = seconds(receiveTimeout)
        let fd: Int32
        if let file = common.file {
            fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { log("ocs-cast receive: cannot open \(file): \(String(cString: strerror(errno)))"); throw ExitCode(1) }
        } else {
            fd = STDOUT_FILENO
        }
        log("ocs-cast receive (udpcast 20120424 protocol) for \(common.file ?? "(stdout)") at \(interface.address) on \(interface.name)")
        let driver = ReceiverDriver(configuration: config, interface: interface, outputFD: fd, receiveBuffer: receiveBuffer, log: log)
        if !common.noKeyboard { watchKeyboard { driver.keyPressed() } }
        do {
            let report = try driver.run()
            log(String(format: "bytes=%llu in %.2f s, ", report.bytes, report.seconds) + mb(report.bytes, report.seconds))
            log("Transfer complete.")
        } catch let error as ReceiverDriver.Failure {
            log("ocs-cast receive: \(error)")
            throw ExitCode(error.exitStatus)
        } catch {
            log("ocs-cast receive: \(error)")
            throw ExitCode(1)
        }
    }
}

OCSCast.main()
