// libFuzzer harnesses for every decoder, the whole analyzer and the report renderers.
// Built only by scripts/fuzz (STRATUMSNIFF_FUZZ=1 adds this target to Package.swift), with
// `-sanitize=fuzzer,address`; FUZZ_TARGET picks the harness. A crash here is a bug in the
// project: scripts/fuzz keeps the input, and it becomes a regression test.
import CryptoP2P
import DNS
import Detection
import Foundation
import HTTP
import JSON
import PacketCapture
import PacketDecoding
import Pipeline
import PoolIntel
import Probing
import Proxy
import Reporting
import Stratum
import TLS

/// Splits fuzz bytes into (side, chunk) pieces: a byte b < 16 starts a new chunk from side b & 1.
func chunks(_ data: UnsafeRawBufferPointer) -> [(Side, UnsafeRawBufferPointer)] {
    var out: [(Side, UnsafeRawBufferPointer)] = []
    var start = 0
    var side = Side.a
    for i in 0..<data.count where data[i] < 16 && data[i] != 0x0A && data[i] != 0x0D && data[i] != 0x09 {
        out.append((side, UnsafeRawBufferPointer(rebasing: data[start..<i])))
        side = data[i] & 1 == 0 ? .a : .b
        start = i + 1
    }
    out.append((side, UnsafeRawBufferPointer(rebasing: data[start...])))
    return out
}

/// Built once: the pool list is parsed at start-up, and small caps make every cap path reachable
/// by a short input (and keep each execution cheap under AddressSanitizer).
let intel = PoolIntelligence()
let fuzzLimits: Limits = {
    var l = Limits()
    l.reassembly.maxFlows = 64
    l.reassembly.maxOutOfOrderBytes = 4096
    l.reassembly.maxReassemblyMemory = 16_384
    l.reassembly.maxDecoderMemory = 16_384
    l.fragments.maxBufferedBytes = 16_384
    l.fragments.maxDatagrams = 16
    l.hosts.maxHosts = 16
    l.hosts.maxSessions = 32
    l.hosts.maxEvidence = 32
    l.maxNameCacheEntries = 16
    l.maxHostsSeen = 32
    return l
}()

func makeAnalyzer() -> PacketPipeline { PacketPipeline(limits: fuzzLimits, intel: intel) }

/// Frames for the analyzer: [2-byte big-endian length][frame] records, link type from the first byte.
func frames(_ data: UnsafeRawBufferPointer, _ body: (Timestamp, LinkType, UnsafeRawBufferPointer, Int) -> Void) {
    guard data.count > 1 else { return }
    let links: [LinkType] = [.ethernet, .raw, .linuxSLL, .linuxSLL2, .null, .loop, .ipv4, .ipv6]
    let link = links[Int(data[0]) % links.count]
    var o = 1
    var n: Int64 = 0
    while o + 2 <= data.count {
        let len = Int(data[o]) << 8 | Int(data[o + 1])
        o += 2
        let end = min(o + len, data.count)
        // Times jump around on purpose: every 7th record far in the past or future.
        n += 1
        let t =
            n % 7 == 0
            ? Timestamp(nanoseconds: Int64(bitPattern: UInt64(len) &* 0x9E37_79B9_7F4A_7C15))
            : Timestamp(seconds: 1_700_000_000 + n)
        body(t, link, UnsafeRawBufferPointer(rebasing: data[o..<end]), len)
        o = end
    }
}

func analyze(_ data: UnsafeRawBufferPointer) -> (PacketPipeline, [HostReport]) {
    let analyzer = makeAnalyzer()
    frames(data) { analyzer.process(time: $0, linkType: $1, frame: $2, originalLength: $3) }
    _ = analyzer.snapshotChanges()
    return (analyzer, analyzer.finish())
}

