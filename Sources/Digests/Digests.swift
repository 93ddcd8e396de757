import CLibCrypto

// The one place that calls OpenSSL's libcrypto (Debian's, already on every machine that has a
// TLS stack): the digests the TLS client fingerprints and Community ID need, and the HMAC and AEAD of the
// probe's Stratum V2 Noise channel (Sealing.swift). Nothing here guards a secret —
// JA3 is defined as MD5, JA4 as truncated SHA-256 — so a system library's implementation is as good
// as any, and the build compiles no cryptography of its own.

/// Message digests of byte strings.
public enum Digest {
    /// MD5 of `bytes` (16 bytes): JA3's definition, not a security use.
    public static func md5(_ bytes: [UInt8]) -> [UInt8] { digest(bytes, EVP_md5()) }

    /// SHA-1 of `bytes` (20 bytes): Community ID's definition, not a security use.
    public static func sha1(_ bytes: [UInt8]) -> [UInt8] { digest(bytes, EVP_sha1()) }

    /// SHA-256 of `bytes` (32 bytes).
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { digest(bytes, EVP_sha256()) }

    private static func digest(_ bytes: [UInt8], _ algorithm: OpaquePointer?) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var size: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            output.withUnsafeMutableBufferPointer { out in
                EVP_Digest(input.baseAddress, input.count, out.baseAddress, &size, algorithm, nil)
            }
        }
        // EVP_Digest fails only when libcrypto cannot run the algorithm at all (a broken installation).
        precondition(ok == 1, "libcrypto could not compute a digest: is OpenSSL's libcrypto installed whole?")
        return Array(output.prefix(Int(size)))
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hex, two digits a byte (digests, fingerprints, bytes shown to an analyst).
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
