/// Reads RFC 6455 frames from one direction of an upgraded connection and
/// yields whole messages: client frames are unmasked, fragmented messages
/// joined, control frames skipped. Messages over `maxMessage` are skipped
/// (not buffered) and counted.
public struct WebSocketReader {
    public enum Opcode: UInt8, Sendable {
        case continuation = 0
        case text = 1
        case binary = 2
        case close = 8
        case ping = 9
        case pong = 10
    }

    public let maxMessage: Int
    public private(set) var invalid = false
    public private(set) var framesRead = 0
    public private(set) var oversizedMessages = 0
    private var header: [UInt8] = []
    /// Payload bytes still to read for the current frame.
    private var remaining = 0
    private var mask: (UInt8, UInt8, UInt8, UInt8)?
    private var maskIndex = 0
    private var frameOpcode: UInt8 = 0
    private var frameFin = false
    private var skippingFrame = false
    private var message: [UInt8] = []
    /// Bytes allocated for a partial header and message.
    public var bufferedBytes: Int { header.capacity + message.capacity }
    private var messageOpcode: Opcode?
    private var messageOversized = false

    public init(maxMessage: Int = 64 * 1024) { self.maxMessage = maxMessage }

    /// - Complexity: O(n) in the bytes fed.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, onMessage: (Opcode, [UInt8]) -> Void) {
        var i = 0
        while i < bytes.count && !invalid {
            if remaining == 0 {
                // Collect a header: 2 bytes, + 2/8 extended length, + 4 mask.
                header.append(bytes[i])
                i += 1
                guard header.count >= 2 else { continue }
                let len7 = Int(header[1] & 0x7F)
                let masked = header[1] & 0x80 != 0
                let need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0)
                guard header.count >= need else { continue }
                var length = len7
                var p = 2
                if len7 == 126 {
                    length = Int(header[2]) << 8 | Int(header[3])
                    p = 4
                }
                if len7 == 127 {
                    guard header[2] & 0x80 == 0, header[2...5].allSatisfy({ $0 == 0 }) else {
                        invalid = true
                        return
                    }
                    length = header[6...9].reduce(0) { $0 << 8 | Int($1) }
                    p = 10
                }
                mask = masked ? (header[p], header[p + 1], header[p + 2], header[p + 3]) : nil
                maskIndex = 0
                frameOpcode = header[0] & 0x0F
                frameFin = header[0] & 0x80 != 0
                // RSV bits are allowed: permessage-deflate sets RSV1 (such messages simply do not parse as JSON).
                header.removeAll(keepingCapacity: true)
                framesRead += 1
                guard startFrame(length: length) else {
                    invalid = true
                    return
                }
                remaining = length
                if length == 0 { endFrame(onMessage) }
                continue
            }
            let n = min(remaining, bytes.count - i)
            if !skippingFrame {
                for k in 0..<n {
                    var b = bytes[i + k]
                    if let m = mask {
                        switch maskIndex & 3 {
                        case 0: b ^= m.0
                        case 1: b ^= m.1
                        case 2: b ^= m.2
                        default: b ^= m.3
                        }
                        maskIndex += 1
                    }
                    message.append(b)
                }
            }
            i += n
            remaining -= n
            if remaining == 0 { endFrame(onMessage) }
        }
    }

    /// Decides where the coming payload goes. False for protocol violations.
    private mutating func startFrame(length: Int) -> Bool {
        guard let op = Opcode(rawValue: frameOpcode) else { return false }
        switch op {
        case .close, .ping, .pong:
            guard length <= 125 else { return false }
            skippingFrame = true
        case .text, .binary:
            guard messageOpcode == nil else { return false }  // a new message inside a fragmented one
            messageOpcode = op
            message.removeAll(keepingCapacity: true)
            messageOversized = length > maxMessage
            skippingFrame = messageOversized
        case .continuation:
            guard messageOpcode != nil else { return false }
            if message.count + length > maxMessage { messageOversized = true }
            skippingFrame = messageOversized
        }
        return true
    }

    private mutating func endFrame(_ onMessage: (Opcode, [UInt8]) -> Void) {
        let op = Opcode(rawValue: frameOpcode)
        skippingFrame = false
        guard op != .close, op != .ping, op != .pong, frameFin, let m = messageOpcode else { return }
        if messageOversized { oversizedMessages += 1 } else { onMessage(m, message) }
        messageOpcode = nil
        message.removeAll(keepingCapacity: true)
        messageOversized = false
    }
}
