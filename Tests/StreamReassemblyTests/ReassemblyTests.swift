import PacketDecoding
import Testing

@testable import StreamReassembly

/// Collects a half-stream's events as text: data bytes, "<gap n>", "<end>".
private struct Recorder {
    var bytes: [UInt8] = []
    var gaps: [Int] = []
    var ended = false
    mutating func take(_ e: StreamEvent) {
        switch e {
        case .data(let b), .datagram(let b): bytes += b
        case .gap(let n): gaps.append(n)
        case .end: ended = true
        }
    }
}

private func feed(
    _ half: inout TCPHalfStream, _ rec: inout Recorder, seq: UInt32, _ text: String, syn: Bool = false,
    fin: Bool = false,
    limits: ReassemblyLimits = ReassemblyLimits()
) {
    Array(text.utf8).withUnsafeBytes { buf in
        half.segment(seq: seq, syn: syn, fin: fin, payload: buf, limits: limits) { rec.take($0) }
    }
}

@Suite struct TCPHalfStreamTests {
    @Test func inOrderAfterSYN() {
        var h = TCPHalfStream()
        var r = Recorder()
        feed(&h, &r, seq: 100, "", syn: true)
        feed(&h, &r, seq: 101, "abc")
        feed(&h, &r, seq: 104, "def", fin: true)
        #expect(String(decoding: r.bytes, as: UTF8.self) == "abcdef")
        #expect(r.ended && r.gaps.isEmpty)
    }

    @Test func outOfOrderReleasedWhenHoleFills() {
        var h = TCPHalfStream()
        var r = Recorder()
        feed(&h, &r, seq: 0, "", syn: true)
        feed(&h, &r, seq: 7, "ghi")
        feed(&h, &r, seq: 4, "def")
        #expect(r.bytes.isEmpty)
        #expect(h.bufferedBytes == 6 + 2 * TCPHalfStream.segmentOverhead)  // charged as allocated
        feed(&h, &r, seq: 1, "abc")
        #expect(String(decoding: r.bytes, as: UTF8.self) == "abcdefghi")
        #expect(h.bufferedBytes == 0)
    }

    /// Two buffered versions of the same bytes are counted (an evasion: the sensor and the receiver
    /// may pick different ones); the same bytes twice are an ordinary retransmission.
    @Test func conflictingOverlapsAreCounted() {
        var h = TCPHalfStream()
        var r = Recorder()
        feed(&h, &r, seq: 0, "", syn: true)
        feed(&h, &r, seq: 5, "efgh")  // bytes 5-8
        feed(&h, &r, seq: 7, "ghij")  // agrees on 7-8
        #expect(h.counters.overlapConflicts == 0)
        feed(&h, &r, seq: 3, "cdXf")  // disagrees on 6 ('X' against 'f')
        #expect(h.counters.overlapConflicts == 1)
        feed(&h, &r, seq: 9, "iZ")  // disagrees on 10 ('Z' against 'j'), lies inside an earlier copy
        #expect(h.counters.overlapConflicts == 2)
        feed(&h, &r, seq: 1, "ab")
        // As documented: among buffered segments the one starting earliest wins.
        #expect(String(decoding: r.bytes, as: UTF8.self) == "abcdXfghij")
    }

    @Test func retransmissionsAndOverlapsKeepFirstCopy() {
        var h = TCPHalfStream()
        var r = Recorder()
        feed(&h, &r, seq: 0, "", syn: true)
        feed(&h, &r, seq: 1, "abcd")
        feed(&h, &r, seq: 1, "abcd")  // exact retransmission
        feed(&h, &r, seq: 3, "XXef")  // overlaps delivered "cd": old bytes win
        feed(&h, &r, seq: 9, "ij")
        feed(&h, &r, seq: 9, "ZZ")  // duplicate of a buffered segment: first copy wins
        feed(&h, &r, seq: 7, "gh")
        #expect(String(decoding: r.bytes, as: UTF8.self) == "abcdefghij")
        #expect(h.counters.retransmittedSegments >= 2)
    }

    @Test func sequenceWraparound() {
        var h = TCPHalfStream()
        var r = Recorder()
        let isn = UInt32.max - 2
        feed(&h, &r, seq: isn, "", syn: true)
        feed(&h, &r, seq: isn &+ 1, "ab")
        feed(&h, &r, seq: isn &+ 5, "ef")  // after the wrap, out of order
        feed(&h, &r, seq: isn &+ 3, "cd")  // crosses 2^32
        #expect(String(decoding: r.bytes, as: UTF8.self) == "abcdef")
    }

