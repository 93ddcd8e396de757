import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// POSTs JSON documents to an HTTP(S) endpoint (a chat or SOAR webhook) from a background
/// thread behind a bounded queue: retries with exponential back-off, drops the oldest when the
/// queue is full, never blocks capture.
public final class WebhookSender: Sendable {
    public let url: URL
    public let maxAttempts: Int
    private let queue: BoundedQueue<Data>
    private let session: URLSession
    private let deliveredCount = Atomic<Int>(0)
    private let failedCount = Atomic<Int>(0)

    public var delivered: Int { deliveredCount.load(ordering: .relaxed) }
    /// Documents given up on after `maxAttempts`.
    public var failed: Int { failedCount.load(ordering: .relaxed) }
    public var dropped: Int { queue.dropped }

    /// The one rule for a webhook address: an http:// or https:// URL with a host.
    public static func endpoint(_ text: String) -> URL? {
        guard let u = URL(string: text), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = u.host, !host.isEmpty
        else { return nil }
        return u
    }

    public init(url: String, capacity: Int = 1000, maxAttempts: Int = 6) throws {
        guard let u = Self.endpoint(url) else {
            throw OutputError(message: "--webhook \(url): not an http:// or https:// URL")
        }
        self.url = u
        self.maxAttempts = max(1, maxAttempts)
        queue = BoundedQueue(capacity: capacity)
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = 10
        session = URLSession(configuration: config)
        let q = queue
        Thread { [weak self] in
            while let body = q.pop() { self?.deliver(body) }
        }.start()
    }

    public func post(_ json: String) { queue.push(Data(json.utf8)) }

    public func flush(timeout: Double = 5) { queue.drain(timeout: timeout) }

    private func deliver(_ body: Data) {
        var delay = 0.5
        for _ in 0..<maxAttempts {
            if send(body) {
                deliveredCount.add(1, ordering: .relaxed)
                return
            }
            Thread.sleep(forTimeInterval: delay)
            delay = min(delay * 2, 30)
        }
        failedCount.add(1, ordering: .relaxed)
        Diagnostics.log.warning("webhook to \(url.host ?? "?"): gave up on a document after \(maxAttempts) attempts")
    }

    /// One synchronous POST; true on any 2xx.
    private func send(_ body: Data) -> Bool {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("stratumsniff", forHTTPHeaderField: "User-Agent")
        request.httpBody = body
        let done = DispatchSemaphore(value: 0)
        let ok = Atomic<Bool>(false)
        let task = session.dataTask(with: request) { _, response, error in
            if error == nil, let http = response as? HTTPURLResponse, (200..<300).contains(http.statusCode) {
                ok.store(true, ordering: .relaxed)
            }
            done.signal()
        }
        task.resume()
        done.wait()
        return ok.load(ordering: .relaxed)
    }
}
