/// Test helpers for building wire bytes.
func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
func be24(_ v: Int) -> [UInt8] { [UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
func hex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = s.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
    return out
}

/// A self-signed certificate made once with openssl for these tests:
/// subject O=Test Pool, CN=pool.example-xmr.test; SAN DNS:pool.example-xmr.test, DNS:*.example-xmr.test, IP:192.0.2.1.
let testCertificateDER = hex(
    "308201fa308201a1a00302010202143b29134b42aac3942db6261cf2d6483fe5ee8af3300a06082a8648ce3d040302303431123010060355040a0c095465737420506f6f6c311e301c06035504030c15706f6f6c2e6578616d706c652d786d722e74657374301e170d3236313132363230323233365a170d3336313132333230323233365a303431123010060355040a0c095465737420506f6f6c311e301c06035504030c15706f6f6c2e6578616d706c652d786d722e746573743059301306072a8648ce3d020106082a8648ce3d03010703420004ed0cafa70c5d164309efae29e443c44ea44b63cc1cf15dd38a1c5b5b2e57401fc11e7c978c8ff255dd28d29a4986e421238f2ac99a38519c4ce5ff53d2e86787a3819030818d301d0603551d0e04160414e27adb991b98abdc79724219900ea7f7a55330db301f0603551d23041830168014e27adb991b98abdc79724219900ea7f7a55330db300f0603551d130101ff040530030101ff303a0603551d11043330318215706f6f6c2e6578616d706c652d786d722e7465737482122a2e6578616d706c652d786d722e746573748704c0000201300a06082a8648ce3d040302034700304402207f542cf8ba644b63135ef5794fc478cd9ae1ccb3dbd331b4fbd4a5bc0281d3b30220351b80e285a89c5b110c11e469539e0e3c17fb895941351e59a56b8c4a3d542e"
)

/// A ClientHello in the shape Chrome sends, from the lists of a published JA3/JA4 test vector
/// (ja3 98487aa16281980e7d1120d399efb6a4, ja4 t13d1516h2_8daaf6152771_d8a2da3f94cd), with GREASE
/// values added in the places Chrome puts them (both fingerprints must ignore them).
func chromeLikeClientHello(sni: String = "tls.browserleaks.com") -> [UInt8] {
    let ciphers = [0x1A1A, 4865, 4866, 4867, 49195, 49199, 49196, 49200, 52393, 52392, 49171, 49172, 156, 157, 47, 53]
    let extOrder = [0x2A2A, 45, 51, 16, 65037, 23, 17613, 0, 11, 10, 43, 65281, 35, 18, 5, 13, 27, 0x3A3A]
    var exts: [UInt8] = []
    for t in extOrder {
        var data: [UInt8] = []
        switch t {
        case 0:
            let n = Array(sni.utf8)
            data = be16(n.count + 3) + [0] + be16(n.count) + n
        case 16: data = be16(3) + [2] + Array("h2".utf8)
        case 10:
            let g = [0x4A4A, 4588, 29, 23, 24]
            data = be16(g.count * 2) + g.flatMap(be16)
        case 11: data = [1, 0]
        case 13:
            let s = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
            data = be16(s.count * 2) + s.flatMap(be16)
        case 43:
            let v = [0x5A5A, 0x0304, 0x0303]
            data = [UInt8(v.count * 2)] + v.flatMap(be16)
        case 45: data = [1, 1]
        case 0x3A3A: data = [0]
        default: data = []
        }
        exts += be16(t) + be16(data.count) + data
    }
    var body: [UInt8] = be16(0x0303) + [UInt8](repeating: 7, count: 32) + [32] + [UInt8](repeating: 9, count: 32)
    body += be16(ciphers.count * 2) + ciphers.flatMap(be16) + [1, 0] + be16(exts.count) + exts
    return [1] + be24(body.count) + body
}

/// Wraps handshake bytes into TLS records of at most recordSize bytes each.
func records(_ handshake: [UInt8], recordSize: Int = 16384, type: UInt8 = 22) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    while i < handshake.count {
        let n = min(recordSize, handshake.count - i)
        out += [type, 3, 1] + be16(n) + handshake[i..<(i + n)]
        i += n
    }
    return out
}