    @Test func midStreamPickup() {
        var h = TCPHalfStream()
        var r = Recorder()
        feed(&h, &r, seq: 5_000_000, "middle")
        feed(&h, &r, seq: 5_000_006, " end")
        #expect(h.startedMidStream)
        #expect(String(decoding: r.bytes, as: UTF8.self) == "middle end")
    }

    @Test func peerAckBeyondHoleIsAGap() {
        var h = TCPHalfStream()
        var r = Recorder()
        feed(&h, &r, seq: 0, "", syn: true)
        feed(&h, &r, seq: 1, "abc")
        feed(&h, &r, seq: 10, "jkl")  // 4..<10 lost by the capture
        h.peerAcknowledged(13, limits: ReassemblyLimits()) { r.take($0) }
        #expect(r.gaps == [6])
        #expect(String(decoding: r.bytes, as: UTF8.self) == "abcjkl")
    }

    @Test func outOfOrderCapFlushesAsGap() {
        var limits = ReassemblyLimits()
        limits.maxOutOfOrderBytes = 8
        var h = TCPHalfStream()
        var r = Recorder()
        feed(&h, &r, seq: 0, "", syn: true, limits: limits)
        feed(&h, &r, seq: 11, "klmno", limits: limits)
        feed(&h, &r, seq: 21, "uvwxy", limits: limits)  // would exceed 8 buffered bytes
        #expect(r.gaps.first == 10)
        #expect(h.bufferedBytes <= 8)
        #expect(String(decoding: r.bytes, as: UTF8.self).hasPrefix("klmno"))
    }

    @Test func flushDeliversHolesAsGapsThenEnd() {
        var h = TCPHalfStream()
        var r = Recorder()
        feed(&h, &r, seq: 0, "", syn: true)
        feed(&h, &r, seq: 5, "efg")
        h.flush(limits: ReassemblyLimits()) { r.take($0) }
        #expect(r.gaps == [4])
        #expect(r.ended)
        #expect(String(decoding: r.bytes, as: UTF8.self) == "efg")
    }

    @Test func depthCapStopsDelivery() {
        var limits = ReassemblyLimits()
        limits.maxDepth = 5
        var h = TCPHalfStream()
        var r = Recorder()
        feed(&h, &r, seq: 0, "", syn: true, limits: limits)
        feed(&h, &r, seq: 1, "abcdefgh", limits: limits)
        feed(&h, &r, seq: 9, "ijk", limits: limits)
        #expect(String(decoding: r.bytes, as: UTF8.self) == "abcde")
        #expect(h.counters.depthCapHits == 1)
    }

    @Test(arguments: [(UInt32(1), UInt32(2), true), (UInt32.max, 0, true), (0, UInt32.max, false), (5, 5, false)])
    func sequenceComparison(a: UInt32, b: UInt32, less: Bool) {
        #expect((SequenceNumber(a) < SequenceNumber(b)) == less)
    }
}

/// A handler that records what each flow receives and can bypass on demand.
private struct RecordingHandler: FlowHandler {
    var bypassAfterFirstData = false
    /// Bytes each flow claims to hold in its decoders (for the decoder budget).
    var holdsPerFlow = 0
    func bufferedBytes(_ flow: FlowState<Int>) -> Int { holdsPerFlow }
    var ended: [FlowEndReason] = []
    var delivered = 0
    func startFlow(_ flow: FlowState<Int>) -> Int { 0 }
    mutating func deliver(_ event: StreamEvent, direction: FlowDirection, flow: FlowState<Int>, time: Timestamp)
        -> StreamDecision
    {
        if case .data(let b) = event {
            delivered += b.count
            flow.app += b.count
            if bypassAfterFirstData { return .bypass }
        }
        return .continue
    }
    var endedSources: [IPAddress] = []
    mutating func endFlow(_ flow: FlowState<Int>, reason: FlowEndReason, time: Timestamp) {
        ended.append(reason)
        endedSources.append(flow.key.low.address)
    }
}

private func packet(_ i: Int, payload: Range<Int>, seq: UInt32 = 1, flags: TCPFlags = [.ack, .psh]) -> DecodedPacket {
    DecodedPacket(
        vlanID: 0, src: .v4(0x0A00_0000 + UInt32(i)), dst: .v4(0x0A01_0001), ipProtocol: .tcp,
        transport: .tcp(TCPHeader(srcPort: 1000, dstPort: 80, seq: seq, ack: 0, flags: flags, window: 0)),
        payload: payload, truncated: false)
}

