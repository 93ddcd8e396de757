/// Wallet / worker splitting and wallet-shape coin hints.
public enum WalletParsing {
    /// Splits a pool login ("wallet.worker", "wallet/worker/email", "wallet+diff.worker",
    /// "wallet.paymentid.worker") into the wallet and the worker name.
    public static func split(_ user: String) -> (wallet: String, worker: String?) {
        let trimmed = user.trimmingSpaces
        let slashParts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        var head = String(slashParts[0])
        var worker: String? = slashParts.count > 1 && !slashParts[1].isEmpty ? String(slashParts[1]) : nil
        let dotParts = head.split(separator: ".", omittingEmptySubsequences: false)
        if dotParts.count > 1 {
            head = String(dotParts[0])
            // The last part that is not a payment id (16 or 64 hex digits) names the worker.
            if worker == nil, let last = dotParts.dropFirst().last(where: { !isPaymentID($0) && !$0.isEmpty }) {
                worker = String(last)
            }
        }
        // Fixed-difficulty suffixes: "wallet+50000", "wallet@host".
        if let plus = head.firstIndex(where: { $0 == "+" || $0 == "@" }) { head = String(head[..<plus]) }
        return (head, worker)
    }

    private static func isPaymentID(_ s: Substring) -> Bool {
        (s.count == 64 || s.count == 16)
            && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
