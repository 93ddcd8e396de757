// secp256k1 arithmetic for the Stratum V2 probe: just enough to make a throwaway key, encode it the
// way SV2 sends keys (BIP 324's ElligatorSwift) and compute the x-only ECDH the Noise handshake
// mixes in. Debian's libsecp256k1 (0.2) predates ElligatorSwift, and OpenSSL has no encoding for it,
// so the field and the encoding are written here, checked against BIP 324's test vectors. Not
// constant-time: the probe's keys live for one connection and guard nothing.

/// An element of the base field, p = 2²⁵⁶ − 2³² − 977, always fully reduced (< p).
struct FieldElement: Equatable {
    /// Little-endian 64-bit words.
    var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// 2²⁵⁶ − p: what a carry out of the top word is worth.
    static let fold: UInt64 = 0x1_0000_03D1
    static let p = FieldElement(w0: 0xFFFF_FFFE_FFFF_FC2F, w1: .max, w2: .max, w3: .max)
    static let zero = FieldElement(0)
    static let one = FieldElement(1)

    init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) { (self.w0, self.w1, self.w2, self.w3) = (w0, w1, w2, w3) }
    init(_ small: UInt64) { self.init(w0: small, w1: 0, w2: 0, w3: 0) }

    /// 32 big-endian bytes, reduced mod p (any 32 bytes are accepted, as ElligatorSwift requires).
    init<C: Collection>(bytes: C) where C.Element == UInt8 {
        precondition(bytes.count == 32)
        var words = [UInt64](repeating: 0, count: 4)
        for (i, byte) in bytes.enumerated() { words[3 - i / 8] = words[3 - i / 8] << 8 | UInt64(byte) }
        self.init(w0: words[0], w1: words[1], w2: words[2], w3: words[3])
        if !(self < Self.p) { self = self.subtractingP() }
    }

    var bytes: [UInt8] {
        [w3, w2, w1, w0].flatMap { word in (0..<8).reversed().map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
    }

    var words: [UInt64] { [w0, w1, w2, w3] }
    var isZero: Bool { self == .zero }
    var isOdd: Bool { w0 & 1 == 1 }

    static func < (a: FieldElement, b: FieldElement) -> Bool {
        for (x, y) in zip(a.words.reversed(), b.words.reversed()) where x != y { return x < y }
        return false
    }

    private func subtractingP() -> FieldElement {
        // self ≥ p here and below 2²⁵⁶: self − p = self + fold − 2²⁵⁶, the carry out dropped.
        Self.adding(words, [Self.fold, 0, 0, 0]).sum
    }

    /// The 256-bit sum of two word arrays and whether it carried out.
    private static func adding(_ a: [UInt64], _ b: [UInt64]) -> (sum: FieldElement, carry: Bool) {
        var out = [UInt64](repeating: 0, count: 4)
        var carry = false
        for i in 0..<4 {
            let (s1, c1) = a[i].addingReportingOverflow(b[i])
            let (s2, c2) = s1.addingReportingOverflow(carry ? 1 : 0)
            out[i] = s2
            carry = c1 || c2
        }
        return (FieldElement(w0: out[0], w1: out[1], w2: out[2], w3: out[3]), carry)
    }

    static func + (a: FieldElement, b: FieldElement) -> FieldElement {
        let (sum, carry) = adding(a.words, b.words)
        // a + b < 2p: a carry out means sum + 2²⁵⁶ ≡ sum + fold, which stays below p.
        if carry { return adding(sum.words, [fold, 0, 0, 0]).sum }
        return sum < p ? sum : sum.subtractingP()
    }

    static prefix func - (a: FieldElement) -> FieldElement {
        a.isZero ? a : p.minusSmaller(a)
    }

    static func - (a: FieldElement, b: FieldElement) -> FieldElement { a + (-b) }

    /// self − b for b ≤ self (no reduction needed).
    private func minusSmaller(_ b: FieldElement) -> FieldElement {
        var out = [UInt64](repeating: 0, count: 4)
        var borrow = false
        let a = words
        let c = b.words
        for i in 0..<4 {
            let (d1, b1) = a[i].subtractingReportingOverflow(c[i])
            let (d2, b2) = d1.subtractingReportingOverflow(borrow ? 1 : 0)
            out[i] = d2
            borrow = b1 || b2
        }
        return FieldElement(w0: out[0], w1: out[1], w2: out[2], w3: out[3])
    }

    static func * (a: FieldElement, b: FieldElement) -> FieldElement {
        let x = a.words
        let y = b.words
        var t = [UInt64](repeating: 0, count: 8)
        for i in 0..<4 {
            var carry: UInt64 = 0
            for j in 0..<4 {
                let (hi, lo) = x[i].multipliedFullWidth(by: y[j])
                let (s1, c1) = t[i + j].addingReportingOverflow(lo)
                let (s2, c2) = s1.addingReportingOverflow(carry)
                t[i + j] = s2
                // hi ≤ 2⁶⁴ − 2 and the whole column fits in 128 bits, so this cannot overflow.
                carry = hi &+ (c1 ? 1 : 0) &+ (c2 ? 1 : 0)
            }
            t[i + 4] = carry
        }
        // 2²⁵⁶ ≡ fold (mod p): fold the high half down, then the little that carries out again.
        var low = Array(t[0..<4])
        var top: UInt64 = 0
        var carry: UInt64 = 0
        for i in 0..<4 {
            let (hi, lo) = t[4 + i].multipliedFullWidth(by: fold)
            let (s1, c1) = low[i].addingReportingOverflow(lo)
            let (s2, c2) = s1.addingReportingOverflow(carry)
            low[i] = s2
            carry = hi &+ (c1 ? 1 : 0) &+ (c2 ? 1 : 0)
        }
        top = carry  // below 2³⁴
        let (hi, lo) = top.multipliedFullWidth(by: fold)
        var (sum, carried) = adding(low, [lo, hi, 0, 0])
        if carried { sum = adding(sum.words, [fold, 0, 0, 0]).sum }
        return sum < p ? sum : sum.subtractingP()
    }

    func squared() -> FieldElement { self * self }

    /// self^e for a 256-bit exponent given as little-endian words.
    func power(_ exponent: [UInt64]) -> FieldElement {
        var result = FieldElement.one
        for word in exponent.reversed() {
            for bit in (0..<64).reversed() {
                result = result.squared()
                if word >> UInt64(bit) & 1 == 1 { result = result * self }
            }
        }
        return result
    }

    /// The multiplicative inverse (Fermat: self^(p−2)); zero for zero.
    func inverse() -> FieldElement { power([0xFFFF_FFFE_FFFF_FC2D, .max, .max, .max]) }

    static func / (a: FieldElement, b: FieldElement) -> FieldElement { a * b.inverse() }

    /// A square root, or nil when there is none (p ≡ 3 mod 4: self^((p+1)/4), then checked).
    func squareRoot() -> FieldElement? {
        let root = power([0xFFFF_FFFF_BFFF_FF0C, .max, .max, 0x3FFF_FFFF_FFFF_FFFF])
        return root.squared() == self ? root : nil
    }

    var isSquare: Bool { squareRoot() != nil }
}