@Suite struct FlowTableTests {
    let buffer = [UInt8](repeating: 0x41, count: 64)

    @Test func bypassedFlowsStopDelivering() {
        var table = FlowTable<RecordingHandler>()
        var h = RecordingHandler(bypassAfterFirstData: true)
        buffer.withUnsafeBytes { buf in
            for k in 0..<5 {
                table.process(
                    packet(1, payload: 0..<10, seq: UInt32(1 + 10 * k)), in: buf, time: Timestamp(seconds: 1),
                    handler: &h)
            }
        }
        #expect(h.delivered == 10)
        #expect(table.stats.bypassedFlows == 1 && table.stats.bypassedPackets == 4)
    }

    @Test func oldestFlowIsEvictedAtTheCap() {
        var limits = ReassemblyLimits()
        limits.maxFlows = 3
        var table = FlowTable<RecordingHandler>(limits: limits)
        var h = RecordingHandler()
        buffer.withUnsafeBytes { buf in
            for i in 0..<5 {
                table.process(packet(i, payload: 0..<4), in: buf, time: Timestamp(seconds: Int64(i)), handler: &h)
            }
        }
        #expect(table.count == 3)
        #expect(table.stats.evictions == 2)
        #expect(h.ended == [.evicted, .evicted])
    }

    /// Activity moves a flow to the head of its LRU list: at the cap the least recently *active*
    /// flow goes, not the oldest; idle expiry takes flows in the order they went quiet.
    @Test func activityKeepsAFlowFromEvictionAndExpiry() {
        var limits = ReassemblyLimits()
        limits.maxFlows = 3
        var table = FlowTable<RecordingHandler>(limits: limits)
        var h = RecordingHandler()
        buffer.withUnsafeBytes { buf in
            for i in 0..<3 {
                table.process(packet(i, payload: 0..<4), in: buf, time: Timestamp(seconds: Int64(i)), handler: &h)
            }
            // flow 0 active again
            table.process(packet(0, payload: 0..<4, seq: 5), in: buf, time: Timestamp(seconds: 3), handler: &h)
            // evicts flow 1
            table.process(packet(3, payload: 0..<4), in: buf, time: Timestamp(seconds: 4), handler: &h)
            // flow 2 active again
            table.process(packet(2, payload: 0..<4, seq: 5), in: buf, time: Timestamp(seconds: 5), handler: &h)
            // evicts flow 0
            table.process(packet(4, payload: 0..<4), in: buf, time: Timestamp(seconds: 6), handler: &h)
        }
        #expect(h.ended == [.evicted, .evicted])
        #expect(h.endedSources == [.v4(0x0A00_0001), .v4(0x0A00_0000)])
        // Idle expiry: flows 3, 2, 4 went quiet at 4, 5, 6 s; all expire, in that order.
        buffer.withUnsafeBytes { buf in
            table.process(packet(9, payload: 0..<4), in: buf, time: Timestamp(seconds: 100_000), handler: &h)
        }
        #expect(h.endedSources.dropFirst(2) == [.v4(0x0A00_0003), .v4(0x0A00_0002), .v4(0x0A00_0004)])
        #expect(table.count == 1)
    }

    @Test func idleFlowsExpireOnPacketTime() {
        var table = FlowTable<RecordingHandler>()
        var h = RecordingHandler()
        buffer.withUnsafeBytes { buf in
            table.process(packet(1, payload: 0..<4), in: buf, time: Timestamp(seconds: 0), handler: &h)
            table.process(packet(2, payload: 0..<4), in: buf, time: Timestamp(seconds: 10_000), handler: &h)
        }
        #expect(h.ended == [.idle])
        #expect(table.count == 1)
    }

    @Test func resetClosesTheFlow() {
        var table = FlowTable<RecordingHandler>()
        var h = RecordingHandler()
        buffer.withUnsafeBytes { buf in
            table.process(packet(1, payload: 0..<4), in: buf, time: Timestamp(seconds: 0), handler: &h)
            table.process(
                packet(1, payload: 4..<4, seq: 5, flags: [.rst]), in: buf, time: Timestamp(seconds: 1), handler: &h)
            table.process(packet(9, payload: 0..<4), in: buf, time: Timestamp(seconds: 20), handler: &h)
        }
        #expect(h.ended == [.closed])
    }

