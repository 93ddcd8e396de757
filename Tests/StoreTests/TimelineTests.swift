import Foundation
import PacketDecoding
import Testing

@testable import Reporting

/// Each host's timeline is drawn over its own activity: in a report over a long period, a host that
/// mined for ten minutes gets ten minutes, not one tick on a months-long axis.
@Suite struct TimelineTests {
    static func host(_ address: String, sessions: [(Int64, Int64)]) throws -> PeriodReport.Host {
        let json =
            #"{"host":"\#(address)","verdict":"mining","confidence":99,"reasons":["r"],"pools":[],"wallets":[],"workers":[],"#
            + #""miner_software":[],"shares_accepted":1,"sessions":[],"served_sessions":[],"evidence":[]}"#
        let j = try JSONDecoder().decode(HostJSON.self, from: Data(json.utf8))
        let s = sessions.map { a, b in
            PeriodReport.Session(
                pool: "198.51.100.1:3333", pool_name: nil, dialect: nil, coin: nil, wallet: nil, software: nil,
                first_seen: TimeFormat.iso8601(a), last_seen: TimeFormat.iso8601(b), start_ns: a, end_ns: b,
                shares_accepted: 1, estimated_hashrate_hs: nil)
        }
        return PeriodReport.Host(
            host: j, first_seen: TimeFormat.iso8601(sessions[0].0), last_seen: TimeFormat.iso8601(sessions[0].1),
            first_flagged: nil, new_in_period: false, sessions: s)
    }

    @Test func eachHostIsDrawnOverItsOwnSessions() throws {
        let day: Int64 = 86_400_000_000_000
        let t0: Int64 = 1_700_000_000_000_000_000
        let early = try Self.host("10.0.0.1", sessions: [(t0 + day, t0 + day + 600_000_000_000)])
        let late = try Self.host(
            "10.0.0.2",
            sessions: [(t0 + 200 * day, t0 + 200 * day + 60_000_000_000), (t0 + 201 * day, t0 + 201 * day + 1)])
        let r = PeriodReport(
            generated: TimeFormat.iso8601(t0), from: TimeFormat.iso8601(t0), to: TimeFormat.iso8601(t0 + 365 * day),
            from_ns: t0, to_ns: t0 + 365 * day, hosts: [early, late], verdict_changes: [],
            capture: .init(
                runs: 1, packets: 1, packets_received: nil, packets_dropped_by_kernel: nil,
                packets_dropped_by_interface: nil))
        let a = r.activeSpan(of: early)
        let b = r.activeSpan(of: late)
        // Ten minutes and a 2 % margin, not the 200 days between the two hosts.
        #expect(a.1 - a.0 <= 600_000_000_000 * 105 / 100 && a.0 <= t0 + day && a.1 >= t0 + day + 600_000_000_000)
        #expect(b.0 <= t0 + 200 * day && b.1 >= t0 + 201 * day && b.1 - b.0 <= day * 105 / 100)
        let html = PeriodRenderer.render(r, as: .html)
        for axis in [a, b] {
            #expect(
                html.contains(">\(PeriodRenderer.short(TimeFormat.iso8601(axis.0)))</text>"), "axis start of \(axis)")
            #expect(html.contains(">\(PeriodRenderer.short(TimeFormat.iso8601(axis.1)))</text>"), "axis end of \(axis)")
        }
    }
}
