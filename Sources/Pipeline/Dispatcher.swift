import Detection
import PacketDecoding
import StreamReassembly

/// A flow's analysis state, kept inside the flow.
struct FlowApp {
    /// The analyzer that took the flow: nil while no probe has decided, and once the flow is
    /// opaque (nothing claimed it, or its analyzer was done with it).
    var analyzer: (any FlowAnalyzer)?
    /// Whether the table has placed the flow (a probe may ask for more data first).
    var decided = false
    /// What the server was known as when the flow began (a listed name or address) — or, through
    /// a proxy, what the tunnel's target is known as.
    var hint: PoolHint?
    /// The proxy tunnel the stream turned into, if one did.
    var tunnel: Tunnel?
    /// What the server came to be known as while the flow went on (looked up when findings are made):
    /// used only where neither the flow's start nor the flow itself named it.
    var laterHint: PoolHint?
    /// Live workers: this open flow's findings are published in the shared table.
    var published = false
    /// What the published copy costs (`SharedVerdicts.OpenFindings.cost`), charged with the analyzer's.
    var publishedBytes = 0
}

/// Routes reassembled streams to the analyzers and what they found to detection — and nothing
/// else: every protocol's policy lives in its analyzer (`Analyzers/`), their order in `AnalyzerTable`.
///
/// A TCP flow's first payload picks its analyzer; a flow nothing claims is bypassed at once and
/// costs one table lookup per packet from then on, keeping its packet and byte counters. A UDP
/// datagram goes to the table's first datagram analyzer that claims it, judged on its own.
struct Dispatcher: FlowHandler {
    let runState: RunState
    /// What the reader did with the datagram being processed: saw it whole (with what it made of it,
    /// `DatagramNote`), or never saw it because it was put together from IP fragments here. Set by
    /// `PacketPath` for that call.
    var reader = ReaderPass.seen(note: nil)
    /// The packet being processed (or the whole second, or the end of input): the place name lookups
    /// are made at, however far back the flow they are for last saw a packet. Set by `PacketPath`.
    var progress = InputPoint.start

    func startFlow(_ flow: FlowState<FlowApp>) -> FlowApp {
        runState.openFlows?.add(flow)
        var app = FlowApp()
        app.hint = runState.hint(
            for: flow.key.destination(flow.initiator), asOf: InputPoint(seq: flow.firstSeq, clock: flow.firstSeen))
        return app
    }

    func deliver(_ event: StreamEvent, direction: FlowDirection, flow: FlowState<FlowApp>, time: Timestamp)
        -> StreamDecision
    {
        // The flow's latest packet (`FlowContext.point`), not whichever packet is being handled: data
        // flushed when a flow ends belongs to the flow's last packet, however late the table noticed.
        let context = FlowContext(flow: flow, shared: runState, time: time, progress: progress)
        switch event {
        case .data(let bytes):
            return data(bytes, direction: direction, context)
        case .gap(let count):
            guard let analyzer = flow.app.analyzer else { return flow.app.decided ? .bypass : .continue }
            return apply(analyzer.gap(count, direction: direction, flow: context), context)
        case .datagram(let bytes):
            let src = flow.key.source(direction)
            let dst = flow.key.destination(direction)
            guard let analyzer = AnalyzerTable.datagramAnalyzer(sourcePort: src.port, destinationPort: dst.port) else {
                return .bypass
            }
            return analyzer.datagram(
                bytes, from: src, to: dst, flow: context, reader: reader)
                ? .continue : .bypass
        case .end:
            flow.app.analyzer?.end(direction: direction, flow: context)
            return .continue
        }
    }

    private func data(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, _ context: FlowContext)
        -> StreamDecision
    {
        let flow = context.flow
        if !flow.app.decided {
            let (analyzer, undecided) = AnalyzerTable.probe(bytes, direction: direction, flow: context)
            if undecided { return .continue }
            flow.app.decided = true
            flow.app.analyzer = analyzer
        }
        guard let analyzer = flow.app.analyzer else { return .bypass }
        return apply(analyzer.deliver(bytes, direction: direction, flow: context), context)
    }