/// One worker and three on the same frames, with caps small enough that a short input reaches them
/// (each shard has its share whoever holds it): the same reports, or the fuzzer has found a way to
/// make workers disagree.
func compareWorkers(_ data: UnsafeRawBufferPointer) {
    var limits = Limits()
    limits.reassembly.maxFlows = 64
    limits.reassembly.maxDecoderMemory = 64 * 1024
    limits.reassembly.maxReassemblyMemory = 64 * 1024
    limits.fragments.maxBufferedBytes = 32 * 1024
    limits.hosts.maxSessions = 64
    limits.hosts.maxEvidence = 64
    limits.hosts.maxHosts = 64
    limits.maxNameCacheEntries = 8
    limits.learnedNamePackets = 4
    let one = ParallelAnalysis(workers: 1, limits: limits, intel: intel)
    let three = ParallelAnalysis(workers: 3, limits: limits, intel: intel)
    frames(data) { t, link, frame, len in
        one.process(time: t, linkType: link, frame: frame, originalLength: len)
        three.process(time: t, linkType: link, frame: frame, originalLength: len)
    }
    let a = one.finishInput()
    let b = three.finishInput()
    func text(_ p: AnalysisPart) -> String {
        p.reports(localNets: nil).map { JSONOutput.encode(HostJSON($0), pretty: false) }.joined(separator: "\n")
            + " flows \(p.stats.reassembly.flowsCreated) expired \(p.stats.reassembly.expired) peak \(p.stats.reassembly.peakFlows)"
            + " \(p.stats.protocolCounts.byName.sorted { $0.key < $1.key }) anomalies \(p.stats.anomalies.nonZero.map { "\($0.0)=\($0.1)" })"
    }
    let x = text(a)
    let y = text(b)
    if x != y {
        FileHandle.standardError.write(Data("one analyzer:\n\(x)\nthree workers:\n\(y)\n".utf8))
        fatalError("workers disagree with one analyzer")
    }
}

func renderAll(_ reports: [HostReport], _ stats: AnalysisStats) {
    // The counters a report renders (RunSummary's full mapping lives in Sensor, which the fuzz build leaves out).
    var summary = RunSummary()
    summary.files = 1
    summary.packets = stats.packets
    summary.bytes = stats.bytes
    summary.flows = stats.reassembly.flowsCreated
    summary.anomalies = Dictionary(uniqueKeysWithValues: stats.anomalies.nonZero.map { ($0.0.rawValue, $0.1) })
    summary.first_packet = stats.firstPacket.map { TimeFormat.iso8601($0.nanoseconds) }
    summary.last_packet = stats.lastPacket.map { TimeFormat.iso8601($0.nanoseconds) }
    summary.hosts_flagged = reports.count
    _ = TableReport.render(reports, summary: summary)
    JSONOutput.writeReport(summary: summary, hosts: reports) { _ = $0 }
    for r in reports { _ = JSONOutput.encode(HostJSON(r), pretty: false) }
    let hosts = reports.map { r in
        PeriodReport.Host(
            host: HostJSON(r), first_seen: TimeFormat.iso8601(r.firstSeen?.nanoseconds ?? 0),
            last_seen: TimeFormat.iso8601(r.lastSeen?.nanoseconds ?? 0), first_flagged: nil, new_in_period: true,
            sessions: r.minerSessions.map { s in
                PeriodReport.Session(
                    pool: s.poolEndpoint, pool_name: s.summary.poolHostnames.first,
                    dialect: s.summary.dialect?.rawValue,
                    coin: s.coin, wallet: s.summary.wallets.first, software: s.summary.software,
                    first_seen: TimeFormat.iso8601(s.flowFirstSeen.nanoseconds),
                    last_seen: TimeFormat.iso8601(s.flowLastSeen.nanoseconds),
                    start_ns: s.flowFirstSeen.nanoseconds, end_ns: s.flowLastSeen.nanoseconds,
                    shares_accepted: s.summary.sharesAccepted, estimated_hashrate_hs: s.estimatedHashrate)
            })
    }
    let from = reports.compactMap(\.firstSeen).min()?.nanoseconds ?? 0
    let to = reports.compactMap(\.lastSeen).max()?.nanoseconds ?? 0
    let period = PeriodReport(
        generated: TimeFormat.iso8601(to), from: TimeFormat.iso8601(from), to: TimeFormat.iso8601(to), from_ns: from,
        to_ns: to,
        hosts: hosts, verdict_changes: [],
        capture: .init(
            runs: 1, packets: stats.packets, packets_received: nil,
            packets_dropped_by_kernel: nil, packets_dropped_by_interface: nil))
    for kind in PeriodRenderer.OutputKind.allCases { _ = PeriodRenderer.render(period, as: kind) }
}

