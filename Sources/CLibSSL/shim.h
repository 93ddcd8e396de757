// OpenSSL's libssl for the probe's TLS client. Several of its calls are macros Swift cannot
// import; each is one inline function here.
#ifndef STRATUMSNIFF_SSL_H
#define STRATUMSNIFF_SSL_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>

/// Sends `name` as the server name (SNI) in the ClientHello.
static inline int stratumsniff_ssl_set_sni(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }

/// The oldest protocol version offered (TLS1_VERSION: pools still run TLS 1.0 stacks).
static inline int stratumsniff_ssl_ctx_min_version(SSL_CTX *ctx, int version) { return (int)SSL_CTX_set_min_proto_version(ctx, version); }

/// The server's leaf certificate in DER into `out` (up to `capacity` bytes): its length, 0 when
/// there is none, -1 when it does not fit.
static inline int stratumsniff_ssl_peer_certificate(SSL *ssl, unsigned char *out, int capacity) {
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (cert == NULL) return 0;
    int length = i2d_X509(cert, NULL);
    int result = -1;
    if (length > 0 && length <= capacity) {
        unsigned char *p = out;
        result = i2d_X509(cert, &p);
    }
    X509_free(cert);
    return result;
}
#endif
