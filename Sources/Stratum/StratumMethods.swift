import JSON
import PacketDecoding

/// What each JSON-RPC method means, dialect by dialect: the miner's requests (remembered to be
/// matched with their answers), the pool's pushes, and the answers.
extension StratumSession {
    /// A request from `side`. False when it is not a mining method, or its parameters are not the
    /// shape every implementation sends (then it is not evidence).
    mutating func handleRequest(method: String, message m: JSONObject, id: JSONValue?, side: Side, time: Timestamp)
        -> Bool
    {
        if overHTTP && !Self.httpMiningMethods.contains(method) { return false }
        let params = m["params"]
        if let pushed = poolPush(method, params: params, side: side, time: time) { return pushed }
        guard
            let request = stratumV1Request(method, params) ?? ethProxyRequest(method, m, params)
                ?? cryptoNoteRequest(method, params) ?? getworkRequest(method, params)
        else { return false }
        // A miner request: remember it for matching by id.
        vote(miner: side, method: method, time: time)
        if let key = id?.idKey { addPending(PendingKey(side: side.rawValue, id: key), request) }
        return true
    }

    // MARK: - Miner → pool

    /// Stratum V1, EthereumStratum/1.0.0 and /2.0.0 requests.
    private mutating func stratumV1Request(_ method: String, _ params: JSONValue?) -> Pending? {
        switch method {
        case "mining.subscribe":
            // params: [agent, session id | null, host, port] (all optional); or ES1 [agent, "EthereumStratum/1.0.0"]
            guard params == nil || params?.array != nil else { return nil }
            let a = params?.array ?? []
            if let agent = a.first?.string, !agent.isEmpty { setSoftware(agent) }
            if a.count > 1, let proto = a[1].string, proto.hasPrefix("EthereumStratum/") {
                setDialect(.ethereumStratum1)
            } else {
                setDialect(.stratumV1)
            }
            if a.count > 2, let host = a[2].string, !host.isEmpty {
                let port = a.count > 3 ? Self.portText(a[3]) : nil
                addHost(port.map { "\(host):\($0)" } ?? host)
            }
            return Pending(method: method)
        case "mining.authorize":
            guard let user = params?[0]?.string else { return nil }
            setDialectIfUnknown(.stratumV1)
            addUser(user)
            return Pending(method: method, user: user)
        case "mining.configure", "mining.extranonce.subscribe", "mining.suggest_difficulty", "mining.suggest_target":
            guard params == nil || params?.array != nil else { return nil }
            setDialectIfUnknown(.stratumV1)
            return Pending(method: method)
        case "mining.hello":
            // EthereumStratum/2.0.0: params {agent, host, port, proto}
            guard let p = params?.object else { return nil }
            setDialect(.ethereumStratum2)
            if let agent = p["agent"]?.string { setSoftware(agent) }
            if let host = p["host"]?.string {
                addHost(p["port"].flatMap(Self.portText).map { "\(host):\($0)" } ?? host)
            }
            return Pending(method: method)
        case "mining.submit":
            // V1: [worker, job id, extranonce2, ntime, nonce(, version bits)]; ES1: [worker, job id, nonce]
            guard let a = params?.array, a.count >= 3, a.allSatisfy({ $0.string != nil }) else { return nil }
            setDialectIfUnknown(.stratumV1)
            if let worker = a[0].string { addUser(worker) }
            summary.sharesSubmitted += 1
            return Pending(method: method, hashes: summary.hashesPerShare)
        default:
            return nil
        }
    }

    /// eth-proxy (Claymore, PhoenixMiner, ethminer over "stratum" to eth pools).
    private mutating func ethProxyRequest(_ method: String, _ m: JSONObject, _ params: JSONValue?) -> Pending? {
        switch method {
        case "eth_submitLogin":
            guard let user = params?[0]?.string else { return nil }
            setDialect(.ethProxy)
            addUser(user)
            if let w = m["worker"]?.string, !w.isEmpty { addWorker(w) }
            return Pending(method: method, user: user)
        case "eth_getWork":
            guard params == nil || params?.array != nil else { return nil }
            setDialectIfUnknown(.ethProxy)
            return Pending(method: method)
        case "eth_submitWork":
            // [nonce, header hash, mix digest], all 0x-hex
            guard let a = params?.array, a.count >= 3, a.allSatisfy({ Self.isHex($0.string) }) else { return nil }
            setDialectIfUnknown(.ethProxy)
            if let w = m["worker"]?.string, !w.isEmpty { addWorker(w) }
            summary.sharesSubmitted += 1
            return Pending(method: method, hashes: summary.hashesPerShare)
        case "eth_submitHashrate":
            guard let rate = params?[0], Self.isHex(rate.string), let hs = rate.double else { return nil }
            setDialectIfUnknown(.ethProxy)
            if let rate = plausible(hs) { summary.reportedHashrate = rate }
            return Pending(method: method)
        default:
            return nil
        }
    }

