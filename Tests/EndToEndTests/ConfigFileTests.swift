import Foundation
import Testing

/// `--config FILE`: a YAML file whose keys are the long flags, flags overriding it; `config show`
/// printing the effective settings (itself a config file); errors naming the file and line; SIGHUP
/// re-reading what can change live.
@Suite struct ConfigFileTests {
    let dir = Lab.tempDir("config")

    func write(_ name: String, _ text: String) -> String {
        let path = dir + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    /// The setting lines of `config show` without their source comments, and the sources by key.
    func settings(_ shown: String) -> (values: [String], sources: [String: String]) {
        var values: [String] = []
        var sources: [String: String] = [:]
        for line in shown.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.components(separatedBy: " # ")
            let value = parts[0].trimmingCharacters(in: .whitespaces)
            values.append(value)
            sources[String(value.prefix { $0 != ":" })] = parts.count > 1 ? parts[1] : nil
        }
        return (values, sources)
    }

    @Test func showSaysWhereEachSettingComesFromAndRoundTrips() throws {
        let file = write(
            "live.yaml",
            """
            # the mirror port's sensor
            interface: eth9
            events: "/var/log/a \\"b\\".jsonl"
            probe: true
            probe-allow:
              - 10.0.0.0/8
              - 192.168.0.0/16
            commit-interval: 5
            """)
        let shown = try Binary.run([
            "config", "show", "--config", file, "--", "--commit-interval", "7", "--probe-allow", "172.16.0.0/12"
        ])
        #expect(shown.status == 0, "\(shown.stderr)")
        let (values, sources) = settings(shown.stdout)
        #expect(values.contains(#"interface: ["eth9"]"#))
        #expect(sources["interface"] == file + ":2")
        #expect(values.contains(#"events: "/var/log/a \"b\".jsonl""#), "\(values)")
        #expect(values.contains("probe: true") && sources["probe"] == file + ":4")
        // The command line overrides the file; a repeatable option's list is replaced, not extended.
        #expect(values.contains(#"commit-interval: "7""#) && sources["commit-interval"] == "command line")
        #expect(values.contains(#"probe-allow: ["172.16.0.0/12"]"#), "\(values)")
        #expect(values.contains(#"probe-max: "32""#) && sources["probe-max"] == "default")
        #expect(shown.stdout.contains("# webhook: (not set)"))

        // What show printed is a config file giving the same settings.
        let again = write("shown.yaml", shown.stdout)
        let reshown = try Binary.run(["config", "show", "--config", again])
        #expect(reshown.status == 0, "\(reshown.stderr)")
        #expect(settings(reshown.stdout).values == values)
        let line =
            (shown.stdout.split(separator: "\n", omittingEmptySubsequences: false).firstIndex {
                $0.hasPrefix("commit-interval:")
            } ?? 0) + 1
        #expect(settings(reshown.stdout).sources["commit-interval"] == again + ":\(line)", "\(reshown.stdout)")
    }

    /// The config file the package installs reads, and says what a fresh sensor runs with.
    @Test func theShippedConfigFileReads() throws {
        let shipped = Binary.root.appendingPathComponent("dist/stratumsniff.yaml").path
        let r = try Binary.run(["config", "show", "--config", shipped])
        #expect(r.status == 0, "\(r.stderr)")
        let (values, sources) = settings(r.stdout)
        #expect(values.contains(#"interface: ["eth0"]"#) && sources["interface"]?.hasPrefix(shipped) == true)
        #expect(values.contains(#"store: "/var/lib/stratumsniff/store.sqlite""#))
        #expect(values.contains(#"format: "none""#) && values.contains("quiet: true"))
    }