/// Made as XMRig's TlsGen.cpp makes its own certificate (X.509 v1, serial 1, self-signed, CN=localhost,
/// RSA-2048, 3650 days): `openssl x509 -req -signkey k.pem -set_serial 1 -days 3650`.
let minerProfileCertificateDER = hex(
    "3082029c30820184020101300d06092a864886f70d01010b050030143112301006035504030c096c6f63616c686f7374301e170d3236313132373132333735355a170d3336313132343132333735355a30143112301006035504030c096c6f63616c686f737430820122300d06092a864886f70d01010105000382010f003082010a0282010100dedc0c92ba6a1004b5157bac9d8d1a5b9039d664af4032426f4582390a01e58ae139023e1e0aa239d354c12745a57ab7d01a631de4c185646b8a2e7771a9c2d1c18457158c5cf1ef10ee01cf628c34adfad8ca6600bd5675217d2b91a514c9b10159714392e1e21fedfc1adbade5a04ab7a64ed76e2d37e37ab65ba389fcce4043ec94948b05f0d2e35b3f58570c7deedb127274fa2471e284ffe3662184b76098f8dbd4dda2952caacc51bbb0a28fbea824551928cd3dfc4198977fd790abbb134f3b40872cf14c1503eb1f73572ded77c4c7a67f5780dad103b0d9e124b87e45f1c4f1c9b9cc0688ce92d11209d20564dc3ce14d9f05e5fbb24e9e75a0998f0203010001300d06092a864886f70d01010b05000382010100398cb3884d9ba1d4fd089a1e829afd0263b7d9dfc109a955f8ffa3f9cd4d1dcaaf01c94c9ac256b77242861260a1838a044d2cce17ab0f6709fb69159b86968d896da873fbfd86878743098a8007d1ddb663bdf1c0592c8474d1c092d8651c3e7a4ef64b69dfe25fb998f1deafc8d0e6cc6db31b6571543bf19956909443e1b9332c9a1b3c12eb23cc602679115c3a9bc462783a24a768294de37e82fd5388eda4ad62083f7eb477d9021e8dea6f5f533f0e6602bf2def7dc3a8066b08949f8a2e0e93922d9a8d3be5fc987f6f62e11034cc1c435f3a3c7f5c83af0c0f081860e9408761782d88af932b9bdbad8903480d4da8e4395d7deb6b89f731a743eb2e"
)
/// The same key and name, valid 365 days.
let oneYearSelfSignedDER = hex(
    "3082029c30820184020101300d06092a864886f70d01010b050030143112301006035504030c096c6f63616c686f7374301e170d3236313132373132343130305a170d3237313132373132343130305a30143112301006035504030c096c6f63616c686f737430820122300d06092a864886f70d01010105000382010f003082010a0282010100dedc0c92ba6a1004b5157bac9d8d1a5b9039d664af4032426f4582390a01e58ae139023e1e0aa239d354c12745a57ab7d01a631de4c185646b8a2e7771a9c2d1c18457158c5cf1ef10ee01cf628c34adfad8ca6600bd5675217d2b91a514c9b10159714392e1e21fedfc1adbade5a04ab7a64ed76e2d37e37ab65ba389fcce4043ec94948b05f0d2e35b3f58570c7deedb127274fa2471e284ffe3662184b76098f8dbd4dda2952caacc51bbb0a28fbea824551928cd3dfc4198977fd790abbb134f3b40872cf14c1503eb1f73572ded77c4c7a67f5780dad103b0d9e124b87e45f1c4f1c9b9cc0688ce92d11209d20564dc3ce14d9f05e5fbb24e9e75a0998f0203010001300d06092a864886f70d01010b050003820101009bcf29b61ae03c3500661acbec9a8ae0f6d5b3613ced047c6c04cab2c73829cbdfb8701a1fe0f290efc81cb1bbdf7ad2ac5d9b950b0d55b74b184f82ba3495c70a01e55f2bacf39ed648a434d0bda7109b33ffee19b2790ff2227f42570d1e969234d4cd327f941077b726c5109ccaa7d804fa34390b7060be5fce08b14bfb8ea2dbc7812f2ea8bf84b03f410816724b4549146f244c1328195f28b6b9444171deb8a3cc16f43134b156562173e923b6673a9d8176cb760fa2c201ad5196692930847bafcac1d74e8beb47d865345efb862bca29a2862a9e11b5151aec452695500cab07b1efa9774f9a6b5790723b847f65e8269b68aa9b0307aec92b00bbc0"
)