    /// CryptoNote (XMRig, xmr-stak, xmrig-proxy).
    private mutating func cryptoNoteRequest(_ method: String, _ params: JSONValue?) -> Pending? {
        switch method {
        case "login":
            // params {login, pass, agent, algo[], rigid}
            guard let p = params?.object, let login = p["login"]?.string else { return nil }
            setDialect(.cryptonote)
            addUser(login)
            if let agent = p["agent"]?.string, !agent.isEmpty { setSoftware(agent) }
            if let rig = p["rigid"]?.string, !rig.isEmpty { addWorker(rig) }
            for algo in p["algo"]?.array ?? [] { if let s = algo.string { addAlgorithm(s) } }
            return Pending(method: method, user: login)
        case "submit":
            // params {id, job_id, nonce, result}
            guard let p = params?.object, let job = p["job_id"]?.string, p["nonce"]?.string != nil,
                p["result"]?.string != nil
            else { return nil }
            setDialectIfUnknown(.cryptonote)
            summary.sharesSubmitted += 1
            let hashes = jobHashes.last(where: { $0.id == job })?.hashes ?? summary.hashesPerShare
            return Pending(method: method, hashes: hashes)
        case "keepalived", "getjob":
            guard params?.object != nil else { return nil }
            setDialectIfUnknown(.cryptonote)
            return Pending(method: method)
        default:
            return nil
        }
    }

    /// Bitcoin getwork and block templates over HTTP (pre-Stratum pools, solo miners).
    private mutating func getworkRequest(_ method: String, _ params: JSONValue?) -> Pending? {
        switch method {
        case "getwork":
            // [] asks for work, [data] submits a solution.
            guard params == nil || params?.array != nil else { return nil }
            setDialect(.httpGetwork)
            if let data = params?[0]?.string, Self.isHex(data) {
                summary.sharesSubmitted += 1
                return Pending(method: "getwork-submit", hashes: summary.hashesPerShare ?? 4_294_967_296)
            }
            return Pending(method: method)
        case "getblocktemplate":
            // BIP 22/23: a solo miner or a pool backend fetching block templates from a node.
            guard params == nil || params?.array != nil else { return nil }
            setDialect(.httpGetwork)
            return Pending(method: method)
        case "submitblock":
            guard let block = params?[0]?.string, Self.isHex(block) else { return nil }
            setDialect(.httpGetwork)
            summary.sharesSubmitted += 1
            return Pending(method: method)
        default:
            return nil
        }
    }

    // MARK: - Pool → miner

    /// A push from the pool: true when meaningful, false when malformed, nil when `method` is not one.
    private mutating func poolPush(_ method: String, params: JSONValue?, side: Side, time: Timestamp) -> Bool? {
        switch method {
        case "mining.notify":
            // V1: [job id, prevhash, coinb1, coinb2, merkle[], version, nbits, ntime, clean]; ES1: [job id, seed, header, clean]
            guard let a = params?.array, a.count >= 3, a[0].string != nil else { return false }
            setDialectIfUnknown(.stratumV1)
            summary.jobsReceived += 1
        case "mining.set_difficulty":
            guard let d = params?[0]?.double, d > 0, d.isFinite else { return false }
            setDialectIfUnknown(.stratumV1)
            // 2^32 hashes per difficulty-1 share
            guard let hashes = plausible(d * 4_294_967_296) else { return true }
            summary.difficulty = d
            summary.hashesPerShare = hashes
        case "mining.set_target":
            guard let t = params?[0]?.string, let target = Self.hashesFor256BitTarget(t) else { return false }
            setDialectIfUnknown(.stratumV1)
            vote(pool: side, method: method, time: time)
            guard let hashes = plausible(target) else { return true }
            summary.difficulty = hashes
            summary.hashesPerShare = hashes
            return true
        case "mining.set_extranonce", "mining.set_version_mask":
            guard params?.array != nil else { return false }
        case "client.reconnect":
            // [host, port, wait seconds]
            if let host = params?[0]?.string, !host.isEmpty {
                let port = params?[1].flatMap(Self.portText)
                let where_ = port.map { "\(host):\($0)" } ?? host
                addHost(where_)
                emit(.reconnect(host: where_))
            }
        case "client.get_version", "client.show_message":
            // Weak: generic names, only count once a session exists.
            guard summary.shape != .none else { return false }
        case "job":
            // CryptoNote push: params {blob, job_id, target, algo?, height?, seed_hash?}
            guard let p = params?.object, handleJob(p) else { return false }
            setDialectIfUnknown(.cryptonote)
        default:
            return nil
        }
        vote(pool: side, method: method, time: time)
        return true
    }

