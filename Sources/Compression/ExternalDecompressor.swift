#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Formats without an in-process decoder run through their command-line tool. Input is
/// written to the tool's stdin and output read from its stdout in one poll loop, so neither
/// side can deadlock and nothing is buffered beyond one read.
public final class ExternalDecompressor: StreamDecompressor {
    private let format: CompressionFormat
    private let tool: String
    private var pid: pid_t = 0
    private var stdinFd: Int32 = -1
    private var stdoutFd: Int32 = -1
    private var stderrFd: Int32 = -1
    private var outBuffer = [UInt8](repeating: 0, count: 1 << 20)
    private var stderrText: [UInt8] = []

    public init(format: CompressionFormat, command: [String], package: String) throws(CompressionError) {
        self.format = format
        tool = command[0]
        // A tool that dies early must surface as an error, not kill us through SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        guard let path = ExecutableLookup.find(tool) else {
            throw .toolMissing(tool: tool, format: format, package: package)
        }
        try spawn(path: path, arguments: command)
    }

    deinit {
        for fd in [stdinFd, stdoutFd, stderrFd] where fd >= 0 { close(fd) }
        if pid > 0 {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    private func spawn(path: String, arguments: [String]) throws(CompressionError) {
        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
            throw .resource("cannot create pipes for \(tool): \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in inPipe + outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, path, &actions, nil, argv, environ)
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        stdinFd = inPipe[1]; stdoutFd = outPipe[0]; stderrFd = errPipe[0]
        guard status == 0 else { throw .resource("cannot start \(tool): \(String(cString: strerror(status)))") }
        pid = child
        for fd in [stdinFd, stdoutFd, stderrFd] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        _ = fcntl(stdinFd, F_SETFD, FD_CLOEXEC); _ = fcntl(stdoutFd, F_SETFD, FD_CLOEXEC); _ = fcntl(stderrFd, F_SETFD, FD_CLOEXEC)
    }

    public func decompress(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws {
        var offset = 0
        while offset < input.count {
            try pump(output: output, writable: {
                let n = write(self.stdinFd, input.baseAddress! + offset, input.count - offset)
                if n > 0 { offset += n } else if n < 0 && errno != EAGAIN && errno != EINTR {
                    throw CompressionError.toolFailed(tool: self.tool, status: -1, message: "it stopped reading its input: \(self.stderrSummary)")
                }
            })
        }
    }

    public func finish(output: (UnsafeRawBufferPointer) throws -> Void) throws {
        close(stdinFd)
        stdinFd = -1
        while stdoutFd >= 0 { try pump(output: output, writable: nil) }
        while stderrFd >= 0 { drainStderr() }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        pid = 0
        let exited = status & 0x7F == 0
        let code = exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        guard code == 0 else { throw CompressionError.toolFailed(tool: tool, status: code, message: stderrSummary) }
    }

    private var stderrSummary: String {
        String(decoding: stderrText.suffix(400), as: UTF8.self).trimmingTrailingNewlines
    }

    /// One poll round: reads whatever output is ready and calls `writable` when stdin can take data.
    private func pump(output: (UnsafeRawBufferPointer) throws -> Void, writable: (() throws -> Void)?) throws {
        var fds = [pollfd(fd: stdoutFd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: stderrFd, events: Int16(POLLIN), revents: 0)]
        if writable != nil { fds.append(pollfd(fd: stdinFd, events: Int16(POLLOUT), revents: 0)) }
        let ready = poll(&fds, nfds_t(fds.count), 60_000)
        if ready < 0 && errno == EINTR { return }
        guard ready > 0 else { throw CompressionError.toolFailed(tool: tool, status: -1, message: "no progress for 60 s") }
        if fds[1].revents != 0 { drainStderr() }
        if fds[0].revents != 0 {
            let n = outBuffer.withUnsafeMutableBytes { read(stdoutFd, $0.baseAddress, $0.count) }
            if n > 0 {
                try outBuffer.withUnsafeBytes { try output(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                close(stdoutFd)
                stdoutFd = -1
            }
        }
        if let writable, fds.count > 2, fds[2].revents != 0 {
            if fds[2].revents & Int16(POLLERR | POLLHUP) != 0 {
                throw CompressionError.toolFailed(tool: tool, status: -1, message: "it closed its input early: \(stderrSummary)")
            }
            try writable()
        }
    }

    private func drainStderr() {
        guard stderrFd >= 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = chunk.withUnsafeMutableBytes { read(stderrFd, $0.baseAddress, $0.count) }
        if n > 0 {
            stderrText += chunk[..<n]
            if stderrText.count > 8192 { stderrText.removeFirst(stderrText.count - 8192) }
        } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
            close(stderrFd)
            stderrFd = -1
        } else if stdoutFd < 0 {
            // Output is closed; wait briefly for the tool to finish writing its message.
            var fd = pollfd(fd: stderrFd, events: Int16(POLLIN), revents: 0)
            _ = poll(&fd, 1, 1000)
            if fd.revents == 0 { close(stderrFd); stderrFd = -1 }
        }
    }
}

/// Finds a helper program the way a shell would, plus the sbin directories a root shell has
/// (sfdisk and mkswap live there even when the caller's PATH lacks them).
public enum ExecutableLookup {
    public static func find(_ tool: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"] {
            let candidate = "\(dir)/\(tool)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = Substring(self)
        while let last = s.last, last.isNewline || last == " " { s = s.dropLast() }
        return String(s)
    }
}
