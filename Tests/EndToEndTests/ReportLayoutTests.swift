import Foundation
import Testing

/// The HTML report in a real browser: it must fit a 1400 px and a 1280 px desktop window and a 390 px
/// phone without scrolling sideways, and print. Headless Chromium will not open a window narrower
/// than 500 px, so each width is an iframe of that width in a small harness page (the report itself
/// stays script-free; the harness only measures it).
@Suite(.serialized) struct ReportLayoutTests {
    static let widths = [1400, 1280, 390]

    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// A store holding every generated capture (hostile strings included) and the real mining capture.
    static func reportFiles() throws -> (dir: String, full: String, empty: String) {
        let dir = Lab.tempDir("layout")
        let store = dir + "/store.sqlite"
        var captures = try FileManager.default.contentsOfDirectory(
            atPath: Binary.root.appendingPathComponent("pcaps").path
        )
        .filter { $0.hasSuffix(".pcap") }.sorted().map { Binary.root.appendingPathComponent("pcaps/\($0)").path }
        let real = Binary.shared.appendingPathComponent("mining.pcapng").path
        if FileManager.default.fileExists(atPath: real) { captures.append(real) }
        let analyzed = try Binary.run(["analyze", "--store", store, "--format", "json"] + captures)
        #expect(analyzed.status == 1, "analyze: \(analyzed.stderr)")
        let full = dir + "/full.html"
        let empty = dir + "/empty.html"
        #expect(try Binary.run(["report", "--store", store, "--since", "all", "-o", full]).status == 0)
        // The default last 24 h of a store whose data is years old: the page that says where the data is.
        #expect(try Binary.run(["report", "--store", store, "-o", empty]).status == 0)
        return (dir, full, empty)
    }

    /// scrollWidth/innerWidth of `page` shown `width` px wide.
    static func measure(_ page: String, width: Int, dir: String) throws -> (Int, Int) {
        let browser = try #require(chromium, "chromium is not installed (scripts/test installs it)")
        let harness = dir + "/harness-\(width)-\(URL(fileURLWithPath: page).lastPathComponent)"
        try """
        <!DOCTYPE html><html><head><title>pending</title></head><body style="margin:0">
        <iframe src="file://\(page)" style="width:\(width)px;height:900px;border:0"
         onload="var d=this.contentDocument.documentElement;document.title='W:'+d.scrollWidth+'/'+this.contentWindow.innerWidth"></iframe>
        </body></html>
        """.write(toFile: harness, atomically: true, encoding: .utf8)
        let (rc, out) = try Lab.run(
            "/usr/bin/timeout",
            [
                "90", browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--allow-file-access-from-files", "--virtual-time-budget=3000",
                "--window-size=\(max(width + 20, 800)),1000", "--dump-dom", "file://" + harness
            ])
        #expect(rc == 0, "chromium failed: \(out)")
        let title = try #require(
            out.range(of: #"W:\d+/\d+"#, options: .regularExpression).map { String(out[$0].dropFirst(2)) },
            "the harness did not measure the page: \(out.prefix(300))")
        let parts = title.split(separator: "/").compactMap { Int($0) }
        return (parts[0], parts[1])
    }

    @Test func fitsDesktopAndPhone() throws {
        let (dir, full, empty) = try Self.reportFiles()
        for page in [full, empty] {
            for width in Self.widths {
                let (document, viewport) = try Self.measure(page, width: width, dir: dir)
                #expect(viewport == width, "the harness showed \(page) \(viewport) px wide, not \(width)")
                #expect(
                    document <= viewport,
                    "\(URL(fileURLWithPath: page).lastPathComponent) is \(document) px wide in a \(viewport) px window")
            }
        }
        let html = try String(contentsOfFile: full, encoding: .utf8)
        // Self-contained: no scripts, nothing fetched.
        #expect(
            !html.contains("<script") && !html.contains("src=") && !html.contains("@import") && !html.contains("url("))
        #expect(try String(contentsOfFile: empty, encoding: .utf8).contains("The store holds evidence from "))
    }

    @Test func prints() throws {
        let (dir, full, _) = try Self.reportFiles()
        let browser = try #require(Self.chromium, "chromium is not installed (scripts/test installs it)")
        let pdf = dir + "/report.pdf"
        let (rc, out) = try Lab.run(
            "/usr/bin/timeout",
            [
                "90", browser, "--headless", "--no-sandbox", "--disable-gpu",
                "--print-to-pdf=\(pdf)", "--no-pdf-header-footer", "file://" + full
            ])
        #expect(rc == 0, "chromium failed: \(out)")
        let data = try #require(FileManager.default.contents(atPath: pdf))
        #expect(data.starts(with: Array("%PDF".utf8)) && data.count > 20_000)
    }
}
