import Foundation
import NetBoot

extension NetbootMenus.Templates {
    public enum LoadFailure: Error, CustomStringConvertible {
        case unreadable(String, String)
        public var description: String {
            switch self { case .unreadable(let path, let reason): return "template \(path): \(reason)" }
        }
    }

    /// The three templates from a directory laid out like `pxe-templates/`.
    public static func load(directory: String) throws -> NetbootMenus.Templates {
        func load(_ name: String) throws -> Template {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else { throw LoadFailure.unreadable(path, "missing or unreadable") }
            return Template(name: path, text: String(decoding: data, as: UTF8.self))
        }
        return .init(pxelinux: try load(fileNames.pxelinux), grub: try load(fileNames.grub), ipxe: try load(fileNames.ipxe))
    }
}
