import Stratum

/// What a finding occupies in memory, in bytes, for the budgets that hold copies of findings (a live
/// worker's open flows published to the shared table, docs/hostile-input.md "Memory").
///
/// Counted: the value's inline size as an array element, and the heap of every string and array it
/// holds — each as if it were its own copy, though a copy often shares its buffers with the analyzer
/// it came from. So the count errs high, which is the safe side for a budget.
public enum MemoryCost {
    /// Swift keeps a string of up to 15 UTF-8 bytes inline; a longer one is a heap object: a 32-byte
    /// header and its bytes (malloc's rounding is within the header's slack).
    public static func of(_ s: String) -> Int {
        let n = s.utf8.count
        return n > 15 ? 32 + n : 0
    }

    public static func of(_ s: String?) -> Int { s.map { of($0) } ?? 0 }

    /// An array's buffer (a 32-byte header, then its elements) and what its strings hold.
    public static func of(_ a: [String]) -> Int { of(a) { of($0) } }

    /// An array held only for this copy: its buffer (a 32-byte header, then its elements) and each
    /// element's heap.
    public static func of<T>(_ a: [T], each: (T) -> Int) -> Int {
        guard !a.isEmpty else { return 0 }
        var total = 32 + a.count * MemoryLayout<T>.stride
        for x in a { total += each(x) }
        return total
    }
}

extension StratumSummary {
    /// Heap held by the summary's strings and lists (its inline part is in its record's).
    public var heapBytes: Int {
        MemoryCost.of(software) + MemoryCost.of(wallets) + MemoryCost.of(workers) + MemoryCost.of(algorithms)
            + MemoryCost.of(coin) + MemoryCost.of(poolHostnames) + MemoryCost.of(minerMethods)
            + MemoryCost.of(poolMethods)
    }
}

extension SessionRecord {
    /// Heap held beyond the record's inline bytes: the summary's, the pool-list name's, the proxy's.
    public var heapBytes: Int {
        summary.heapBytes + MemoryCost.of(poolList?.name) + MemoryCost.of(poolList?.matched)
            + MemoryCost.of(proxy?.kind) + MemoryCost.of(proxy?.target)
    }
}

extension Evidence {
    /// Heap held beyond the record's inline bytes: its names, the details' strings and lists, and
    /// (once merged) which record each field came from.
    public var heapBytes: Int {
        let d = details
        return MemoryCost.of(name) + MemoryCost.of(software) + MemoryCost.of(coin) + MemoryCost.of(pool?.name)
            + MemoryCost.of(pool?.matched) + MemoryCost.of(d.sni) + MemoryCost.of(d.alpn) + MemoryCost.of(d.ja3)
            + MemoryCost.of(d.ja4) + MemoryCost.of(d.tlsVersion) + MemoryCost.of(d.certificateNames)
            + MemoryCost.of(d.httpHost) + MemoryCost.of(d.request) + MemoryCost.of(d.userAgent)
            + MemoryCost.of(d.miningHeaders) + MemoryCost.of(d.answers) + MemoryCost.of(d.message)
            + MemoryCost.of(d.proxy?.kind) + MemoryCost.of(d.proxy?.target) + MemoryCost.of(fieldKeys) { _ in 0 }
    }
}

extension HostReport {
    /// What the report's sessions and evidence hold (its sentences and counts are small beside them).
    public var memoryCost: Int {
        MemoryCost.of(minerSessions) { $0.heapBytes } + MemoryCost.of(poolSessions) { $0.heapBytes }
            + MemoryCost.of(evidence) { $0.heapBytes }
    }
}
