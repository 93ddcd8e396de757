import ArgumentParser
import Foundation
import Reporting
import Yams

/// The options a command takes, as ArgumentParser itself describes them (its help dump): the config
/// file's keys are exactly the long flag names, so the file and the flags can never drift apart.
struct CommandSchema {
    struct Setting {
        /// The long name, without dashes: the key in the file.
        var name: String
        var shortNames: [String]
        /// false: a flag (present or not).
        var takesValue: Bool
        var repeats: Bool
        var defaultValue: String?
        var help: String
    }

    let command: String
    let settings: [Setting]

    /// Settings that belong to the command line only.
    static let notInFiles: Set<String> = ["config", "help", "version", "experimental-dump-help"]

    /// The schema of subcommand `command` of `stratumsniff`.
    static func of(_ command: String) -> CommandSchema? {
        var json = ""
        do {
            _ = try StratumSniff.parseAsRoot([command, "--experimental-dump-help"])
        } catch {
            json = StratumSniff.fullMessage(for: error)
        }
        guard let doc = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let root = doc["command"] as? [String: Any], let arguments = root["arguments"] as? [[String: Any]]
        else { return nil }
        var settings: [Setting] = []
        for a in arguments {
            let kind = a["kind"] as? String
            guard kind == "option" || kind == "flag" else { continue }
            let names = a["names"] as? [[String: String]] ?? []
            guard let long = names.first(where: { $0["kind"] == "long" })?["name"], !notInFiles.contains(long) else {
                continue
            }
            settings.append(
                Setting(
                    name: long, shortNames: names.filter { $0["kind"] == "short" }.compactMap { $0["name"] },
                    takesValue: kind == "option", repeats: a["isRepeating"] as? Bool ?? false,
                    defaultValue: a["defaultValue"] as? String, help: a["abstract"] as? String ?? ""))
        }
        return CommandSchema(command: command, settings: settings)
    }

    func setting(_ name: String) -> Setting? { settings.first { $0.name == name } }

    /// The setting a command-line token names (`--x`, `--x=v`, `-i`), if any.
    func setting(forToken token: String) -> Setting? {
        if token.hasPrefix("--") {
            let name = token.dropFirst(2).split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            return setting(name)
        }
        if token.hasPrefix("-"), token.count == 2 {
            return settings.first { $0.shortNames.contains(String(token.dropFirst())) }
        }
        return nil
    }

    /// Every setting's values in well-formed arguments (as ArgumentParser accepted them): the last
    /// value of a single option wins, a repeated one collects, a flag is "true".
    func values(in arguments: [String]) -> [String: [String]] {
        var out: [String: [String]] = [:]
        var index = 0
        while index < arguments.count {
            let token = arguments[index]
            index += 1
            if token == "--" { break }
            guard let s = setting(forToken: token) else { continue }
            guard s.takesValue else {
                out[s.name] = ["true"]
                continue
            }
            let value: String
            if let eq = token.firstIndex(of: "="), token.hasPrefix("--") {
                value = String(token[token.index(after: eq)...])
            } else if index < arguments.count {
                value = arguments[index]
                index += 1
            } else {
                continue
            }
            out[s.name] = s.repeats ? out[s.name, default: []] + [value] : [value]
        }
        return out
    }
}

/// A config file: YAML, one key per option, named as the long flag (`interface`, `store`,
/// `probe-allow`); a list for a repeatable option; `true`/`false` for a flag.
struct ConfigFile {
    struct Entry: Equatable {
        var key: String
        /// Option values; for a flag, ["true"] or [] (false).
        var values: [String]
        var line: Int
    }

    let path: String
    let entries: [Entry]

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Most bytes read from a config file: it is written by people, not generated.
    static let maxBytes = 1 << 20

