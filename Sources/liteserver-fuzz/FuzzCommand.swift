import Foundation
import FuzzTargets

#if canImport(Glibc)
import Glibc
#endif

/// The input being decoded, kept where a signal handler can write it out: a decoder that
/// traps leaves `crash-<target>.bin` behind to reproduce with `liteserver-fuzz repro`.
enum CrashCapture {
    nonisolated(unsafe) static var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 20)
    nonisolated(unsafe) static var count = 0
    nonisolated(unsafe) static var fd: Int32 = -1
    /// Made before any crash: a signal handler may not build strings.
    nonisolated(unsafe) static var notice: UnsafeMutablePointer<CChar>?

    static func arm(target: String) {
        fd = open("crash-\(target).bin", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        notice = strdup("liteserver-fuzz: the \(target) decoder crashed; its input is saved as crash-\(target).bin\n")
        for fatal in [SIGTRAP, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                if CrashCapture.fd >= 0 { _ = write(CrashCapture.fd, CrashCapture.buffer, CrashCapture.count) }
                if let notice = CrashCapture.notice { _ = write(2, notice, strlen(notice)) }
                signal(number, SIG_DFL)
                raise(number)
            }
            sigaction(fatal, &action, nil)
        }
    }

    static func hold(_ input: [UInt8]) {
        count = min(input.count, 1 << 20)
        input.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: count) }
    }

    /// The run ended without a crash: no crash file is left.
    static func disarm(target: String) {
        close(fd)
        fd = -1
        unlink("crash-\(target).bin")
    }
}

#if LIBFUZZER
/// libFuzzer drives the target named by LITESERVER_FUZZ_TARGET (bench/fuzz.sh sets it).
nonisolated(unsafe) var libFuzzerTarget: FuzzTarget?

@_silgen_name("LLVMFuzzerRunDriver")
func runLibFuzzer(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM points an executable's `main` at `<module>_main`; here that hands over to libFuzzer.
@_cdecl("liteserver_fuzz_main")
public func liteServerFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return runLibFuzzer(&count, &vector) { data, size in liteServerFuzzOne(data, size) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func liteServerFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if libFuzzerTarget == nil {
        let name = ProcessInfo.processInfo.environment["LITESERVER_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTargets.named(name) else {
            fatalError("LITESERVER_FUZZ_TARGET must name one of: \(FuzzTargets.all.map(\.name).joined(separator: ", "))")
        }
        libFuzzerTarget = target
    }
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do { try libFuzzerTarget!.run(bytes) } catch { fatalError("\(error)") }
    return 0
}
#else
@main
struct FuzzCommand {
    static let usage = """
        usage: liteserver-fuzz list
               liteserver-fuzz seeds TARGET DIR          write the target's seed inputs into DIR
               liteserver-fuzz run TARGET [--runs N] [--seed S] [--corpus DIR] [--max-len BYTES]
               liteserver-fuzz repro TARGET FILE...      run saved inputs (e.g. a crash file)
        run: N mutated inputs (default 1000000) from the seeds and the corpus files, seeded and
        repeatable; exit 1 with the input saved as finding-TARGET.bin or crash-TARGET.bin.
        Built with -sanitize=fuzzer -DLIBFUZZER (bench/fuzz.sh) it is a libFuzzer binary instead.
        """

    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let command = arguments.first else { fail(usage, 2) }
        arguments.removeFirst()
        switch command {
        case "list":
            for target in FuzzTargets.all { print("\(target.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(target.summary)") }
        case "seeds":
            guard arguments.count == 2 else { fail(usage, 2) }
            let target = named(arguments[0])
            try? FileManager.default.createDirectory(atPath: arguments[1], withIntermediateDirectories: true)
            for (index, seed) in target.seeds().enumerated() {
                FileManager.default.createFile(atPath: "\(arguments[1])/seed-\(index)", contents: Data(seed))
            }
        case "repro":
            guard arguments.count >= 2 else { fail(usage, 2) }
            let target = named(arguments[0])
            for file in arguments.dropFirst() {
                guard let data = FileManager.default.contents(atPath: file) else { fail("liteserver-fuzz: cannot read \(file)", 2) }
                do { try target.run(Array(data)); print("\(file): no finding") } catch { fail("\(file): \(error)", 1) }
            }
        case "run":
            run(arguments)
        default:
            fail(usage, 2)
        }
    }

    static func run(_ arguments: [String]) {
        guard let name = arguments.first else { fail(usage, 2) }
        let target = named(name)
        var runs = 1_000_000, seed: UInt64 = 1, maxLength = 1 << 16, corpus: [[UInt8]] = []
        var rest = arguments.dropFirst()
        while let option = rest.popFirst() {
            guard let value = rest.popFirst() else { fail("liteserver-fuzz: \(option) needs a value", 2) }
            switch option {
            case "--runs": runs = Int(value) ?? { fail("liteserver-fuzz: --runs \(value): not a number", 2) }()
            case "--seed": seed = UInt64(value) ?? { fail("liteserver-fuzz: --seed \(value): not a number", 2) }()
            case "--max-len": maxLength = min(1 << 20, Int(value) ?? { fail("liteserver-fuzz: --max-len \(value): not a number", 2) }())
            case "--corpus":
                let files = (try? FileManager.default.contentsOfDirectory(atPath: value)) ?? []
                corpus += files.sorted().compactMap { FileManager.default.contents(atPath: value + "/" + $0).map { Array($0.prefix(maxLength)) } }
            default: fail("liteserver-fuzz: unknown option \(option)\n\(usage)", 2)
            }
        }
        CrashCapture.arm(target: target.name)
        let started = Date()
        let finding = target.fuzz(count: runs, seed: seed, extraSeeds: corpus, maxLength: maxLength,
                                  progress: { done in
                                      if done > 0 { FileHandle.standardError.write(Data("\(target.name): \(done) inputs\n".utf8)) }
                                  },
                                  before: CrashCapture.hold)
        CrashCapture.disarm(target: target.name)
        let seconds = Date().timeIntervalSince(started)
        if let (problem, input) = finding {
            FileManager.default.createFile(atPath: "finding-\(target.name).bin", contents: Data(input))
            fail("liteserver-fuzz: \(problem) (input saved as finding-\(target.name).bin)", 1)
        }
        print(String(format: "%@: %d inputs (seed %llu, %d corpus files) in %.1f s, %.0f/s, no finding",
                     target.name, runs, seed, corpus.count, seconds, Double(runs) / max(seconds, 0.001)))
    }

    static func named(_ name: String) -> FuzzTarget {
        guard let target = FuzzTargets.named(name) else {
            fail("liteserver-fuzz: no target \(name); targets: \(FuzzTargets.all.map(\.name).joined(separator: ", "))", 2)
        }
        return target
    }

    static func fail(_ message: String, _ status: Int32) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(status)
    }
}
#endif
