import ArgumentParser
import PacketCapture
import Reporting

struct Interfaces: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the interfaces 'live' can capture on.")

    func run() throws {
        let list: [InterfaceInfo]
        do { list = try LiveCapture.interfaces() } catch { throw ValidationError(error.description) }
        if list.isEmpty { print("No capture devices found (capturing may need root or CAP_NET_RAW).") }
        for i in list {
            var state = [i.isUp ? "up" : "down"]
            if i.isRunning { state.append("running") }
            if i.isLoopback { state.append("loopback") }
            let addrs = i.addresses.isEmpty ? "" : "  " + i.addresses.joined(separator: ", ")
            let desc = i.description.map { "  (\($0))" } ?? ""
            print(TerminalSafe.escape("\(i.name)  [\(state.joined(separator: ", "))]\(addrs)\(desc)"))
        }
    }
}
