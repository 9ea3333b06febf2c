#pragma once
// Pieces shared by tls_context.cpp and tls_engine.cpp; not part of the interface.

#include <openssl/types.h>

#include <string>

namespace mqttwire::broker::net::detail {

// Installed on every context; they find their engine through SSL_get_app_data.
int verify_callback(int preverify_ok, X509_STORE_CTX* store);
int client_hello_callback(SSL* ssl, int* alert, void* arg);

// The reason of the most recent OpenSSL error on this thread ("unsupported protocol"), or
// `fallback` when the queue is empty. Empties the queue.
std::string take_openssl_error(const char* fallback = "unknown OpenSSL error");

// "Jan  1 00:00:00 2021 GMT".
std::string asn1_time_text(const ASN1_TIME* t);

// An X509_NAME in mosquitto's use_subject_as_username format (RFC 2253).
std::string name_rfc2253(const X509_NAME* name);

} // namespace mqttwire::broker::net::detail