/// A point of y² = x³ + 7 in Jacobian coordinates (x = X/Z², y = Y/Z³); Z = 0 is the point at infinity.
struct CurvePoint {
    var x: FieldElement, y: FieldElement, z: FieldElement

    static let infinity = CurvePoint(x: .one, y: .one, z: .zero)
    static let generator = CurvePoint(
        affineX: FieldElement(
            bytes: ProbeHex.bytes("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")),
        affineY: FieldElement(bytes: ProbeHex.bytes("483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8"))
    )
    /// The group's order n.
    static let order = ProbeHex.bytes("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")

    init(x: FieldElement, y: FieldElement, z: FieldElement) { (self.x, self.y, self.z) = (x, y, z) }
    init(affineX: FieldElement, affineY: FieldElement) { self.init(x: affineX, y: affineY, z: .one) }

    /// The point with this x and an even y, or nil when x is not on the curve.
    static func lift(x: FieldElement) -> CurvePoint? {
        guard var y = (x * x * x + FieldElement(7)).squareRoot() else { return nil }
        if y.isOdd { y = -y }
        return CurvePoint(affineX: x, affineY: y)
    }

    static func isOnCurve(x: FieldElement) -> Bool { (x * x * x + FieldElement(7)).isSquare }

    var isInfinity: Bool { z.isZero }

    /// The affine x coordinate (nil at infinity).
    var affineX: FieldElement? {
        guard !isInfinity else { return nil }
        return x * z.squared().inverse()
    }

    func doubled() -> CurvePoint {
        if isInfinity || y.isZero { return .infinity }
        let a = x.squared()
        let b = y.squared()
        let c = b.squared()
        let xb = x + b
        let d = (xb.squared() - a - c) + (xb.squared() - a - c)
        let e = a + a + a
        let f = e.squared()
        let x3 = f - d - d
        let eightC = c + c + c + c + c + c + c + c
        let y3 = e * (d - x3) - eightC
        let z3 = (y * z) + (y * z)
        return CurvePoint(x: x3, y: y3, z: z3)
    }

    /// self + q where q is affine (z = 1).
    func adding(affine q: CurvePoint) -> CurvePoint {
        if isInfinity { return q }
        let zz = z.squared()
        let u2 = q.x * zz
        let s2 = q.y * z * zz
        let h = u2 - x
        let r = s2 - y
        if h.isZero { return r.isZero ? doubled() : .infinity }
        let hh = h.squared()
        let hhh = h * hh
        let v = x * hh
        let x3 = r.squared() - hhh - v - v
        let y3 = r * (v - x3) - y * hhh
        return CurvePoint(x: x3, y: y3, z: z * h)
    }

