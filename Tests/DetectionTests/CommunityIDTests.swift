import PacketDecoding
import Reporting
import Testing

/// Community ID v1 as the reference implementation (PyPI `communityid` 1.5, `CommunityID().calc(...)`)
/// computes it for the same tuples; `scripts/check-community-id` compares every session of every
/// capture with it.
@Suite struct CommunityIDTests {
    func ip(_ s: String) -> IPAddress { IPAddress(s)! }

    @Test(arguments: [
        ("10.0.0.5", 51000, "198.51.100.20", 3333, "1:8wkxW6NMYQoFgXRQS/pptoriT1Y="),
        // Either direction: the same flow.
        ("198.51.100.20", 3333, "10.0.0.5", 51000, "1:8wkxW6NMYQoFgXRQS/pptoriT1Y="),
        ("2001:db8::1", 51000, "2001:db8::2", 443, "1:TZebe/ybIXr8J9lX26/lqPRYGuk="),
        // One address both ends: the smaller port first.
        ("10.0.0.1", 5000, "10.0.0.1", 80, "1:LD76GfTIBU2lu/ZefEgEGuuBPew="),
        ("255.255.255.255", 65535, "0.0.0.0", 0, "1:LdN0oTsWjz5qVMMtMj5zPyV/TiU=")
    ])
    func tcpFlowsMatchTheReference(_ a: String, _ aPort: Int, _ b: String, _ bPort: Int, _ expected: String) {
        #expect(CommunityID.v1(ip(a), UInt16(aPort), ip(b), UInt16(bPort), proto: CommunityID.tcp) == expected)
    }

    @Test func seedAndProtocolEnterTheHash() {
        #expect(
            CommunityID.v1(ip("10.0.0.5"), 51000, ip("198.51.100.20"), 3333, proto: CommunityID.tcp, seed: 1)
                == "1:KvzL4Sk0mFQCwsOpOX+vkERGyo4=")
        #expect(
            CommunityID.v1(ip("10.0.0.5"), 40000, ip("10.0.0.53"), 53, proto: CommunityID.udp)
                == "1:oTP++B/DzgXx9yZhPI6LtVJ3Bcs=")
    }
}
