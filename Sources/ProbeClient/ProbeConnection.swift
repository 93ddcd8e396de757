import CLibSSL
import OS

#if canImport(Glibc)
    import Glibc
#endif

/// OpenSSL's client settings for probing: any protocol version from TLS 1.0 and any cipher
/// (security level 0), no certificate verification — the probe asks anyone, and the certificate is
/// evidence, not trust. The only type here that touches libssl, with `ProbeConnection`.
final class TLSClientContext {
    let context: OpaquePointer

    init?() {
        guard let method = TLS_client_method(), let ctx = SSL_CTX_new(method) else { return nil }
        context = ctx
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
        _ = stratumsniff_ssl_ctx_min_version(ctx, TLS1_VERSION)
        _ = SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0")
    }

    deinit { SSL_CTX_free(context) }
}

/// One probe connection: a non-blocking socket, TLS on it when asked, every wait bounded by a deadline.
final class ProbeConnection {
    let fd: Int32
    private var ssl: OpaquePointer?

    init(fd: Int32) { self.fd = fd }

    deinit {
        if let ssl { SSL_free(ssl) }
        OS.close(fd)
    }

    /// Milliseconds left until `deadline` (0 when passed).
    static func remaining(_ deadline: ContinuousClock.Instant) -> Int32 {
        let left = ContinuousClock.now.duration(to: deadline).components
        guard left.seconds >= 0 else { return 0 }
        return Int32(clamping: left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000)
    }

    /// The TLS handshake; the server's certificate in DER (empty when it sent none), or why it failed.
    func startTLS(_ context: TLSClientContext, sni: String?, deadline: ContinuousClock.Instant) -> Result<
        [UInt8], ProbeFailure
    > {
        guard let ssl = SSL_new(context.context) else { return .failure(ProbeFailure("TLS: out of memory")) }
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        if let sni, !sni.isEmpty { _ = stratumsniff_ssl_set_sni(ssl, sni) }
        ERR_clear_error()
        while true {
            let status = SSL_connect(ssl)
            if status == 1 { break }
            let error = SSL_get_error(ssl, status)
            let wantWrite = error == SSL_ERROR_WANT_WRITE
            guard error == SSL_ERROR_WANT_READ || wantWrite else {
                return .failure(ProbeFailure("TLS handshake failed: " + Self.openSSLReason(error)))
            }
            guard OS.wait(fd, write: wantWrite, milliseconds: Self.remaining(deadline)) else {
                return .failure(ProbeFailure("TLS handshake timed out"))
            }
        }
        var der = [UInt8](repeating: 0, count: 64 * 1024)
        let length = der.withUnsafeMutableBufferPointer {
            stratumsniff_ssl_peer_certificate(ssl, $0.baseAddress, Int32($0.count))
        }
        return .success(length > 0 ? Array(der[..<Int(length)]) : [])
    }

    /// Sends all of `bytes` before `deadline`; false when the connection failed or time ran out.
    func send(_ bytes: [UInt8], deadline: ContinuousClock.Instant) -> Bool {
        var offset = 0
        while offset < bytes.count {
            if let ssl {
                let n = bytes[offset...].withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32(clamping: $0.count)) }
                if n > 0 {
                    offset += Int(n)
                    continue
                }
                let error = SSL_get_error(ssl, n)
                guard error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE,
                    OS.wait(fd, write: error == SSL_ERROR_WANT_WRITE, milliseconds: Self.remaining(deadline))
                else { return false }
            } else {
                guard let n = OS.sendSome(fd, bytes, from: offset) else { return false }
                offset += n
                if n == 0, !OS.wait(fd, write: true, milliseconds: Self.remaining(deadline)) { return false }
            }
        }
        return true
    }

    /// Reads into `received` until `enough` says so, `limit` bytes have come, the peer closes, or
    /// `deadline` passes. Returns whether the peer closed.
    func receive(into received: inout [UInt8], limit: Int, deadline: ContinuousClock.Instant, enough: ([UInt8]) -> Bool)
        -> Bool
    {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while received.count < limit {
            let room = min(buffer.count, limit - received.count)
            if let ssl {
                let n = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32(room)) }
                if n > 0 {
                    received += buffer[..<Int(n)]
                    if enough(received) { return false }
                    continue
                }
                let error = SSL_get_error(ssl, n)
                guard error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE else { return true }
                guard OS.wait(fd, write: error == SSL_ERROR_WANT_WRITE, milliseconds: Self.remaining(deadline)) else {
                    return false
                }
            } else {
                switch OS.receive(fd, limit: room) {
                case .bytes(let bytes):
                    received += bytes
                    if enough(received) { return false }
                case .nothing:
                    guard OS.wait(fd, milliseconds: Self.remaining(deadline)) else { return false }
                case .closed:
                    return true
                }
            }
        }
        return false
    }

    /// OpenSSL's words for the last failure ("wrong version number"), or the error class.
    static func openSSLReason(_ error: Int32) -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        if code != 0, let reason = ERR_reason_error_string(code) { return String(cString: reason) }
        switch error {
        case SSL_ERROR_SYSCALL: return "the connection closed during the handshake"
        case SSL_ERROR_ZERO_RETURN: return "the server closed the connection"
        default: return "OpenSSL error \(error)"
        }
    }
}

struct ProbeFailure: Error {
    var text: String
    init(_ text: String) { self.text = text }
}