    /// scalar · self for an affine point, scalar as 32 big-endian bytes.
    func multiplied(by scalar: [UInt8]) -> CurvePoint {
        var result = CurvePoint.infinity
        for byte in scalar {
            for bit in (0..<8).reversed() {
                result = result.doubled()
                if byte >> UInt8(bit) & 1 == 1 { result = result.adding(affine: self) }
            }
        }
        return result
    }
}

/// BIP 324's ElligatorSwift: a public key as 64 bytes (u, t) indistinguishable from random, every
/// 64 bytes decoding to some point — the way Stratum V2's Noise handshake sends keys.
enum ElligatorSwift {
    static let minusThreeRoot = (-FieldElement(3)).squareRoot()!

    /// The x coordinate that (u, t) encodes.
    static func decode(u uIn: FieldElement, t tIn: FieldElement) -> FieldElement {
        let u = uIn.isZero ? FieldElement.one : uIn
        var t = tIn.isZero ? FieldElement.one : tIn
        let seven = FieldElement(7)
        if (u * u * u + t * t + seven).isZero { t = t + t }
        let bigX = (u * u * u + seven - t * t) / (t + t)
        let bigY = (bigX + t) / (minusThreeRoot * u)
        let halfInverse = FieldElement(2).inverse()
        let first = u + FieldElement(4) * bigY.squared()
        if CurvePoint.isOnCurve(x: first) { return first }
        let second = (-bigX / bigY - u) * halfInverse
        if CurvePoint.isOnCurve(x: second) { return second }
        // One of the three is always on the curve (that is the encoding's theorem).
        return (bigX / bigY - u) * halfInverse
    }

    static func decode(_ encoded: [UInt8]) -> FieldElement {
        decode(u: FieldElement(bytes: encoded[0..<32]), t: FieldElement(bytes: encoded[32..<64]))
    }

    /// A t with decode(u, t) = x for one of the eight branches (`branch` 0...7), or nil.
    static func inverse(x: FieldElement, u: FieldElement, branch: Int) -> FieldElement? {
        let seven = FieldElement(7)
        let v: FieldElement
        let s: FieldElement
        if branch & 2 == 0 {
            if CurvePoint.isOnCurve(x: -x - u) { return nil }
            v = branch & 1 == 0 ? x : -x - u
            s = -(u * u * u + seven) / (u * u + u * v + v * v)
        } else {
            s = x - u
            if s.isZero { return nil }
            guard var r = (-s * (FieldElement(4) * (u * u * u + seven) + FieldElement(3) * s * u * u)).squareRoot()
            else { return nil }
            if branch & 1 == 1 {
                if r.isZero { return nil }
                r = -r
            }
            v = (-u + r / s) / FieldElement(2)
        }
        guard var w = s.squareRoot() else { return nil }
        if branch & 4 != 0 { w = -w }
        return w * (u * (minusThreeRoot - .one) / FieldElement(2) - v)
    }

    /// 64 bytes that decode to x, chosen at random among its encodings.
    static func encode(x: FieldElement, using random: inout some RandomNumberGenerator) -> [UInt8] {
        while true {
            let u = FieldElement(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) })
            if u.isZero { continue }
            let branch = Int.random(in: 0..<8, using: &random)
            // The decode check guards the inverse: a wrong encoding would break the handshake silently.
            if let t = inverse(x: x, u: u, branch: branch), decode(u: u, t: t) == x { return u.bytes + t.bytes }
        }
    }

    /// A fresh key pair: the 32-byte secret and its 64-byte encoding.
    static func keyPair(using random: inout some RandomNumberGenerator) -> (secret: [UInt8], encoded: [UInt8]) {
        while true {
            let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
            guard secret.contains(where: { $0 != 0 }), secret.lexicographicallyPrecedes(CurvePoint.order) else {
                continue
            }
            guard let x = CurvePoint.generator.multiplied(by: secret).affineX else { continue }
            return (secret, encode(x: x, using: &random))
        }
    }

    /// The x coordinate of secret · (the point `theirs` encodes), 32 bytes (BIP 324 ellswift_ecdh_xonly).
    static func sharedX(theirs: [UInt8], secret: [UInt8]) -> [UInt8]? {
        guard theirs.count == 64, let point = CurvePoint.lift(x: decode(theirs)) else { return nil }
        return point.multiplied(by: secret).affineX?.bytes
    }
}

/// Hex text to bytes: the probe's one hex decoder, for the constants written in hex here and for
/// hex a pool sends.
enum ProbeHex {
    /// Every pair of digits one byte (a trailing odd digit ignored); nil at a character that is not a
    /// hex digit.
    static func decode(_ hex: some Collection<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(hex.count / 2)
        var high: UInt8?
        for c in hex {
            guard let digit = digit(c) else { return nil }
            if let h = high {
                out.append(h << 4 | digit)
                high = nil
            } else {
                high = digit
            }
        }
        return out
    }

    /// A constant of this code, written in hex.
    static func bytes(_ hex: String) -> [UInt8] {
        guard let bytes = decode(hex.utf8) else { preconditionFailure("not hex: \(hex)") }
        return bytes
    }

    private static func digit(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
