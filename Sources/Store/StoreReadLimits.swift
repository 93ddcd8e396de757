/// How much one read of the store takes in. A store is input like a capture — a file or a database
/// anyone with write access may have edited — so a value larger than the sensor writes is never read
/// into memory (its row is left out, or the value read as missing, with a warning), and one report
/// reads a bounded total of documents: the most serious hosts first, then sessions oldest first.
/// A report holds what it read about five times over (read, decoded, rendered), so the totals keep
/// `report` within the memory README states.
public struct StoreReadLimits: Sendable, Equatable {
    /// Addresses, sensor and site names, verdicts (the sensor writes at most 64 bytes: names are
    /// checked at their flags, addresses and verdicts are short by nature).
    public var name = 256
    /// A verdict change's reason (one sentence of well under 1 KB as the sensor writes it).
    public var reason = 16 * 1024
    /// A session document: about 1 KB as the sensor writes it, and never more than ~100 KB — its
    /// lists hold at most 16 wire strings of at most 256 bytes each, at most 6 bytes each escaped.
    public var sessionDocument = 128 * 1024
    /// A host's report or record: its sessions (512 per role at most) and evidence (256 at most);
    /// a few hundred KB in practice.
    public var hostDocument = 4 * 1024 * 1024
    /// Host documents (report and record) one report reads in all: 2000 hosts of the usual size are ~11 MB.
    public var hostBytes = 16 * 1024 * 1024
    /// Session documents one report reads in all: ~40 000 sessions of the usual size.
    public var sessionBytes = 32 * 1024 * 1024
    public init() {}

    /// A period report the live sensor renders itself (`--report-every`): what it reads is the
    /// sensor's memory (`MemoryPlan.fixed`: read, decoded and rendered, a report takes about six times
    /// its documents), so it reads at most 4 MB of each kind (some 700 hosts of the usual size, the
    /// most serious first) and says what it left out; `stratumsniff report` reads the full budgets.
    public static var inSensor: StoreReadLimits {
        var l = StoreReadLimits()
        l.hostBytes = 4 * 1024 * 1024
        l.sessionBytes = 4 * 1024 * 1024
        return l
    }

    /// A probe's sentence (a few hundred bytes as the probe words it: the server's strings are cut to 160 characters).
    public static let maxProbeSentence = 4096
    /// Coin and algorithm names, addresses of a probe row.
    public static let maxName = 256
    /// Probe answers one read takes (the newest): a sensor asks at most 10 000 servers an hour.
    public static let maxProbeFacts = 50_000
}
