import Foundation
import NetBoot
import NetworkNIO

/// What shapes the boot menus, read from a defaults file (`conf/netboot.conf`, or the feeder's
/// conf, which takes the same keys) and then overridden field by field from a command line, so
/// `ocs-netboot prepare`, `ocs-netboot local-boot` and the feeder build identical menus.
public struct MenuSettings: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case invalid(String)
        public var description: String {
            switch self { case .invalid(let text): return text }
        }
    }

    public var tftpRoot = "/tftpboot/nbi_img"
    public var liveMedia: String?
    public var templates: String?
    public var purpose = "massive-deployment"
    public var keyboard = "NONE"
    public var language = "en_US.UTF-8"
    public var extraBootParameters: [String] = []
    public var serial: String?
    public var timeout = "7"
    public var imageName: String?

    public init(file: NetbootConfigFile? = nil) {
        guard let file else { return }
        tftpRoot = file["tftp_root"] ?? tftpRoot
        liveMedia = file["live_media"]
        templates = file["templates"]
        purpose = file["purpose"] ?? purpose
        keyboard = file["keyboard"] ?? keyboard
        language = file["language"] ?? language
        extraBootParameters = file["extra_boot_param"].map { [$0] } ?? []
        serial = file["serial"]
        timeout = file["timeout"] ?? timeout
    }

    /// Reads a `key = value` defaults file; `extraKeys` are the caller's own keys.
    public static func load(_ path: String, extraKeys: Set<String> = []) throws(Failure) -> NetbootConfigFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch { throw .invalid("\(path): cannot read it (\(error.localizedDescription))") }
        do { return try NetbootConfigFile(parsing: text, file: path, extraKeys: extraKeys) } catch { throw .invalid(error.description) }
    }

    public func menus(server: IPv4Address) throws(Failure) -> NetbootMenus {
        var live = LiveBootEntry(server: server)
        guard let purpose = LiveBootEntry.Purpose(rawValue: purpose) else { throw .invalid("purpose \"\(purpose)\": massive-deployment or interactive-client") }
        live.purpose = purpose
        live.keyboardLayout = keyboard
        live.language = language
        for words in extraBootParameters {
            do { live.extra.append(contentsOf: try BootParameters(parsing: words).validated()) } catch { throw .invalid("\(error)") }
        }
        let templates: NetbootMenus.Templates
        do { templates = try .load(directory: Self.templatesDirectory(self.templates)) } catch { throw .invalid("\(error)") }
        var menus = NetbootMenus(live: live, templates: templates)
        if let serial {
            let parts = serial.split(separator: ",").compactMap { Int($0) }
            guard parts.count == 2 else { throw .invalid("serial \"\(serial)\": PORT,BAUD such as 0,115200") }
            menus.serial = (parts[0], parts[1])
        }
        guard let seconds = Int(timeout) else { throw .invalid("timeout \"\(timeout)\" is not a number of seconds") }
        menus.timeoutSeconds = max(0, seconds)
        menus.imageName = imageName
        return menus
    }

    /// The menu templates: the explicit directory, `$LITESERVER_TEMPLATES`, the installed copy
    /// beside the executable, the source tree's `pxe-templates/`, then /usr/share.
    public static func templatesDirectory(_ explicit: String?) -> String {
        if let explicit { return explicit }
        if let env = ProcessInfo.processInfo.environment["LITESERVER_TEMPLATES"] { return env }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for candidate in [exe.appendingPathComponent("../share/liteserver/pxe-templates"), exe.appendingPathComponent("../../../pxe-templates"),
                          URL(fileURLWithPath: "/usr/share/liteserver/pxe-templates")] where FileManager.default.fileExists(atPath: candidate.path + "/grub.cfg") {
            return candidate.standardizedFileURL.path
        }
        return "/usr/share/liteserver/pxe-templates"
    }
}
