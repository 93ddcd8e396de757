import PacketDecoding

/// Pool and allow lists in one place: the built-in list, `--pool-list` files
/// and `--allow-list` files. An allow-list entry wins over any pool entry.
public struct PoolIntelligence: Sendable {
    public private(set) var pools = DomainSet()
    public private(set) var poolAddresses = AddressSet()
    public private(set) var allowedNames = DomainSet()
    public private(set) var allowedAddresses = AddressSet()
    /// Problems found while loading ("FILE:LINE: ..."); loading goes on past them.
    public private(set) var warnings: [String] = []

    /// - Parameter builtin: include the built-in list (tests can start empty).
    public init(builtin: Bool = true) {
        if builtin { add(poolList: Self.builtinList, name: "built-in") }
    }

    public mutating func add(poolList text: String, name: String) {
        let parsed = ListParser.parse(text, name: name)
        for (d, e) in parsed.domains { pools.insert(d, e) }
        for (b, e) in parsed.blocks { poolAddresses.insert(b, e) }
        warnings += parsed.errors
    }

    public mutating func add(allowList text: String, name: String) {
        let parsed = ListParser.parse(text, name: name)
        for (d, e) in parsed.domains { allowedNames.insert(d, e) }
        for (b, e) in parsed.blocks { allowedAddresses.insert(b, e) }
        warnings += parsed.errors
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
}