    /// The global reassembly budget: many flows each holding out-of-order data cannot hold more
    /// than `maxReassemblyMemory` together; the direction that would exceed it gives up its hole.
    @Test func outOfOrderDataAcrossFlowsStaysWithinTheGlobalBudget() {
        var limits = ReassemblyLimits()
        limits.maxReassemblyMemory = 10_000
        var table = FlowTable<RecordingHandler>(limits: limits)
        var h = RecordingHandler()
        let big = [UInt8](repeating: 0x41, count: 1400)
        big.withUnsafeBytes { buf in
            for i in 0..<50 {
                table.process(
                    packet(i, payload: 0..<0, seq: 0, flags: [.syn]), in: buf, time: Timestamp(seconds: 1), handler: &h)
                // a hole at 1..<1401, then data behind it
                for k in 1...4 {
                    table.process(
                        packet(i, payload: 0..<1400, seq: UInt32(1 + 1400 * k)), in: buf, time: Timestamp(seconds: 1),
                        handler: &h)
                }
                #expect(table.stats.reassemblyMemory <= limits.maxReassemblyMemory)
            }
        }
        #expect(table.stats.reassemblyMemoryCapHits > 0)
        #expect(table.stats.peakReassemblyMemory <= limits.maxReassemblyMemory)
        #expect(h.delivered > 0, "data given up on is delivered after a gap, not lost")
    }

    /// One-byte segments are charged what they cost: a direction holds few of them, and inserting
    /// thousands stays cheap (bounded count, binary search).
    @Test func tinySegmentFloodIsChargedItsRealCost() {
        var half = TCPHalfStream()
        var r = Recorder()
        feed(&half, &r, seq: 0, "", syn: true)
        let limits = ReassemblyLimits()
        for k in stride(from: 200_000, to: 2, by: -2) { feed(&half, &r, seq: UInt32(k), "x", limits: limits) }
        #expect(half.bufferedBytes <= limits.maxOutOfOrderBytes)
        #expect(
            half.bufferedBytes / (1 + TCPHalfStream.segmentOverhead) <= limits.maxOutOfOrderBytes
                / TCPHalfStream.segmentOverhead)
    }

    /// Memory held by flows is released when they leave the table.
    @Test func memoryIsReturnedWhenFlowsEnd() {
        var table = FlowTable<RecordingHandler>()
        var h = RecordingHandler()
        buffer.withUnsafeBytes { buf in
            table.process(
                packet(1, payload: 0..<0, seq: 0, flags: [.syn]), in: buf, time: Timestamp(seconds: 1), handler: &h)
            table.process(packet(1, payload: 0..<10, seq: 100), in: buf, time: Timestamp(seconds: 1), handler: &h)
            #expect(table.stats.reassemblyMemory == 10 + TCPHalfStream.segmentOverhead)
            table.finishAll(handler: &h)
        }
        #expect(table.stats.reassemblyMemory == 0)
    }

    /// Time before 1970 is time like any other: flows are not all expired at once.
    @Test func packetsBefore1970DoNotExpireEveryFlow() {
        var table = FlowTable<RecordingHandler>()
        var h = RecordingHandler()
        buffer.withUnsafeBytes { buf in
            for i in 0..<3 {
                table.process(
                    packet(i, payload: 0..<4), in: buf, time: Timestamp(seconds: -1_000_000 + Int64(i)), handler: &h)
            }
        }
        #expect(h.ended.isEmpty)
        #expect(table.count == 3)
    }

    /// The decoder budget ends the least recently active flows first: a flood of idle flows goes,
    /// the flow that keeps talking stays.
    @Test func decoderBudgetEvictsTheLeastRecentlyActive() {
        var limits = ReassemblyLimits()
        limits.maxDecoderMemory = 10 * 1000
        var table = FlowTable<RecordingHandler>(limits: limits)
        var h = RecordingHandler(holdsPerFlow: 1000)
        buffer.withUnsafeBytes { buf in
            for i in 0..<100 {
                table.process(
                    packet(i + 1, payload: 0..<4, seq: UInt32(1)), in: buf, time: Timestamp(seconds: Int64(i)),
                    handler: &h)
                // the miner (flow 0) talks every tenth packet
                if i % 5 == 0 {
                    table.process(
                        packet(0, payload: 0..<4, seq: UInt32(1 + 4 * i)), in: buf, time: Timestamp(seconds: Int64(i)),
                        handler: &h)
                }
                #expect(table.stats.decoderMemory <= limits.maxDecoderMemory)
            }
        }
        #expect(table.count <= 10)
        #expect(
            table.flow(
                FlowKey.of(
                    src: Endpoint(address: .v4(0x0A00_0000), port: 1000),
                    dst: Endpoint(address: .v4(0x0A01_0001), port: 80),
                    ipProtocol: .tcp, vlanID: 0
                ).0) != nil, "the active flow survived")
        #expect(table.stats.decoderMemoryCapHits > 0)
    }
}