    @Test func mistakesNameTheFileAndLine() throws {
        let cases: [(String, String)] = [
            (
                "interface: lo\ninterfase: eth0\n",
                ":2: 'interfase' is not a setting of live (did you mean 'interface'?)"
            ),
            ("interface: [lo\n", ": not valid YAML"),
            ("quiet: maybe\n", ":1: 'quiet' is a switch: write true or false"),
            ("commit-interval: [1, 2]\n", ":1: 'commit-interval' takes one value, not a list"),
            ("- interface\n", ":1: the file must be a mapping of settings"),
            ("interface: lo\ninterface: eth0\n", "duplicated key(s): 'interface'"),
            // A value the command refuses: its own message, and the line that set it.
            (
                "interface: lo\ncommit-interval: -3\n",
                "--commit-interval must be a positive number of seconds, at most 86400 (got -3.0) (set in "
            )
        ]
        for (i, (text, message)) in cases.enumerated() {
            let file = write("bad\(i).yaml", text)
            let r = try Binary.run(["live", "--config", file])
            #expect(r.status == 2, "\(text)")
            #expect(r.stderr.contains(message), "\(text): \(r.stderr)")
            #expect(r.stderr.contains(file), "\(text): \(r.stderr)")
        }
        let missing = try Binary.run(["live", "--config", dir + "/nowhere.yaml"])
        #expect(
            missing.status == 2 && missing.stderr.contains("cannot read config file \(dir)/nowhere.yaml: no such file"))
        // Control characters in a key are escaped in the message.
        let hostile = try Binary.run(["live", "--config", write("hostile.yaml", "\"a\\e[31mb\": 1\n")])
        #expect(hostile.status == 2 && !hostile.stderr.contains("\u{1B}"), "\(hostile.stderr)")
    }

    @Test func analyzeTakesItsSettingsFromAFile() throws {
        let capture = Binary.root.appendingPathComponent("pcaps/xmrig-cryptonote.pcap").path
        let file = write("analyze.yaml", "format: json\nquiet: true\n")
        let r = try Binary.run(["analyze", "--config", file, capture])
        #expect(r.status == 1, "\(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(doc?["hosts"] != nil, "\(r.stdout.prefix(200))")
        // The flag beats the file.
        let table = try Binary.run(["analyze", "--config", file, "--format", "table", capture])
        #expect(table.stdout.hasPrefix("{") == false && table.stdout.contains("mining"), "\(table.stdout.prefix(200))")
    }

    @Test(.enabled(if: Lab.available, "needs root to capture on lo: the live config file test skipped"))
    func liveRunsFromAFileAloneAndSIGHUPReadsItAgain() throws {
        let lists = write("pools.txt", "pool.example.org\n")
        let file = write(
            "live.yaml", "interface: lo\nno-store: true\nquiet: true\nformat: json\nduration: 8\ncommit-interval: 5\n")
        let sensor = try Lab.spawn(Binary.path, ["live", "--config", file], log: dir + "/sensor.log")
        Thread.sleep(forTimeInterval: 1.5)
        _ = write(
            "live.yaml",
            "interface: lo\nno-store: true\nquiet: true\nformat: json\nduration: 8\ncommit-interval: 2\n"
                + "log-level: info\npool-list: [\(lists)]\n")
        kill(sensor.processIdentifier, SIGHUP)
        #expect(
            Lab.waitFor(5) { Lab.read(dir + "/sensor.log.err").contains("SIGHUP: outputs reopened, lists reloaded") })
        // A broken file changes nothing, and says so.
        _ = write("live.yaml", "interface: [lo\n")
        kill(sensor.processIdentifier, SIGHUP)
        sensor.waitUntilExit()
        let err = Lab.read(dir + "/sensor.log.err")
        #expect(sensor.terminationStatus == 0, "\(err)")
        #expect(err.contains("SIGHUP: \(file): log-level is now info"), "\(err)")
        #expect(err.contains("SIGHUP: \(file): pool-list is now \(lists)"), "\(err)")
        #expect(err.contains("commit-interval changed to 2: restart the sensor to apply it"), "\(err)")
        #expect(err.contains("not valid YAML") && err.contains("the settings in use stay"), "\(err)")
        let doc = try JSONSerialization.jsonObject(with: Data(Lab.read(dir + "/sensor.log").utf8)) as? [String: Any]
        let capture = (doc?["summary"] as? [String: Any])?["capture"] as? [String: Any]
        #expect(capture?["interfaces"] as? [String] == ["lo"], "\(Lab.read(dir + "/sensor.log").prefix(300))")
    }
}
