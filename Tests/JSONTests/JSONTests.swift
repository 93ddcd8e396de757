import JSON
import Testing

@Suite struct JSONParserTests {
    @Test func objectsKeepOrderAndNumbersKeepText() throws {
        let v = try JSONParser.parse(#" { "id" : 1e3 , "params":[ "a\"b", null, true, -0.5 ], "x":{} } "#)
        #expect(v.object?.keys == ["id", "params", "x"])
        #expect(v["id"] == .number("1e3"))
        #expect(v["params"]?[0]?.string == "a\"b")
        #expect(v["params"]?[1] == .null)
        #expect(v["params"]?[3]?.double == -0.5)
    }

    @Test func unicodeEscapesAndSurrogates() throws {
        let v = try JSONParser.parse(#"["\u00e9\ud83d\ude00\n", "\ud800x"]"#)
        #expect(v[0]?.string == "é😀\n")
        #expect(v[1]?.string == "\u{FFFD}x")
    }

    @Test(arguments: [
        "", "{", "{\"a\":}", "[1,]", "{\"a\" 1}", "tru", "01", "1.", "\"\u{1}\"", "{\"a\":1}x", "[\"\\q\"]", "{'a':1}",
        "nul"
    ])
    func rejectsInvalid(text: String) {
        #expect(throws: JSONError.self) { try JSONParser.parse(text) }
    }

    @Test func depthIsCapped() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONError.tooDeep) { try JSONParser.parse(deep) }
        #expect((try? JSONParser.parse(deep, maxDepth: 200)) != nil)
    }

    @Test func idKeysMatchAcrossNumberSpellings() throws {
        #expect(try JSONParser.parse("1").idKey == JSONParser.parse("1.0").idKey)
        #expect(try JSONParser.parse("1").idKey != JSONParser.parse("\"1\"").idKey)
    }

    @Test func hexToDouble() {
        #expect(JSONValue.hexToDouble("ff") == 255)
        #expect(JSONValue.hexToDouble("xyz") == nil)
    }
}
