import Detection
import Digests
import Foundation
import PacketDecoding

/// Community ID v1 (github.com/corelight/community-id-spec): one string per flow that Zeek, Suricata,
/// Arkime and most SIEMs compute the same way, so an analyst can pivot from a StratumSniff session to
/// the same connection in their logs. SHA-1 over the seed and the flow's tuple with its endpoints in a
/// fixed order (smaller address first; for one address, smaller port first), Base64, prefixed `1:`.
public enum CommunityID {
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17

    /// The Community ID of the flow between `a` and `b` (either direction gives the same).
    /// - Parameter seed: the deployment's seed (0 unless every tool in it is set to another).
    public static func v1(
        _ a: IPAddress, _ aPort: UInt16, _ b: IPAddress, _ bPort: UInt16, proto: UInt8, seed: UInt16 = 0
    ) -> String {
        let x = bytes(a)
        let y = bytes(b)
        let ordered = x.lexicographicallyPrecedes(y) || (x == y && aPort <= bPort)
        let (first, firstPort, second, secondPort) = ordered ? (x, aPort, y, bPort) : (y, bPort, x, aPort)
        var input: [UInt8] = []
        input.reserveCapacity(2 + first.count + second.count + 6)
        input += [UInt8(seed >> 8), UInt8(seed & 0xFF)]
        input += first + second
        input += [proto, 0]
        input += [UInt8(firstPort >> 8), UInt8(firstPort & 0xFF), UInt8(secondPort >> 8), UInt8(secondPort & 0xFF)]
        return "1:" + Data(Digest.sha1(input)).base64EncodedString()
    }

    /// The address in network byte order (4 or 16 bytes).
    static func bytes(_ a: IPAddress) -> [UInt8] {
        switch a {
        case .v4(let v): (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) }
        case .v6(let hi, let lo):
            (0..<8).map { UInt8(truncatingIfNeeded: hi >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: lo >> (56 - 8 * $0)) }
        }
    }
}

extension SessionRecord {
    /// The session's flow (miner ↔ pool, TCP) as Community ID v1.
    public var communityID: String { CommunityID.v1(miner, minerPort, pool, poolPort, proto: CommunityID.tcp) }
}

extension Evidence {
    /// The Community ID of the connection the record came from (nil when it names no peer, or was
    /// stored before records kept the host's port and protocol).
    public var communityID: String? {
        guard let p = peer, let port = hostPort, let proto = transport else { return nil }
        return CommunityID.v1(host, port, p, peerPort, proto: proto)
    }
}
