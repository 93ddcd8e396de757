import DNS
import PacketDecoding
import PoolIntel
import StreamReassembly
import Testing
import TrafficGen

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

/// A datagram the reader parsed (`DatagramAnalyzer.learnAtOnce`) is judged from what the reader made
/// of it, handed on beside the frame, not parsed a second time by the worker.
@Suite struct ReaderNoteTests {
    let client = IPAddress("10.0.0.5")!
    let resolver = IPAddress("192.0.2.53")!

    /// `spare`: the datagram's worker is behind (`Dealer.Spare`).
    func reader(_ names: NameMemory, spare: Bool = false) -> DatagramReader {
        var r = DatagramReader(
            source: Endpoint(address: client, port: 40_000), destination: Endpoint(address: resolver, port: 53),
            intel: PoolIntelligence(), limits: Limits(), names: names,
            point: InputPoint(seq: 1, clock: .init(seconds: 1)))
        r.spareWorker = spare
        return r
    }

    /// The reader parses an answer for a listed name (it teaches one); anything else only for a worker
    /// that is behind — a query, an answer for a name no list holds, bytes that are not DNS (then it
    /// says so: a note without a message).
    @Test func theReaderParsesWhatTeachesAndWhatSparesAWorker() throws {
        let names = NameMemory(capacity: 64, delay: 1, delayPackets: 1)
        func note(_ bytes: [UInt8], spare: Bool = false) -> DNSAnalyzer.Reading? {
            bytes.withUnsafeBytes { DNSAnalyzer.learnAtOnce($0, reader(names, spare: spare)) } as? DNSAnalyzer.Reading
        }
        let answer = Wire.dnsAnswer(id: 7, name: "pool.supportxmr.com", addresses: ["198.51.100.7"])
        let taught = try #require(note(answer))
        #expect(taught.message?.isResponse == true && taught.resolutions.map(\.name) == ["pool.supportxmr.com"])
        let query = Wire.dnsQuery(id: 7, name: "pool.supportxmr.com")
        #expect(note(query) == nil)
        let spared = try #require(note(query, spare: true))
        #expect(spared.message?.isResponse == false)
        #expect(spared.resolutions.map(\.name) == ["pool.supportxmr.com"])
        let unlisted = Wire.dnsAnswer(id: 8, name: "www.example.org", addresses: ["192.0.2.80"])
        #expect(note(unlisted) == nil)
        #expect(note(unlisted, spare: true)?.message?.questions.first?.name == "www.example.org")
        let garbage: [UInt8] = [1, 2, 3]
        #expect(note(garbage) == nil)
        let bad = try #require(note(garbage, spare: true))
        #expect(bad.message == nil && bad.resolutions.isEmpty)
    }

    /// The frame says www.example.org; the note the reader made says a listed pool. The lookup the
    /// worker records is the note's: it did not parse the frame again.
    @Test func theWorkerJudgesTheNoteNotTheFrame() throws {
        let names = NameMemory(capacity: 64, delay: 1, delayPackets: 1)
        let note = try #require(
            Wire.dnsQuery(id: 7, name: "pool.supportxmr.com").withUnsafeBytes {
                DNSAnalyzer.learnAtOnce($0, reader(names, spare: true))
            })
        var path = PacketPath(limits: Limits(), intel: PoolIntelligence(), policy: .init(), names: names, onEvent: nil)
        let frame = FrameBuilder.frame(
            src: client, dst: resolver, proto: 17,
            transport: FrameBuilder.udp(
                src: client, dst: resolver, srcPort: 40_000, dstPort: 53,
                payload: Wire.dnsQuery(id: 7, name: "www.example.org")))
        frame.withUnsafeBytes { bytes in
            let decoded = PacketDecoder.decode(link: .ethernet, frame: bytes)
            let point = InputPoint(seq: 1, clock: .init(seconds: 1))
            let item = PacketPath.Ahead(
                point: point, second: false, frame: bytes, decoded: decoded, key: path.key(decoded))
            path.process(item, note: note)
        }
        let part = path.finishPart(at: .init(seconds: 2))
        let report = try #require(part.verdicts.reports(unflagged: true).first { $0.host == client })
        #expect(report.evidence.contains { $0.kind == .dnsPoolLookup && $0.name == "pool.supportxmr.com" })
        #expect(part.stats.protocolCounts[.dnsMessages] == 1)
    }
}
