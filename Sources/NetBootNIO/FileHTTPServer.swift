import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NetworkNIO
import TFTP

/// Read-only HTTP for the lab: the job files (`/ocs-client-run.conf`, `/img-wo-fs.tar.xz`) and
/// the netboot tree (`fetch=http://…/Clonezilla-live-filesystem.squashfs`, HTTP boot). GET and
/// HEAD with Content-Length and single byte ranges; file bodies go out with sendfile; names are
/// confined exactly as TFTP confines them (no `..`, no control characters, symlinks only into
/// the roots). Anything not there is 404: a withdrawn job is simply absent.
public final class FileHTTPServer: @unchecked Sendable {
    /// A response made by the owner (the feeder's status page and controls) instead of a file.
    public struct Page: Sendable {
        public var status: Int
        public var contentType: String
        public var body: [UInt8]
        public init(status: Int = 200, contentType: String, body: [UInt8]) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    /// Asked first for every request (method, path without the query, peer address); nil
    /// falls through to the files.
    public typealias Pages = @Sendable (_ method: String, _ path: String, _ peer: String) -> Page?
    /// Told about every file served (peer address, path, status code), for the status page.
    public typealias Served = @Sendable (_ peer: String, _ path: String, _ status: Int) -> Void

    public let files: ConfinedFiles
    public var pages: Pages?
    public var served: Served?
    private let group: EventLoopGroup
    private let log: ServiceLog
    private var channel: Channel?

    public init(files: ConfinedFiles, group: EventLoopGroup, log: @escaping ServiceLog) {
        self.files = files
        self.group = group
        self.log = log
    }

    /// Binds `address:port` (port 0 picks one); returns the bound port.
    @discardableResult
    public func start(address: IPv4Address, port: UInt16) throws -> UInt16 {
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [unowned self] channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(FileHTTPHandler(server: self))
                }
            }
            .bind(to: address.socketAddress(port: port)).wait()
        self.channel = channel
        let bound = UInt16(channel.localAddress?.port ?? Int(port))
        log("http: serving \(files.root) on \(address):\(bound)")
        return bound
    }

    public func stop() {
        try? channel?.close().wait()
        channel = nil
    }

    enum Answer {
        case file(ConfinedFiles.OpenFile, range: ClosedRange<UInt64>?)
        case status(HTTPResponseStatus, String)
        case page(Page)
    }

    /// What a request gets; pure apart from opening the file.
    func answer(method: HTTPMethod, uri: String, rangeHeader: String?, peer: String = "") -> Answer {
        let path = Self.percentDecoded(String(uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]))
        guard let path else { return .status(.badRequest, "bad percent-encoding") }
        if let page = pages?(method.rawValue, path, peer) { return .page(page) }
        guard method == .GET || method == .HEAD else { return .status(.methodNotAllowed, "only GET and HEAD") }
        let relative: String
        switch TFTPRequestPath.normalise(path, rootPath: "") {
        case .success(let name): relative = name
        case .failure(.empty): return .status(.notFound, "not found")
        case .failure: return .status(.forbidden, "forbidden")
        }
        switch files.open(relative) {
        case .failure(.notFound), .failure(.notRegularFile): return .status(.notFound, "not found")
        case .failure: return .status(.forbidden, "forbidden")
        case .success(let file):
            guard let rangeHeader else { return .file(file, range: nil) }
            guard let range = Self.byteRange(rangeHeader, size: file.size) else {
                close(file.descriptor)
                return .status(.rangeNotSatisfiable, "range not satisfiable")
            }
            return .file(file, range: range)
        }
    }

    /// `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range; several ranges are not supported).
    static func byteRange(_ header: String, size: UInt64) -> ClosedRange<UInt64>? {
        guard header.hasPrefix("bytes="), !header.contains(","), size > 0 else { return nil }
        let spec = header.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard spec.count == 2 else { return nil }
        if spec[0].isEmpty {
            guard let suffix = UInt64(spec[1]), suffix > 0 else { return nil }
            return (size - min(suffix, size))...(size - 1)
        }
        guard let start = UInt64(spec[0]), start < size else { return nil }
        let end = spec[1].isEmpty ? size - 1 : (UInt64(spec[1]).map { min($0, size - 1) } ?? UInt64.max)
        return end >= start && end != UInt64.max ? start...end : nil
    }

    static func percentDecoded(_ text: String) -> String? {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    fileprivate func logRequest(_ line: String) { log(line) }
}

private final class FileHTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: FileHTTPServer
    var head: HTTPRequestHead?

    init(server: FileHTTPServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request): head = request
        case .body: break
        case .end:
            guard let request = head else { return }
            head = nil
            respond(to: request, context: context)
        }
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let peer = context.remoteAddress?.ipv4.map { "\($0.address)" } ?? "?"
        var headers = HTTPHeaders()
        headers.add(name: "Server", value: "LiteServer")
        headers.add(name: "Accept-Ranges", value: "bytes")
        let keepAlive = request.isKeepAlive
        switch server.answer(method: request.method, uri: request.uri, rangeHeader: request.headers.first(name: "Range"), peer: peer) {
        case .page(let page):
            headers.add(name: "Content-Type", value: page.contentType)
            headers.add(name: "Content-Length", value: String(page.body.count))
            headers.add(name: "Cache-Control", value: "no-store")
            let status = HTTPResponseStatus(statusCode: page.status)
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
            if request.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: page.body)))), promise: nil) }
            finish(context, keepAlive: keepAlive)
        case .status(let status, let text):
            let body = Array((text + "\n").utf8)
            headers.add(name: "Content-Type", value: "text/plain")
            headers.add(name: "Content-Length", value: String(body.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
            if request.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil) }
            finish(context, keepAlive: keepAlive)
            server.logRequest("http: \(peer) \(request.method) \(request.uri) -> \(status.code)")
        case .file(let file, let range):
            let span = range ?? 0...(max(file.size, 1) - 1)
            let length = file.size == 0 ? 0 : span.upperBound - span.lowerBound + 1
            headers.add(name: "Content-Length", value: String(length))
            headers.add(name: "Content-Type", value: "application/octet-stream")
            if let range { headers.add(name: "Content-Range", value: "bytes \(range.lowerBound)-\(range.upperBound)/\(file.size)") }
            let status: HTTPResponseStatus = range == nil ? .ok : .partialContent
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
            let handle = NIOFileHandle(descriptor: file.descriptor)
            if request.method != .HEAD, length > 0 {
                let region = FileRegion(fileHandle: handle, readerIndex: Int(span.lowerBound), endIndex: Int(span.lowerBound + length))
                context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                try? handle.close()
                if !keepAlive { context.close(promise: nil) }
            }
            server.logRequest("http: \(peer) \(request.method) \(request.uri) -> \(status.code) \(length) bytes")
            server.served?(peer, request.uri, Int(status.code))
        }
    }

    private func finish(_ context: ChannelHandlerContext, keepAlive: Bool) {
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}