/// FlowKey's packed hash (one word for the ports, protocol and VLAN, one per address pair) keeps
/// Hashable's contract: equal keys hash equally, and every field still separates keys in a table.
@Suite struct FlowKeyHashTests {
    func key(_ a: String, _ pa: UInt16, _ b: String, _ pb: UInt16, proto: UInt8 = 6, vlan: UInt16 = 0) -> FlowKey {
        FlowKey.of(
            src: Endpoint(address: IPAddress(a)!, port: pa), dst: Endpoint(address: IPAddress(b)!, port: pb),
            ipProtocol: IPProtocol(rawValue: proto), vlanID: vlan
        ).0
    }

    @Test func equalKeysHashEquallyWhicheverDirection() {
        for (a, b) in [("10.0.0.1", "192.0.2.7"), ("2001:db8::1", "2001:db8::2"), ("10.0.0.1", "2001:db8::2")] {
            #expect(key(a, 40000, b, 3333).hashValue == key(b, 3333, a, 40000).hashValue)
        }
    }

    @Test func everyFieldSeparatesKeys() {
        var keys = Set<FlowKey>()
        for port in UInt16(1)...200 {
            keys.insert(key("10.0.0.1", port, "192.0.2.7", 3333))
            keys.insert(key("10.0.0.1", 40000, "192.0.2.7", port))
            keys.insert(key("10.0.0.\(port)", 40000, "192.0.2.7", 3333))
            keys.insert(key("10.0.0.1", 40000, "192.0.2.7", 3333, proto: UInt8(port % 256)))
            keys.insert(key("10.0.0.1", 40000, "192.0.2.7", 3333, vlan: port))
            keys.insert(key("::ffff:\(port)", 40000, "2001:db8::7", 3333))
            keys.insert(key("10.0.0.1", 40000, "2001:db8::\(port)", 3333))
        }
        // 7 × 200 insertions, minus the keys that coincide (port 3333/40000 overlaps, proto 6, vlan 0 …).
        #expect(keys.count >= 7 * 200 - 10)
        // And every field reaches the hash: distinct keys, distinct 64-bit hash values.
        #expect(Set(keys.map(\.hashValue)).count == keys.count)
        #expect(keys.contains(key("10.0.0.1", 40000, "2001:db8::17", 3333)))
        #expect(!keys.contains(key("10.0.0.1", 40001, "2001:db8::17", 3333)))
        // The flow table's own hash too: every field reaches it, equal keys agree, and the index's
        // bits (the low ones) take every field as well.
        let hasher = FlowHasher()
        #expect(Set(keys.map { hasher.hash($0) }).count == keys.count)
        #expect(Set(keys.map { hasher.hash($0) & 0xFFFF_FFFF }).count >= keys.count - 1)
        #expect(
            hasher.hash(key("10.0.0.1", 40000, "192.0.2.7", 3333))
                == hasher.hash(key("192.0.2.7", 3333, "10.0.0.1", 40000)))
    }

    /// The seed decides the hash: keys that collide under one seed do not under another.
    @Test func theSeedDecides() {
        let a = FlowHasher(seed: (1, 2, 3))
        let b = FlowHasher(seed: (1, 2, 3))
        let c = FlowHasher()
        let k = key("10.0.0.1", 40000, "192.0.2.7", 3333)
        #expect(a.hash(k) == b.hash(k))
        #expect(a.hash(k) != c.hash(k))
    }
}

