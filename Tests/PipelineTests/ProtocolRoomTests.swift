import DNS
import PacketDecoding
import Testing

@testable import Pipeline

/// What a protocol declares in its own file — counters, anomalies, caps — and the table that
/// registers it, for TCP and UDP.
@Suite struct ProtocolRoomTests {
    @Test func capsAreFoundByTypeWithTheirDefaultsAndCopiesStayApart() {
        var limits = Limits()
        #expect(limits.protocols[TLSCaps.self].maxHandshakeBytes == TLSCaps().maxHandshakeBytes)
        let before = limits
        limits.protocols[TLSCaps.self].maxHandshakeBytes = 1_000
        limits.protocols[DNSLimits.self].maxAnswers = 5
        #expect(limits.protocols[TLSCaps.self].maxHandshakeBytes == 1_000)
        #expect(limits.protocols[DNSLimits.self].maxAnswers == 5)
        // Another protocol's caps keep their defaults; the copy taken before is unchanged.
        #expect(limits.protocols[SOCKSCaps.self].maxHandshakeBytes == SOCKSCaps().maxHandshakeBytes)
        #expect(before.protocols[TLSCaps.self].maxHandshakeBytes == TLSCaps().maxHandshakeBytes)
        #expect(before.protocols[DNSLimits.self].maxAnswers == DNSLimits().maxAnswers)
    }

    @Test func everyRegisteredCounterIsNamedAndWorkersAddUp() {
        let names = Set(AnalyzerTable.counters.map(\.name))
        #expect(names == ["dns_messages", "tls_handshakes", "http_flows", "websocket_flows", "p2p_flows"])
        var one = ProtocolCounts()
        one.add(.tlsHandshakes)
        one.add(.tlsHandshakes, 2)
        var other = ProtocolCounts()
        other.add(.dnsMessages)
        one.merge(other)
        #expect(one[.tlsHandshakes] == 3 && one[.dnsMessages] == 1)
        #expect(
            one.byName == [
                "dns_messages": 1, "tls_handshakes": 3, "http_flows": 0, "websocket_flows": 0, "p2p_flows": 0
            ])
        #expect(ProtocolCounts() == ProtocolCounts())
        #expect(one != other)
    }

    @Test func anomaliesAreCountedUnderTheirNamesInNameOrder() {
        var a = AnomalyCounters()
        a.record(.tlsMalformed)
        a.record(.badUDPLength, count: 2)
        var b = AnomalyCounters()
        b.record(.dnsMalformed)
        b.record(.tlsMalformed)
        a.merge(b)
        #expect(a.nonZero.map { "\($0.0)=\($0.1)" } == ["bad_udp_length=2", "dns_malformed=1", "tls_malformed=2"])
        #expect(a[.httpMalformed] == 0 && a.total == 5)
        // One name, one anomaly, wherever it is declared.
        #expect(Anomaly("tls_malformed") == .tlsMalformed)
    }

    @Test func aDatagramGoesToTheFirstAnalyzerThatClaimsIt() {
        #expect(AnalyzerTable.datagramAnalyzer(sourcePort: 40_000, destinationPort: 53) == DNSAnalyzer.self)
        #expect(AnalyzerTable.datagramAnalyzer(sourcePort: 53, destinationPort: 40_000) == DNSAnalyzer.self)
        #expect(AnalyzerTable.datagramAnalyzer(sourcePort: 30_303, destinationPort: 30_303) == PeerAnalyzer.self)
        #expect(AnalyzerTable.readers.count == 1 && AnalyzerTable.readers.first == DNSAnalyzer.self)
    }
}
