import Foundation

/// The operator's two views of `FeederStatus`: the live page at `/` (static HTML whose script
/// polls `/status` once a second, so the server never renders per request) and the plain text
/// of `ocs-live-feed-img status`.
public enum StatusPage {
    public static func json(_ status: FeederStatus) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(status))) ?? Array("{}".utf8)
    }

    public static func decode(_ bytes: [UInt8]) -> FeederStatus? {
        try? JSONDecoder().decode(FeederStatus.self, from: Data(bytes))
    }

    public static func text(_ status: FeederStatus, now: Double) -> String {
        var lines = ["image \(status.image) by \(status.transport) on \(status.interface) (\(status.server)), DHCP mode \(status.dhcpMode), up \(duration(now - status.startedAt))"]
        for session in status.sessions {
            var line = "  stream \(session.index + 1) \(session.target) port \(session.port): \(session.state.rawValue)"
            let count = session.expectedReceivers.map { "\(session.receivers.count)/\($0)" } ?? "\(session.receivers.count)"
            line += ", \(count) receiver(s), \(megabytes(session.bytes)) of \(megabytes(session.totalBytes))"
            if let rate = session.bytesPerSecond { line += " at \(megabytes(UInt64(rate)))/s" }
            if let detail = session.detail { line += " (\(detail))" }
            lines.append(line)
        }
        if status.clients.isEmpty { lines.append("  no client seen yet") }
        for client in status.clients {
            var line = "  client \(client.address)"
            if let mac = client.mac { line += " \(mac)" }
            line += ": \(client.phase.rawValue)"
            if let partition = client.partition, client.phase == .receiving { line += " \(partition)" }
            if client.bytes > 0 { line += ", \(megabytes(client.bytes))" }
            if let rate = client.bytesPerSecond, client.phase == .receiving { line += " at \(megabytes(UInt64(rate)))/s" }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// 512 B, 10.1 KiB, 4.2 MiB, 1.5 GiB: one decimal, the largest unit that keeps a leading digit.
    static func megabytes(_ bytes: UInt64) -> String {
        guard bytes >= 1024 else { return "\(bytes) B" }
        var unit = 1024.0, name = "KiB"
        for next in ["MiB", "GiB", "TiB"] where Double(bytes) >= unit * 1024 {
            unit *= 1024
            name = next
        }
        let tenths = UInt64((Double(bytes) / unit * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(name)"
    }

    static func duration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        return s >= 3600 ? "\(s / 3600) h \(s / 60 % 60) min" : s >= 60 ? "\(s / 60) min \(s % 60) s" : "\(s) s"
    }

    public static let html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>LiteServer feeder</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
        h1 { font-size: 1.3em; margin: 0 0 .3em; } h2 { font-size: 1.05em; margin: 1.2em 0 .4em; }
        table { border-collapse: collapse; min-width: 40em; } th, td { padding: .25em .7em; border-bottom: 1px solid #ddd; text-align: left; }
        th { background: #f3f3f3; } .done { color: #176617; font-weight: 600; } .failed { color: #b00020; font-weight: 600; }
        .sending, .receiving { color: #0b57d0; } .waiting { color: #8a5a00; } #error { color: #b00020; }
        button { font: inherit; padding: .3em 1em; }
        </style></head>
        <body>
        <h1>LiteServer feeder</h1>
        <div id="job">loading…</div>
        <p><button id="start-now" type="button">Start now</button> releases a session that waits for more clients. <span id="error"></span></p>
        <h2>Sessions</h2>
        <table id="sessions"><thead><tr><th>#</th><th>partition</th><th>port</th><th>state</th><th>receivers</th><th>sent</th><th>rate</th></tr></thead><tbody></tbody></table>
        <h2>Clients</h2>
        <table id="clients"><thead><tr><th>IP</th><th>MAC</th><th>phase</th><th>partition</th><th>bytes</th><th>rate</th></tr></thead><tbody></tbody></table>
        <script>
        function mib(b) {
          const units = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
          while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
          return i == 0 ? b + " B" : b.toFixed(1) + " " + units[i];
        }
        function cell(row, text, cls) { const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; }
        function render(s) {
          document.getElementById("job").textContent = "Image " + s.image + " by " + s.transport + " on " + s.interface +
            " (" + s.server + "), DHCP mode " + s.dhcpMode;
          const sessions = document.querySelector("#sessions tbody"); sessions.replaceChildren();
          for (const x of s.sessions) {
            const r = sessions.insertRow(); r.dataset.index = x.index;
            cell(r, x.index + 1); cell(r, x.target); cell(r, x.port); cell(r, x.state, x.state);
            cell(r, x.receivers.length + (x.expectedReceivers ? "/" + x.expectedReceivers : "") + (x.receivers.length ? " (" + x.receivers.join(", ") + ")" : ""));
            cell(r, mib(x.bytes) + " of " + mib(x.totalBytes)); cell(r, x.bytesPerSecond ? mib(x.bytesPerSecond) + "/s" : "");
          }
          const clients = document.querySelector("#clients tbody"); clients.replaceChildren();
          for (const c of s.clients) {
            const r = clients.insertRow(); r.dataset.address = c.address;
            cell(r, c.address); cell(r, c.mac || ""); cell(r, c.phase, c.phase.split(" ")[0]); cell(r, c.partition || "");
            cell(r, c.bytes ? mib(c.bytes) : ""); cell(r, c.bytesPerSecond && c.phase == "receiving" ? mib(c.bytesPerSecond) + "/s" : "");
          }
        }
        async function poll() {
          try {
            const response = await fetch("/status", { cache: "no-store" });
            render(await response.json()); document.getElementById("error").textContent = "";
          } catch (e) { document.getElementById("error").textContent = "feeder not reachable"; }
        }
        document.getElementById("start-now").onclick = async () => {
          const response = await fetch("/start-now", { method: "POST" });
          document.getElementById("error").textContent = await response.text();
        };
        poll(); setInterval(poll, 1000);
        </script>
        </body></html>

        """
}