/// An attacker who learned (or guessed) the index's seed sends keys that all start their lookups in
/// one place: the table notices the run, draws a new seed and scatters them, and every flow is
/// still found — the flood costs one rebuild, not a linear search per packet.
@Suite struct FlowTableSeedTests {
    @Test func keysAimedAtOneProbeSequenceMakeTheTableReseed() throws {
        var limits = ReassemblyLimits()
        limits.maxFlows = 512  // an index of 1 024 entries
        let seed: (UInt64, UInt64, UInt64) = (0x1234_5678_9ABC_DEF0, 0x0FED_CBA9_8765_4321, 0xDEAD_BEEF_CAFE_F00D)
        let known = FlowHasher(seed: seed)
        // Flows from one client's ports whose hash's index bits all name entry 0 under the known seed.
        var aimed: [UInt16] = []
        var port: UInt16 = 1
        while aimed.count < 300 && port < UInt16.max {
            let k = FlowKey.of(
                src: Endpoint(address: .v4(0x0A00_0001), port: port),
                dst: Endpoint(address: .v4(0xC633_6401), port: 3333),
                ipProtocol: .tcp, vlanID: 0
            ).0
            if known.hash(k) & 1023 < 8 { aimed.append(port) }
            port += 1
        }
        try #require(aimed.count == 300)
        var table = FlowTable<RecordingHandler>(limits: limits, seed: seed)
        var h = RecordingHandler()
        let buffer = [UInt8](repeating: 0x41, count: 16)
        func send(_ p: UInt16, _ seq: UInt32, _ buf: UnsafeRawBufferPointer) {
            let pkt = DecodedPacket(
                vlanID: 0, src: .v4(0x0A00_0001), dst: .v4(0xC633_6401), ipProtocol: .tcp,
                transport: .tcp(TCPHeader(srcPort: p, dstPort: 3333, seq: seq, ack: 0, flags: [.ack, .psh], window: 0)),
                payload: 0..<4, truncated: false)
            table.process(pkt, in: buf, time: Timestamp(seconds: 1), handler: &h)
        }
        buffer.withUnsafeBytes { buf in
            for p in aimed { send(p, 1, buf) }
            for p in aimed { send(p, 5, buf) }  // a second packet each: found, not a new flow
        }
        #expect(table.stats.hashReseeds == 1)
        #expect(table.stats.flowsCreated == 300 && table.count == 300)
        #expect(h.delivered == 300 * 8)
        for p in aimed {
            let k = FlowKey.of(
                src: Endpoint(address: .v4(0x0A00_0001), port: p), dst: Endpoint(address: .v4(0xC633_6401), port: 3333),
                ipProtocol: .tcp, vlanID: 0
            ).0
            #expect(table.flow(k)?.packets.0 == 2 || table.flow(k)?.packets.1 == 2)
        }
    }
}

/// The flow table's open-addressing index against a plain dictionary, through random inserts and
/// removals (backward-shift deletion is where such tables go wrong), including forced collisions.
@Suite struct FlowIndexTests {
    func key(_ i: Int) -> FlowKey {
        FlowKey.of(
            src: Endpoint(address: .v4(UInt32(0x0A00_0000 + i)), port: UInt16(1000 + i % 50_000)),
            dst: Endpoint(address: .v4(0xC633_6401), port: 3333), ipProtocol: .tcp, vlanID: 0
        ).0
    }

    @Test(arguments: [false, true])
    func agreesWithADictionary(colliding: Bool) {
        var index = FlowIndex(capacity: 4)
        var keys: [Int32: FlowKey] = [:]  // slot → key (what the table's slots hold)
        var hashes: [Int32: UInt64] = [:]
        var model: [FlowKey: Int32] = [:]
        var rng = SystemRandomNumberGenerator()
        var next: Int32 = 0
        // Colliding: only 8 distinct low bits among all hashes, so runs are long and wrap around.
        let hasher = FlowHasher()
        func hash(_ k: FlowKey) -> UInt64 {
            let h = hasher.hash(k)
            return colliding ? (h & ~0xFFFF_FFFF) | (h & 7) | 0x7FF8 : h
        }
        for step in 0..<20_000 {
            if model.isEmpty || Int.random(in: 0..<3, using: &rng) > 0 {
                let k = key(Int.random(in: 0..<4_000, using: &rng))
                guard model[k] == nil else { continue }
                let slot = next
                next += 1
                keys[slot] = k
                hashes[slot] = hash(k)
                model[k] = slot
                index.insert(hash: hash(k), slot: slot)
            } else {
                let (k, slot) = model.randomElement(using: &rng)!
                index.remove(hash: hashes[slot]!, slot: slot)
                model[k] = nil
                keys[slot] = nil
            }
            if step % 97 == 0 {
                #expect(index.count == model.count)
                for probe in 0..<4_000 where probe % 7 == step % 7 {
                    let k = key(probe)
                    #expect(index.find(k, hash: hash(k)) { keys[$0]! } == model[k])
                }
            }
        }
    }
}
