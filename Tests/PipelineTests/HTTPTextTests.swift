import Testing

@testable import Pipeline

/// The byte-level shortcuts of the HTTP analyzer give what walking characters gave.
@Suite struct HTTPTextTests {
    @Test(arguments: [
        ("pool.example.com:3333", "pool.example.com"),
        ("pool.example.com", "pool.example.com"),
        ("a:b:c", "a:b"),
        (":80", ""),
        ("[2001:db8::1]:443", "[2001:db8::1]:443"),  // brackets: left alone
        ("pöol.example:8080", "pöol.example"),  // not ASCII: by characters
        ("p:\u{301}x", "p:\u{301}x"),  // a colon with a combining mark is no colon
        ("", "")
    ])
    func hostOnlyCutsThePort(host: String, expected: String) {
        #expect(HTTPAnalyzer.hostOnly(host) == expected)
        // The reference: the characters' last ":" (what hostOnly did before its byte path).
        if !host.hasPrefix("[") {
            let reference = host.lastIndex(of: ":").map { String(host[..<$0]) } ?? host
            #expect(HTTPAnalyzer.hostOnly(host) == reference)
        }
    }

    @Test func firstCharactersIsPrefixWhateverTheLength() {
        for text in [
            "", "curl/8.5.0", String(repeating: "x", count: 300), "é" + String(repeating: "e\u{301}", count: 200),
            String(repeating: "🇫🇷", count: 100)
        ] {
            for n in [0, 1, 10, 200, 256, 1000] {
                #expect(text.first(characters: n) == String(text.prefix(n)))
            }
        }
    }
}