let target = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "analyzer"
let captureFile = "/dev/shm/stratumsniff-fuzz-\(getpid()).pcap"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = UnsafeRawBufferPointer(start: start, count: count)
    switch target {
    case "json":
        _ = try? JSONParser.parse(data)
        if let v = try? JSONParser.parse(data) {
            _ = v.double
            _ = v.integer(in: 0...65535)
            _ = v.idKey
        }
    case "packet":
        let links: [LinkType] = [.ethernet, .raw, .linuxSLL, .linuxSLL2, .null, .loop, .ipv4, .ipv6, .rawDLT12]
        guard count > 0 else { return 0 }
        _ = PacketDecoder.decode(
            link: links[Int(data[0]) % links.count], frame: UnsafeRawBufferPointer(rebasing: data[1...]))
    case "stratum":
        var s = StratumSession(midStream: (count % 2 == 0, count % 3 == 0))
        var t: Int64 = 0
        for (side, c) in chunks(data) {
            t += 1_000_000_000
            _ = s.feed(c, from: side, time: Timestamp(nanoseconds: t))
            if count % 5 == 0 { s.gap(from: side) }
        }
        _ = s.summary.estimatedHashrate
        var h = StratumSession(overHTTP: true)
        _ = h.feed(data, from: .a, time: .zero)
    case "stratum-v2":
        var s = StratumV2Session()
        _ = StratumV2Session.probe(data)
        for (side, c) in chunks(data) { s.feed(c, from: side, time: .zero) }
    case "webminer":
        var w = WebMinerSession()
        for (side, c) in chunks(data) { w.handle(Array(c), from: side, time: .zero) }
    case "http":
        var p = HTTPStreamParser(requestSide: count % 2 == 0, jsonBodiesOnly: count % 3 == 0)
        var ws = WebSocketReader(maxMessage: 4096)
        for (_, c) in chunks(data) {
            p.feed(c) { _ in }
            ws.feed(c) { _, _ in }
        }
        p.end { _ in }
        _ = HTTPProbe.looksLikeRequest(data)
        _ = HTTPProbe.looksLikeResponse(data)
    case "tls":
        _ = try? ClientHello.parse(data)
        _ = try? ServerHello.parse(data)
        _ = try? LeafCertificate.parse(certificateMessage: data)
        _ = try? LeafCertificate.parse(der: data)
        var r = TLSHandshakeReader()
        r.feed(data) { type, body in
            if type == 1 { _ = try? ClientHello.parse(body) }
            if type == 11 { _ = try? LeafCertificate.parse(certificateMessage: body) }
        }
        // The record walker and the behaviour model, at times the input picks (huge and backwards too).
        var walker = TLSRecordWalker()
        var cadence = ExchangeCadence()
        var t = Int64(count) &* 1_000_000_007
        for (side, c) in chunks(data) {
            t = t &+ Int64(c.first ?? 0) &* 3_000_000_000 &- (c.count % 7 == 0 ? 500_000_000_000 : 0)
            walker.feed(c) { _, length in
                cadence.record(fromClient: side == .a, bytes: length, at: Timestamp(nanoseconds: t))
            }
        }
        // And its sums merged with themselves (a host's flows added up), saturating, never trapping.
        var measures = cadence.summary
        measures.merge(cadence.summary)
        _ = measures.failedTests
        _ = measures.isCandidate
        _ = cadence.isBulk
    case "dns":
        let parsed = try? DNSParser.parse(data)
        // The reader's outline must agree with the parse wherever both speak: the tails it hands out are
        // the parsed questions' last two labels, and "no CNAME" means none among the parsed answers.
        var tails: [String] = []
        let cnames = DNSParser.outline(data) { tails.append(String(decoding: $0, as: UTF8.self)) }
        if let cnames, let parsed {
            let expected = parsed.questions.map { $0.name.split(separator: ".").suffix(2).joined(separator: ".") }
            precondition(tails == expected, "outline tails \(tails) != parsed \(expected)")
            precondition(cnames || !parsed.answers.contains { $0.type == .cname }, "outline missed a CNAME")
        }
        var f = DNSTCPFramer()
        f.feed(data) { _ = try? DNSParser.parse($0) }
    case "socks":
        // Both directions of a SOCKS opening, chunked: the first byte of a chunk marker picks the side.
        var h = SOCKSHandshake()
        _ = SOCKSHandshake.looksLikeRequest(data)
        for (side, c) in chunks(data) { h.feed(c, fromClient: side == .a) }
        _ = h.target
    case "p2p":
        _ = PeerProtocols.bitcoin(data)
        _ = PeerProtocols.levin(data)
        _ = PeerProtocols.discoveryV4(data)
    case "capture":
        // The capture reader: the bytes as a pcap or pcapng file, read through libpcap into the analyzer.
        guard FileManager.default.createFile(atPath: captureFile, contents: Data(data)) else { return 0 }
        guard let source = try? PcapFileSource(path: captureFile) else { return 0 }
        let a = makeAnalyzer()
        try? source.forEachPacket { p in
            a.process(time: p.timestamp, linkType: p.linkType, frame: p.bytes, originalLength: p.originalLength)
        }
        renderAll(a.finish(), a.statistics)
    case "report":
        // Renderers fed hostile records: the analyzer's output on the frames, every format.
        let (a, reports) = analyze(data)
        renderAll(reports, a.statistics)
    case "workers":
        compareWorkers(data)
    case "probe":
        // A server's answer to the probe, for every dialect, read as it arrives (every prefix the
        // reads could end at) and as a whole; then every output of the result.
        let bytes = Array(data)
        for dialect in ProbeDialect.allCases {
            for end in stride(from: 0, through: bytes.count, by: max(1, bytes.count / 8)) {
                _ = ProbeAssessment.assess(dialect, received: Array(bytes[..<end]), complete: false)
            }
            let assessment = ProbeAssessment.assess(dialect, received: bytes, complete: true, closed: count % 2 == 0)
            var result = ProbeResult(host: "192.0.2.1", port: 3333, started: 1_700_000_000)
            var attempt = ProbeAttempt(dialect: dialect, tls: count % 3 == 0, sni: nil)
            attempt.assessment = assessment
            result.attempts = [attempt]
            switch assessment {
            case .pool(let answer): result.conclusion = .pool(answer)
            case .refused(let why): result.conclusion = .unconfirmed(why)
            case .other(let reply): result.conclusion = .notPool(reply)
            case .needMore: result.conclusion = .notPool(ServerReply(.silence))
            }
            result.certificate = CertificateFacts(der: bytes)
            _ = ProbeTable.render(result)
            _ = JSONOutput.encode(ProbeJSON(result), pretty: false)
            _ = result.sentence
        }
        // Stratum V2: the input as the responder's handshake answer (any 64 bytes decode to a point),
        // then as frames a pool seals on an established channel (so the reading past the tags is reached).
        // (one in 16 inputs: the scalar multiplication behind it is slow under ASan)
        if count % 16 == 0 { _ = fuzzHandshake.finish(bytes) }
        var server = NoiseSession.fuzzing(serverSide: true)
        var client = NoiseSession.fuzzing(serverSide: false)
        var sealed: [UInt8] = []
        var rest = bytes[...]
        while let type = rest.first {
            let length =
                rest.count >= 3 ? Int(rest[rest.startIndex + 1]) | Int(rest[rest.startIndex + 2] & 0x1F) << 8 : 0
            let payload = Array(rest.dropFirst(3).prefix(length))
            sealed += server.seal(type: type, payload: payload)
            rest = rest.dropFirst(3 + payload.count)
        }
        for end in [sealed.count / 2, sealed.count] {
            if case .frames(let frames) = client.open(sealed.prefix(end), maxPayload: 4096) {
                _ = StratumV2Probe.assess(frames, complete: end == sealed.count, session: client)
            }
        }
        _ = client.open(bytes[...])
        client.serverKey = ""
    default:  // "analyzer"
        _ = analyze(data)
    }
    return 0
}

// SwiftPM links an executable's entry point as `<target>_main`; hand it to libFuzzer's driver
// (libFuzzer's own `main` is not used).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("fuzz_stratumsniff_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var c = argc
    var v: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&c, &v) { fuzz($0, $1) }
}

/// One probe hello for the whole run: making a key costs a scalar multiplication, the reading is what is fuzzed.
let fuzzHandshake = NoiseHandshake()