    // MARK: - Answers

    /// A response from `side` to a request the other side made.
    mutating func handleResponse(_ m: JSONObject, id: JSONValue?, side: Side, time: Timestamp) -> Bool {
        let result = m["result"]
        let error = m["error"]
        let failed = (error != nil && error != .null) || result == .bool(false)
        if let key = id?.idKey, let request = takePending(PendingKey(side: side.other.rawValue, id: key)) {
            switch request.method {
            case "login":
                if !failed, let job = result?["job"]?.object { _ = handleJob(job) }
                loginAnswered(accepted: !failed, user: request.user)
            case "mining.authorize", "eth_submitLogin":
                loginAnswered(accepted: !failed, user: request.user)
            case "submit", "mining.submit", "eth_submitWork":
                if failed {
                    summary.sharesRejected += 1
                } else {
                    summary.sharesAccepted += 1
                    if let h = request.hashes { summary.addAcceptedHashes(h) }
                }
                emit(.share(accepted: !failed, hashes: failed ? nil : request.hashes))
            case "eth_getWork":
                if let work = result?.array { handleEthWork(work) }
            case "getwork":
                if let data = result?["data"]?.string, Self.isHex(data) { summary.jobsReceived += 1 }
            case "getwork-submit":
                if failed {
                    summary.sharesRejected += 1
                } else {
                    summary.sharesAccepted += 1
                    if let h = request.hashes { summary.addAcceptedHashes(h) }
                }
                emit(.share(accepted: !failed, hashes: nil))
            case "getblocktemplate":
                if result?["previousblockhash"]?.string != nil { summary.jobsReceived += 1 }
            case "submitblock":
                // BIP 22: null means accepted; a string is the rejection reason.
                if failed || result?.string != nil { summary.sharesRejected += 1 } else { summary.sharesAccepted += 1 }
            case "mining.subscribe":
                // Result: [[subscriptions], extranonce1, extranonce2 size] or ES1 [[...], extranonce]
                break
            default:
                break
            }
            vote(pool: side, method: "response:" + request.method, time: time)
            return true
        }
        // Unsolicited: eth-proxy pools push new work as a response with id 0.
        if let work = result?.array, work.count >= 3, work.prefix(3).allSatisfy({ Self.isHex($0.string) }) {
            setDialectIfUnknown(.ethProxy)
            handleEthWork(work)
            vote(pool: side, method: "eth_getWork push", time: time)
            return true
        }
        return false
    }

    /// A CryptoNote job object; false when it lacks the fields every pool sends.
    mutating func handleJob(_ job: JSONObject) -> Bool {
        guard let blob = job["blob"]?.string, Self.isHex(blob), let jobID = job["job_id"]?.string,
            let target = job["target"]?.string
        else { return false }
        summary.jobsReceived += 1
        if let algo = job["algo"]?.string { addAlgorithm(algo) }
        if let d = Self.cryptonoteDifficulty(target) {
            summary.difficulty = d
            summary.hashesPerShare = d
            jobHashes.append((jobID, d))
            if jobHashes.count > 32 { jobHashes.removeFirst() }
        }
        return true
    }

    /// eth-proxy work: [header hash, seed hash, boundary(, block number)].
    mutating func handleEthWork(_ work: [JSONValue]) {
        guard work.count >= 3, let header = work[0].string else { return }
        if header != lastWorkHeader {
            summary.jobsReceived += 1
            lastWorkHeader = header
        }
        if let b = work[2].string, let target = Self.hashesFor256BitTarget(b), let hashes = plausible(target) {
            summary.hashesPerShare = hashes
            summary.difficulty = hashes
        }
    }
}