    private func apply(_ decision: AnalyzerDecision, _ context: FlowContext) -> StreamDecision {
        let flow = context.flow
        switch decision {
        case .keep: return .continue
        case .bypass: return .bypass
        case .done:
            flow.app.analyzer = nil
            return .bypass
        case .tunnel(let inner, let pending):
            // A tunnel in a tunnel (a chain of proxies): the innermost target is where the stream
            // goes, the route says every hop ("HTTP CONNECT → SOCKS5"). A chain longer than
            // `Tunnel.maxHops` is not followed.
            var tunnel = inner
            if let outer = flow.app.tunnel {
                guard outer.hops < Tunnel.maxHops else { return .bypass }
                tunnel = Tunnel(
                    route: ProxyRoute(
                        kind: outer.route.kind + ProxyRoute.hopSeparator + inner.route.kind, target: inner.route.target),
                    host: inner.host, address: inner.address, port: inner.port)
            }
            flow.app.tunnel = tunnel
            flow.app.hint = tunnel.hint(runState, asOf: context.point, at: progress)
            flow.app.analyzer = nil
            flow.app.decided = false
            var last = StreamDecision.continue
            for (direction, bytes) in pending where last == .continue {
                last = bytes.withUnsafeBytes { data($0, direction: direction, context) }
            }
            return last
        }
    }

    // MARK: - Memory budget

    func bufferedBytes(_ flow: FlowState<FlowApp>) -> Int {
        (flow.app.analyzer?.bufferedBytes ?? 0) + flow.app.publishedBytes
    }

    /// The decoder budget ran out while this flow held some of it (see `FlowAnalyzer.shed`).
    func shed(_ flow: FlowState<FlowApp>) -> Bool { flow.app.analyzer?.shed() ?? true }

    // MARK: - Flow end

    func endFlow(_ flow: FlowState<FlowApp>, reason: FlowEndReason, time: Timestamp) {
        runState.openFlows?.remove(flow)
        runState.saw(flow.key.low.address, from: flow.firstSeen, to: flow.lastSeen)
        runState.saw(flow.key.high.address, from: flow.firstSeen, to: flow.lastSeen)
        let point = InputPoint(seq: flow.lastSeq, clock: flow.lastSeen)
        if flow.app.published {
            runState.shared?.close(SharedVerdicts.FlowID(worker: runState.worker, origin: flow.firstSeq))
        }
        let found = findings(flow, reason: SessionEndReason(reason), final: true)
        for r in found.sessions { runState.add(r, asOf: point, origin: flow.firstSeq, at: progress) }
        if found.identifiedSession, let r = found.sessions.last {
            // Stamped with the session's last packet, not the packet (or tick) that found it idle.
            runState.onEvent?(
                AnalysisEvent(
                    time: flow.lastSeen, kind: .sessionEnded(reason: reason.rawValue), session: r,
                    policy: runState.verdicts.policy, seq: flow.lastSeq))
        }
        for e in found.evidence { runState.add(e, at: point, origin: flow.firstSeq) }
    }

    /// What a flow has shown so far (see `FlowAnalyzer.findings`). A flow no analyzer kept can still
    /// be a TCP connection to a server known as a pool.
    func findings(_ flow: FlowState<FlowApp>, reason: SessionEndReason, final: Bool) -> Findings {
        // A name learned while the flow went on (a DNS answer a slower live worker took in after this
        // flow's first packet; a lookup after the connection) still names its server, as of its last packet.
        if flow.app.hint == nil && flow.app.tunnel == nil {
            flow.app.laterHint = runState.hint(
                for: flow.key.destination(flow.initiator), asOf: InputPoint(seq: flow.lastSeq, clock: flow.lastSeen),
                at: progress)
        }
        let context = FlowContext(flow: flow, shared: runState, time: flow.lastSeen, progress: progress)
        if let analyzer = flow.app.analyzer { return analyzer.findings(flow: context, reason: reason, final: final) }
        return Findings(evidence: context.connectionToPool())
    }
}

extension SessionEndReason {
    /// How the flow table's reason reads on a session.
    init(_ reason: FlowEndReason) {
        switch reason {
        case .closed: self = .closed
        case .reset: self = .reset
        case .idle: self = .idle
        case .evicted: self = .evicted
        case .finished: self = .finished
        }
    }
}
