import Foundation

/// How uncertain a hashrate estimated from shares is. A pool accepts a share for every `difficulty`
/// hashes on average, at random: the shares in a period are a Poisson count, so the rate they give is
/// uncertain by about ±2/√n at 95 % — 14 shares, −45 % / +68 %; 400 shares, ±10 %. Every estimate is
/// given with its 95 % interval (exact Poisson, Garwood), never as a bare number.
public enum RateInterval {
    /// The 95 % interval of a rate estimated from `shares` accepted shares, as factors of the estimate
    /// (low ≤ 1 ≤ high); nil without shares.
    public static func factors(shares n: Int) -> (low: Double, high: Double)? {
        guard n > 0 else { return nil }
        let (low, high) = poisson95(n)
        return (low / Double(n), high / Double(n))
    }

    /// The exact (Garwood) 95 % interval of a Poisson mean given the count `n` ≥ 1: the means under
    /// which seeing `n` or more, or `n` or fewer, has probability 2.5 %. Exact to 1e-9 by bisection on the
    /// Poisson distribution for counts up to 200; past that, the Wilson–Hilferty form of the chi-square
    /// quantiles it equals (within 0.1 % there).
    static func poisson95(_ n: Int) -> (Double, Double) {
        let z = 1.959963984540054
        if n > 200 {
            func chiSquare(_ k: Double, _ z: Double) -> Double {
                let a = 2 / (9 * k)
                return k * pow(1 - a + z * a.squareRoot(), 3)
            }
            return (chiSquare(2 * Double(n), -z) / 2, chiSquare(2 * (Double(n) + 1), z) / 2)
        }
        // P(X <= k | mean), term by term from e^-mean (no mean^k or k! to overflow; for the means searched
        // here, at most ~500, e^-mean stays far above the smallest Double).
        func cdf(_ k: Int, _ mean: Double) -> Double {
            guard mean > 0 else { return 1 }
            var term = exp(-mean)
            var sum = term
            if k == 0 { return sum }
            for i in 1...k {
                term *= mean / Double(i)
                sum += term
            }
            return min(sum, 1)
        }
        func solve(_ f: (Double) -> Double) -> Double {  // f decreasing in the mean, root where f = 0
            var lo = 0.0
            var hi = Double(n) + 20 * Double(n).squareRoot() + 20
            for _ in 0..<100 {
                let mid = (lo + hi) / 2
                if f(mid) > 0 { lo = mid } else { hi = mid }
            }
            return (lo + hi) / 2
        }
        // Lower: P(X >= n) = 2.5 %, i.e. P(X <= n-1) = 97.5 %. Upper: P(X <= n) = 2.5 %.
        let low = solve { cdf(n - 1, $0) - 0.975 }
        let high = solve { cdf(n, $0) - 0.025 }
        return (low, high)
    }
}
