import CLibCrypto

// Stratum V2's Noise channel (the probe's one encrypted dialect) needs HMAC-SHA256 and the IETF
// ChaCha20-Poly1305 AEAD. Both come from the same libcrypto as the digests: a probe's keys are
// throwaway and its secrecy protects nothing, but the construction must match the pool's exactly.

/// HMAC-SHA256 (RFC 2104): 32 bytes.
public func hmacSHA256(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
    var output = [UInt8](repeating: 0, count: 32)
    var size: UInt32 = 0
    let done = key.withUnsafeBytes { k in
        data.withUnsafeBytes { d in
            output.withUnsafeMutableBufferPointer { out in
                HMAC(
                    EVP_sha256(), k.baseAddress, Int32(k.count), d.bindMemory(to: UInt8.self).baseAddress, d.count,
                    out.baseAddress, &size)
            }
        }
    }
    precondition(
        done != nil && size == 32, "libcrypto could not compute an HMAC: is OpenSSL's libcrypto installed whole?")
    return output
}

/// The IETF ChaCha20-Poly1305 AEAD (RFC 8439): a 32-byte key, a 12-byte nonce, a 16-byte tag after
/// the ciphertext.
public enum ChaChaPoly {
    public static let tagSize = 16

    /// `plaintext` encrypted, followed by its tag.
    public static func seal(key: [UInt8], nonce: [UInt8], aad: [UInt8] = [], _ plaintext: [UInt8]) -> [UInt8] {
        precondition(key.count == 32 && nonce.count == 12, "ChaCha20-Poly1305 takes a 32-byte key and a 12-byte nonce")
        guard let context = EVP_CIPHER_CTX_new() else {
            preconditionFailure("libcrypto could not allocate a cipher context")
        }
        defer { EVP_CIPHER_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: plaintext.count + tagSize)
        var length: Int32 = 0
        var ok = EVP_EncryptInit_ex(context, EVP_chacha20_poly1305(), nil, key, nonce) == 1
        if ok, !aad.isEmpty { ok = EVP_EncryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1 }
        if ok, !plaintext.isEmpty {
            ok =
                out.withUnsafeMutableBufferPointer {
                    EVP_EncryptUpdate(context, $0.baseAddress, &length, plaintext, Int32(plaintext.count))
                } == 1
        }
        if ok {
            ok =
                out.withUnsafeMutableBufferPointer {
                    EVP_EncryptFinal_ex(context, $0.baseAddress! + plaintext.count, &length)
                } == 1
        }
        if ok {
            ok =
                out.withUnsafeMutableBufferPointer {
                    EVP_CIPHER_CTX_ctrl(
                        context, EVP_CTRL_AEAD_GET_TAG, Int32(tagSize), $0.baseAddress! + plaintext.count)
                } == 1
        }
        precondition(ok, "libcrypto could not run ChaCha20-Poly1305: is OpenSSL's libcrypto installed whole?")
        return out
    }

    /// The plaintext, or nil when the tag does not authenticate `sealed` (or it is shorter than a tag).
    public static func open(key: [UInt8], nonce: [UInt8], aad: [UInt8] = [], _ sealed: ArraySlice<UInt8>) -> [UInt8]? {
        precondition(key.count == 32 && nonce.count == 12, "ChaCha20-Poly1305 takes a 32-byte key and a 12-byte nonce")
        guard sealed.count >= tagSize, sealed.count - tagSize < Int(Int32.max) else { return nil }
        guard let context = EVP_CIPHER_CTX_new() else {
            preconditionFailure("libcrypto could not allocate a cipher context")
        }
        defer { EVP_CIPHER_CTX_free(context) }
        let body = Array(sealed.dropLast(tagSize))
        var tag = Array(sealed.suffix(tagSize))
        var out = [UInt8](repeating: 0, count: body.count + 16)
        var length: Int32 = 0
        guard EVP_DecryptInit_ex(context, EVP_chacha20_poly1305(), nil, key, nonce) == 1 else { return nil }
        if !aad.isEmpty, EVP_DecryptUpdate(context, nil, &length, aad, Int32(aad.count)) != 1 { return nil }
        if !body.isEmpty,
            out.withUnsafeMutableBufferPointer({
                EVP_DecryptUpdate(context, $0.baseAddress, &length, body, Int32(body.count))
            }) != 1
        {
            return nil
        }
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(tagSize), &tag) == 1 else { return nil }
        let verified = out.withUnsafeMutableBufferPointer {
            EVP_DecryptFinal_ex(context, $0.baseAddress! + body.count, &length)
        }
        return verified == 1 ? Array(out.prefix(body.count)) : nil
    }
}
