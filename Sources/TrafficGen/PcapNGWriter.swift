import PacketDecoding

/// Minimal pcapng writer (section header, interface descriptions with time options, enhanced packets).
enum PcapNG {
    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(v >> (8 * UInt32($0)) & 0xFF) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(v >> (8 * UInt64($0)) & 0xFF) } }

    static func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
        let padded = body + [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
        let total = UInt32(12 + padded.count)
        return le32(type) + le32(total) + padded + le32(total)
    }

    static func sectionHeader() -> [UInt8] {
        block(0x0A0D_0D0A, le32(0x1A2B_3C4D) + le16(1) + le16(0) + le64(UInt64.max))
    }

    static func interface(tsresol: UInt8, tsoffset: Int64) -> [UInt8] {
        let options =
            le16(9) + le16(1) + [tsresol, 0, 0, 0] + le16(14) + le16(8) + le64(UInt64(bitPattern: tsoffset)) + le16(0)
            + le16(0)
        return block(1, le16(1) + le16(0) + le32(262_144) + options)
    }

    static func packet(interface: UInt32, stamp: UInt64, frame: [UInt8]) -> [UInt8] {
        block(
            6,
            le32(interface) + le32(UInt32(stamp >> 32)) + le32(UInt32(stamp & 0xFFFF_FFFF)) + le32(UInt32(frame.count))
                + le32(UInt32(frame.count))
                + frame + [UInt8](repeating: 0, count: (4 - frame.count % 4) % 4))
    }
}