    /// Reads and checks `path` against `schema`; every problem names the file and line.
    static func load(_ path: String, for schema: CommandSchema) throws(Failure) -> ConfigFile {
        let text: String
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard data.count <= maxBytes else {
                throw Failure(description: "\(path): larger than 1 MiB — is this a config file?")
            }
            guard let decoded = String(data: data, encoding: .utf8) else {
                throw Failure(description: "\(path): not UTF-8 text")
            }
            text = decoded
        } catch let failure as Failure {
            throw failure
        } catch {
            let why = FileManager.default.fileExists(atPath: path) ? "permission denied or not a file" : "no such file"
            throw Failure(description: "cannot read config file \(path): \(why)")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw Failure(
                description: "\(path): not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        guard let root else { return ConfigFile(path: path, entries: []) }
        guard let mapping = root.mapping else {
            throw Failure(
                description: "\(path):\(line(root)): the file must be a mapping of settings (key: value), one per line")
        }
        var entries: [Entry] = []
        for (keyNode, valueNode) in mapping {
            let at = "\(path):\(line(keyNode))"
            guard let key = keyNode.scalar?.string else {
                throw Failure(description: "\(at): a setting's name must be text")
            }
            guard let setting = schema.setting(key) else {
                let hint = schema.settings.map(\.name).min { distance($0, key) < distance($1, key) }
                throw Failure(
                    description: "\(at): '\(TerminalSafe.escape(key))' is not a setting of \(schema.command)"
                        + (hint.map { distance($0, key) <= 3 ? " (did you mean '\($0)'?)" : "" } ?? "")
                        + "; the names are the long flags of 'stratumsniff \(schema.command) --help'")
            }
            guard !entries.contains(where: { $0.key == key }) else {
                throw Failure(description: "\(at): '\(key)' is set twice")
            }
            var values: [String]
            switch valueNode {
            case .scalar(let scalar):
                values = scalar.string.isEmpty && valueNode.tag.description.hasSuffix("null") ? [] : [scalar.string]
            case .sequence(let sequence):
                guard setting.repeats else { throw Failure(description: "\(at): '\(key)' takes one value, not a list") }
                values = []
                for item in sequence {
                    guard let s = item.scalar?.string else {
                        throw Failure(description: "\(path):\(line(item)): each '\(key)' must be one value")
                    }
                    values.append(s)
                }
            default:
                throw Failure(
                    description:
                        "\(at): '\(key)' takes \(setting.takesValue ? "a value" : "true or false"), not a mapping")
            }
            if !setting.takesValue {
                guard values.count == 1,
                    let flag = Bool(values[0].lowercased())
                        ?? ["yes": true, "no": false, "on": true, "off": false][values[0].lowercased()]
                else {
                    throw Failure(description: "\(at): '\(key)' is a switch: write true or false")
                }
                values = flag ? ["true"] : []
            }
            entries.append(Entry(key: key, values: values, line: line(keyNode)))
        }
        return ConfigFile(path: path, entries: entries)
    }

    private static func line(_ node: Node) -> Int { (node.mark?.line).map { $0 } ?? 1 }

    private static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a)
        let y = Array(b)
        var row = Array(0...y.count)
        for i in 1...max(x.count, 1) where !x.isEmpty {
            var next = [i] + Array(repeating: 0, count: y.count)
            for j in 1...max(y.count, 1) where !y.isEmpty {
                next[j] = min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            row = next
        }
        return row[y.count]
    }

    /// " (set in FILE:LINE)" when an error message names a setting this file gave (and the command
    /// line did not override): the user is sent to the line to fix.
    func origin(of message: String) -> String? {
        let given = Set(ConfigArguments.commandLineSettings())
        guard let entry = entries.first(where: { !given.contains($0.key) && message.contains("--" + $0.key) }) else {
            return nil
        }
        return " (set in \(path):\(entry.line))"
    }

    /// The file as arguments, for the settings the command line does not give itself (flags override
    /// the file: a repeatable option given on the command line replaces the file's list).
    func arguments(overriddenBy commandLine: Set<String>, schema: CommandSchema) -> [String] {
        entries.filter { !commandLine.contains($0.key) }.flatMap { entry -> [String] in
            guard schema.setting(entry.key)?.takesValue == true else {
                return entry.values.isEmpty ? [] : ["--" + entry.key]
            }
            return entry.values.map { "--\(entry.key)=\($0)" }
        }
    }
}

/// `--config FILE` on the command line: the file's settings put in front of the flags before
/// ArgumentParser sees them, so validation, help and errors are the flags' own.
enum ConfigArguments {
    /// The commands that take `--config`.
    static let commands: Set<String> = ["live", "analyze", "report"]

    /// The config file named in `arguments` (`--config F` or `--config=F`), if any.
    static func path(in arguments: [String]) -> String? {
        for (i, token) in arguments.enumerated() {
            if token == "--" { break }
            if token == "--config", i + 1 < arguments.count { return arguments[i + 1] }
            if token.hasPrefix("--config=") { return String(token.dropFirst("--config=".count)) }
        }
        return nil
    }

    /// The settings this process's own command line names.
    static func commandLineSettings() -> [String] {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let command = arguments.first, let schema = CommandSchema.of(command) else { return [] }
        return Array(schema.values(in: Array(arguments.dropFirst())).keys)
    }

    /// `arguments` (without the program name) with the config file's settings merged in, and the file.
    static func expand(_ arguments: [String]) throws(ConfigFile.Failure) -> (
        arguments: [String], file: ConfigFile?, schema: CommandSchema?
    ) {
        guard let command = arguments.first, commands.contains(command), let path = path(in: arguments) else {
            return (arguments, nil, nil)
        }
        guard let schema = CommandSchema.of(command) else { return (arguments, nil, nil) }
        let file = try ConfigFile.load(path, for: schema)
        let given = Set(schema.values(in: Array(arguments.dropFirst())).keys)
        return ([command] + file.arguments(overriddenBy: given, schema: schema) + arguments.dropFirst(), file, schema)
    }
}

/// `--config FILE` as each command that takes it declares it (the merging happens before parsing,
/// in `ConfigArguments`; this makes the flag known, documented and remembered for SIGHUP).
struct ConfigOption: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "Read settings from this YAML file: one key per option, named as its long flag (interface: eth0, probe-allow: [10.0.0.0/8], quiet: true); flags given here override it. 'stratumsniff config show' prints the effective settings.",
            valueName: "file"))
    var path: String?
}
