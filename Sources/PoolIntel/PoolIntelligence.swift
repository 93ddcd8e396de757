import PacketDecoding

/// Pool and allow lists in one place: the built-in list, `--pool-list` files
/// and `--allow-list` files. An allow-list entry wins over any pool entry.
public struct PoolIntelligence: Sendable {
    /// The lists, behind one reference: the analyzers consult them on every new flow, and a copy of
    /// the value (which reading it from a class's property often is) costs one retain instead of one
    /// per list. Immutable; loading a list (start, SIGHUP) builds a new one.
    private final class Lists: Sendable {
        let pools: DomainSet
        let poolAddresses: AddressSet
        let allowedNames: DomainSet
        let allowedAddresses: AddressSet
        let warnings: [String]
        init(
            pools: DomainSet, poolAddresses: AddressSet, allowedNames: DomainSet, allowedAddresses: AddressSet,
            warnings: [String]
        ) {
            self.pools = pools
            self.poolAddresses = poolAddresses
            self.allowedNames = allowedNames
            self.allowedAddresses = allowedAddresses
            self.warnings = warnings
        }
    }
    private var lists = Lists(
        pools: DomainSet(), poolAddresses: AddressSet(), allowedNames: DomainSet(), allowedAddresses: AddressSet(),
        warnings: [])

    public var pools: DomainSet { lists.pools }
    public var poolAddresses: AddressSet { lists.poolAddresses }
    public var allowedNames: DomainSet { lists.allowedNames }
    public var allowedAddresses: AddressSet { lists.allowedAddresses }
    /// Problems found while loading ("FILE:LINE: ..."); loading goes on past them.
    public var warnings: [String] { lists.warnings }

    /// - Parameter builtin: include the built-in list (tests can start empty).
    public init(builtin: Bool = true) {
        if builtin { add(poolList: Self.builtinList, name: "built-in") }
    }

    public mutating func add(poolList text: String, name: String) {
        let (names, addresses, errors) = Self.adding(text, name: name, to: lists.pools, lists.poolAddresses)
        lists = Lists(
            pools: names, poolAddresses: addresses, allowedNames: lists.allowedNames,
            allowedAddresses: lists.allowedAddresses, warnings: lists.warnings + errors)
    }

    public mutating func add(allowList text: String, name: String) {
        let (names, addresses, errors) = Self.adding(text, name: name, to: lists.allowedNames, lists.allowedAddresses)
        lists = Lists(
            pools: lists.pools, poolAddresses: lists.poolAddresses, allowedNames: names, allowedAddresses: addresses,
            warnings: lists.warnings + errors)
    }

    /// One list file's entries added to a pair of sets (names, addresses), and what was wrong in it.
    private static func adding(
        _ text: String, name: String, to names: DomainSet, _ addresses: AddressSet
    ) -> (DomainSet, AddressSet, [String]) {
        let parsed = ListParser.parse(text, name: name)
        var names = names
        var addresses = addresses
        for (domain, entry) in parsed.domains { names.insert(domain, entry) }
        for (block, entry) in parsed.blocks { addresses.insert(block, entry) }
        return (names, addresses, parsed.errors)
    }

    /// The pool entry `name` falls under, unless the allow list covers it.
    public func pool(named name: String) -> PoolMatch? {
        guard let m = pools.match(name) else { return nil }
        if allowedNames.match(name) != nil { return nil }
        return m
    }

    /// The pool entry an address (and port) falls under, unless allowed.
    public func pool(at address: IPAddress, port: UInt16) -> PoolMatch? {
        guard let (block, entry) = poolAddresses.match(address, port: port) else { return nil }
        if isAllowed(address, port: port) { return nil }
        return PoolMatch(name: address.description, matched: block.description, entry: entry)
    }

    /// Whether the allow list covers this address: it is never flagged and never treated as a pool.
    public func isAllowed(_ address: IPAddress, port: UInt16? = nil) -> Bool {
        allowedAddresses.match(address, port: port) != nil
    }

    public func isAllowed(name: String) -> Bool { allowedNames.match(name) != nil }

    /// Whether a name ending in `tail` (its last two labels) can be on the pool list or the allow list
    /// (`DomainSet.mayMatch`): false means neither `pool(named:)` nor `isAllowed(name:)` can say yes.
    public func mayName(tail: UnsafeRawBufferPointer) -> Bool {
        pools.mayMatch(tail: tail) || allowedNames.mayMatch(tail: tail)
    }
}
