import Reporting
import Testing

/// The 95 % interval of a rate from n accepted shares: the exact Poisson (Garwood) bounds, as SciPy
/// computes them (`chi2.ppf(0.025, 2n) / 2`, `chi2.ppf(0.975, 2n + 2) / 2`), as factors of the estimate.
@Suite struct RateIntervalTests {
    @Test(arguments: [
        (1, 0.025317807984289876, 5.571643390938898),
        (3, 0.6186721228956014, 8.767273069742323),
        (14, 7.653930276300595, 23.489621121835576),
        (100, 81.36399125092314, 121.62679379242638),
        (200, 173.24088268145732, 229.72198166544987),
        // Past 200 the Wilson–Hilferty form (within 0.1 %).
        (201, 174.17164539919554, 230.79105015886563),
        (1000, 938.9730184076952, 1063.952136016302)
    ])
    func matchesTheExactPoissonBounds(_ n: Int, _ low: Double, _ high: Double) throws {
        let f = try #require(RateInterval.factors(shares: n))
        let tolerance = n > 200 ? 1e-3 : 1e-7
        #expect(abs(f.low * Double(n) / low - 1) < tolerance, "low \(f.low * Double(n)) vs \(low)")
        #expect(abs(f.high * Double(n) / high - 1) < tolerance, "high \(f.high * Double(n)) vs \(high)")
    }

    @Test func noSharesNoInterval() {
        #expect(RateInterval.factors(shares: 0) == nil)
        #expect(RateInterval.factors(shares: -1) == nil)
        // Huge counts stay finite and tight.
        let f = RateInterval.factors(shares: Int.max)!
        #expect(f.low.isFinite && f.high.isFinite && f.low <= 1 && f.high >= 1 && f.high - f.low < 1e-6)
    }
}
