// Tests of the mosquitto.conf(5) subset parser (conformance/broker/config.hpp). No MQTT
// normative statement binds a broker's configuration file, so these tests cite mosquitto's
// manual and behaviour instead.

#include "config_test_support.hpp"

TEST(Config, EmptyTextGivesDefaults) {
    const auto c = parse_ok("");
    EXPECT_TRUE(c.listeners.empty());
    EXPECT_TRUE(c.allow_anonymous); // local-only mode, see AllowAnonymousDefault*
    EXPECT_TRUE(c.password_file.empty());
    EXPECT_TRUE(c.acl_file.empty());
    EXPECT_EQ(c.max_packet_size, 0u);
    EXPECT_EQ(c.max_inflight_messages, 20u);
    EXPECT_EQ(c.max_queued_messages, 1000u);
    EXPECT_EQ(c.max_keepalive, 65535u);
    EXPECT_TRUE(c.retain_available);
    EXPECT_FALSE(c.persistent_client_expiration.has_value());
    EXPECT_EQ(c.max_connections, -1);
}

TEST(Config, CommentsBlankLinesAndWhitespace) {
    const auto c = parse_ok("# a comment\n"
                            "\n"
                            "   \t\n"
                            "   # indented comment\n"
                            "max_keepalive 60   \t\r\n"
                            "\tretain_available false\n"
                            "max_inflight_messages\t\t5\n");
    EXPECT_EQ(c.max_keepalive, 60u);
    EXPECT_FALSE(c.retain_available);
    EXPECT_EQ(c.max_inflight_messages, 5u);
}

TEST(Config, CrlfLineEndingsAndNoFinalNewline) {
    const auto c = parse_ok("listener 1884\r\nmax_connections 3");
    ASSERT_EQ(c.listeners.size(), 1u);
    EXPECT_EQ(c.listeners[0].port, 1884);
    EXPECT_EQ(c.max_connections, 3);
}

TEST(Config, Listener) {
    const auto c = parse_ok("listener 1883\nlistener 8883 0.0.0.0\nlistener 1884 ::1\n");
    ASSERT_EQ(c.listeners.size(), 3u);
    EXPECT_EQ(c.listeners[0].port, 1883);
    EXPECT_EQ(c.listeners[0].address, "127.0.0.1");
    EXPECT_EQ(c.listeners[1].port, 8883);
    EXPECT_EQ(c.listeners[1].address, "0.0.0.0");
    EXPECT_EQ(c.listeners[2].address, "::1");
    EXPECT_EQ(parse_ok("listener 65535\n").listeners[0].port, 65535);
    EXPECT_EQ(parse_ok("listener 1\n").listeners[0].port, 1);
}

TEST(Config, ListenerErrors) {
    expect_error("listener\n", 1, "listener: missing port");
    expect_error("\nlistener 0\n", 2, "listener: port");
    expect_error("listener 65536\n", 1, "listener: port");
    expect_error("listener -1\n", 1, "listener: port");
    expect_error("listener abc\n", 1, "listener: port");
    expect_error("listener 1883 127.0.0.1 extra\n", 1, "listener: unexpected extra argument");
    expect_error("listener 1883\nlistener 1883 127.0.0.1\n", 2, "already defined");
}

// mosquitto.conf(5), allow_anonymous: "Defaults to false, unless no listeners are defined in the
// configuration file, in which case it set to true, but connections are only allowed from the
// local machine." Verified against mosquitto 2.0.11.
TEST(Config, AllowAnonymousDefaultIsFalseWithAListener) {
    EXPECT_FALSE(parse_ok("listener 1883\n").allow_anonymous);
    EXPECT_FALSE(parse_ok("listener 1883 127.0.0.1\npassword_file /p\n").allow_anonymous);
}

TEST(Config, AllowAnonymousDefaultIsTrueInLocalOnlyMode) {
    EXPECT_TRUE(parse_ok("max_keepalive 60\n").allow_anonymous);
    EXPECT_TRUE(parse_ok("password_file /p\n").allow_anonymous);
}

TEST(Config, AllowAnonymousExplicit) {
    EXPECT_TRUE(parse_ok("listener 1883\nallow_anonymous true\n").allow_anonymous);
    EXPECT_FALSE(parse_ok("allow_anonymous false\n").allow_anonymous);
    // The last one wins, as in mosquitto.
    EXPECT_TRUE(parse_ok("allow_anonymous false\nallow_anonymous true\n").allow_anonymous);
}

TEST(Config, BooleanErrors) {
    expect_error("allow_anonymous\n", 1, "allow_anonymous: missing value");
    expect_error("allow_anonymous yes\n", 1, "allow_anonymous: expected true or false");
    expect_error("allow_anonymous True\n", 1, "allow_anonymous: expected true or false");
    expect_error("allow_anonymous 1\n", 1, "allow_anonymous: expected true or false");
    expect_error("# x\nallow_anonymous true false\n", 2, "allow_anonymous: unexpected extra");
    expect_error("retain_available\n", 1, "retain_available: missing value");
    expect_error("\n\nretain_available nope\n", 3, "retain_available: expected true or false");
    expect_error("retain_available true x\n", 1, "retain_available: unexpected extra");
}

TEST(Config, RetainAvailable) {
    EXPECT_TRUE(parse_ok("retain_available true\n").retain_available);
    EXPECT_FALSE(parse_ok("retain_available false\n").retain_available);
}

TEST(Config, Paths) {
    const auto c =
        parse_ok("password_file /etc/mosquitto/passwd\nacl_file   /etc/mosquitto/acl  \n");
    EXPECT_EQ(c.password_file, "/etc/mosquitto/passwd");
    EXPECT_EQ(c.acl_file, "/etc/mosquitto/acl");
    // Like mosquitto's conf__parse_string, the path is the rest of the line.
    EXPECT_EQ(parse_ok("password_file /my files/pw\n").password_file, "/my files/pw");
    EXPECT_EQ(parse_ok("acl_file relative/acl\n").acl_file, "relative/acl");
}

TEST(Config, PathErrors) {
    expect_error("password_file\n", 1, "password_file: missing path");
    expect_error("acl_file   \n", 1, "acl_file: missing path");
    expect_error("password_file /a\npassword_file /b\n", 2, "password_file: given more than once");
    expect_error("acl_file /a\n\nacl_file /b\n", 3, "acl_file: given more than once");
}

TEST(Config, MaxPacketSize) {
    EXPECT_EQ(parse_ok("max_packet_size 0\n").max_packet_size, 0u);
    EXPECT_EQ(parse_ok("max_packet_size 20\n").max_packet_size, 20u);
    EXPECT_EQ(parse_ok("max_packet_size 1048576\n").max_packet_size, 1048576u);
    // The largest MQTT packet: 1 + 4 + 268,435,455 bytes.
    EXPECT_EQ(parse_ok("max_packet_size 268435460\n").max_packet_size, 268435460u);
    expect_error("max_packet_size 268435461\n", 1, "max_packet_size: 268435461 is out of range");
    expect_error("max_packet_size 19\n", 1, "max_packet_size: 19 is below the minimum of 20");
    expect_error("max_packet_size\n", 1, "max_packet_size: missing number");
    expect_error("max_packet_size -5\n", 1, "max_packet_size: expected a non-negative");
    expect_error("max_packet_size 1k\n", 1, "max_packet_size: expected a non-negative");
    expect_error("max_packet_size 100 200\n", 1, "max_packet_size: unexpected extra");
}

TEST(Config, MaxInflightMessages) {
    EXPECT_EQ(parse_ok("max_inflight_messages 0\n").max_inflight_messages, 0u);
    EXPECT_EQ(parse_ok("max_inflight_messages 1\n").max_inflight_messages, 1u);
    EXPECT_EQ(parse_ok("max_inflight_messages 65535\n").max_inflight_messages, 65535u);
    expect_error("max_inflight_messages 65536\n", 1,
                 "max_inflight_messages: 65536 is out of range");
    expect_error("max_inflight_messages +3\n", 1, "max_inflight_messages: expected a non-negative");
    expect_error("max_inflight_messages\n", 1, "max_inflight_messages: missing number");
}

TEST(Config, MaxQueuedMessages) {
    EXPECT_EQ(parse_ok("max_queued_messages 0\n").max_queued_messages, 0u);
    EXPECT_EQ(parse_ok("max_queued_messages 100000\n").max_queued_messages, 100000u);
    EXPECT_EQ(parse_ok("max_queued_messages 2147483647\n").max_queued_messages, 2147483647u);
    expect_error("max_queued_messages 2147483648\n", 1, "max_queued_messages: 2147483648 is out");
    expect_error("max_queued_messages 99999999999999999999999\n", 1,
                 "max_queued_messages: 99999999999999999999999 is out of range");
    expect_error("max_queued_messages 0x10\n", 1, "max_queued_messages: expected a non-negative");
}

TEST(Config, MaxKeepalive) {
    EXPECT_EQ(parse_ok("max_keepalive 0\n").max_keepalive, 0u);
    EXPECT_EQ(parse_ok("max_keepalive 60\n").max_keepalive, 60u);
    EXPECT_EQ(parse_ok("max_keepalive 65535\n").max_keepalive, 65535u);
    expect_error("max_keepalive 65536\n", 1, "max_keepalive: 65536 is out of range");
    expect_error("max_keepalive 1.5\n", 1, "max_keepalive: expected a non-negative");
    expect_error("max_keepalive\n", 1, "max_keepalive: missing number");
}

TEST(Config, TopicAliasesOut) {
    EXPECT_EQ(parse_ok("").max_topic_alias_out, 64u);
    EXPECT_EQ(parse_ok("").topic_alias_out_min_length, 8u);
    EXPECT_EQ(parse_ok("max_topic_alias_out 0\n").max_topic_alias_out, 0u);
    EXPECT_EQ(parse_ok("max_topic_alias_out 65535\n").max_topic_alias_out, 65535u);
    EXPECT_EQ(parse_ok("topic_alias_out_min_length 32\n").topic_alias_out_min_length, 32u);
    expect_error("max_topic_alias_out 65536\n", 1, "max_topic_alias_out: 65536 is out of range");
    expect_error("topic_alias_out_min_length -1\n", 1, "topic_alias_out_min_length");
    expect_error("max_topic_alias_out\n", 1, "max_topic_alias_out: missing number");
    EXPECT_FALSE(parse_ok("").topic_alias_out_replace);
    EXPECT_TRUE(parse_ok("topic_alias_out_replace true\n").topic_alias_out_replace);
    expect_error("topic_alias_out_replace yes\n", 1, "topic_alias_out_replace");
}

TEST(Config, MaxConnections) {
    EXPECT_EQ(parse_ok("max_connections -1\n").max_connections, -1);
    EXPECT_EQ(parse_ok("max_connections 0\n").max_connections, 0);
    EXPECT_EQ(parse_ok("max_connections 1000\n").max_connections, 1000);
    expect_error("max_connections -2\n", 1, "max_connections: expected -1");
    expect_error("max_connections many\n", 1, "max_connections: expected -1");
    expect_error("max_connections 2147483648\n", 1, "max_connections: 2147483648 is out of range");
    expect_error("max_connections\n", 1, "max_connections: missing number");
    expect_error("max_connections 1 2\n", 1, "max_connections: unexpected extra");
}

TEST(Config, HandshakeTimeout) {
    EXPECT_EQ(parse_ok("").handshake_timeout, std::chrono::seconds(10));
    EXPECT_EQ(parse_ok("handshake_timeout 1\n").handshake_timeout, std::chrono::seconds(1));
    EXPECT_EQ(parse_ok("handshake_timeout 3600\n").handshake_timeout, std::chrono::seconds(3600));
    expect_error("handshake_timeout 0\n", 1, "handshake_timeout: 0 is below the minimum of 1");
    expect_error("handshake_timeout 3601\n", 1, "handshake_timeout: 3601 is out of range");
    expect_error("handshake_timeout\n", 1, "handshake_timeout: missing number");
}

// mosquitto.conf(5): "an integer followed by one of h d w m y for hour, day, week, month and
// year"; mosquitto's conf.c counts a month as 30 days and a year as 365.
TEST(Config, PersistentClientExpiration) {
    using std::chrono::seconds;
    EXPECT_EQ(parse_ok("persistent_client_expiration 1h\n").persistent_client_expiration,
              seconds(3600));
    EXPECT_EQ(parse_ok("persistent_client_expiration 14d\n").persistent_client_expiration,
              seconds(14 * 86400));
    EXPECT_EQ(parse_ok("persistent_client_expiration 2w\n").persistent_client_expiration,
              seconds(14 * 86400));
    EXPECT_EQ(parse_ok("persistent_client_expiration 2m\n").persistent_client_expiration,
              seconds(60 * 86400));
    EXPECT_EQ(parse_ok("persistent_client_expiration 1y\n").persistent_client_expiration,
              seconds(365 * 86400));
}

TEST(Config, PersistentClientExpirationErrors) {
    constexpr std::string_view d = "persistent_client_expiration";
    expect_error("persistent_client_expiration\n", 1, "persistent_client_expiration: missing");
    expect_error("persistent_client_expiration 10\n", 1, d); // no unit
    expect_error("persistent_client_expiration 10s\n", 1, "followed by h, d, w, m or y");
    expect_error("persistent_client_expiration d\n", 1, "followed by h, d, w, m or y");
    expect_error("persistent_client_expiration -1d\n", 1, "followed by h, d, w, m or y");
    expect_error("persistent_client_expiration 1.5d\n", 1, "followed by h, d, w, m or y");
    expect_error("persistent_client_expiration 0d\n", 1, "greater than zero");
    expect_error("persistent_client_expiration 99999999999d\n", 1, "too long");
    expect_error("persistent_client_expiration 1d 2d\n", 1, "unexpected extra");
}

TEST(Config, UnknownDirectivesAndLineNumbers) {
    expect_error("bind_adress 0.0.0.0\n", 1, "unknown directive 'bind_adress'");
    expect_error("# comment\n\nlistener 1883\nmax_keepalive 60\npersistance true\n", 5,
                 "unknown directive 'persistance'");
    // Directive names are case-sensitive, as in mosquitto.
    expect_error("Listener 1883\n", 1, "unknown directive 'Listener'");
    // An inline comment is not a comment: it is an extra argument.
    expect_error("max_keepalive 60 # one minute\n", 1, "max_keepalive: unexpected extra");
    expect_error("max_keepalive 60\n\r\nmax_keepalive\0 1\n"sv, 3, "NUL");
}

TEST(Config, LastScalarValueWins) {
    const auto c = parse_ok("max_keepalive 10\nmax_keepalive 20\n");
    EXPECT_EQ(c.max_keepalive, 20u);
}

TEST(Config, LoadResolvesRelativePathsAgainstTheConfigDirectory) {
    temp_dir dir;
    const auto path = dir.write("broker.conf", "listener 1883\n"
                                               "allow_anonymous false\n"
                                               "password_file passwd\n"
                                               "acl_file sub/acl\n");
    mb::config c;
    mb::config_error e;
    ASSERT_TRUE(mb::load_config(path, c, e)) << e.message;
    EXPECT_EQ(c.password_file, dir.path + "/passwd");
    EXPECT_EQ(c.acl_file, dir.path + "/sub/acl");
    EXPECT_FALSE(c.allow_anonymous);

    const auto abs = dir.write("abs.conf", "password_file /etc/pw\n");
    ASSERT_TRUE(mb::load_config(abs, c, e)) << e.message;
    EXPECT_EQ(c.password_file, "/etc/pw");
    EXPECT_TRUE(c.acl_file.empty());
}

TEST(Config, LoadReportsTheLineOfAnError) {
    temp_dir dir;
    const auto path = dir.write("bad.conf", "listener 1883\n\n# x\nmax_inflight_messages lots\n");
    mb::config c;
    mb::config_error e;
    ASSERT_FALSE(mb::load_config(path, c, e));
    EXPECT_EQ(e.line, 4u);
    EXPECT_NE(e.message.find("max_inflight_messages"), std::string::npos);
}

TEST(Config, LoadMissingFileIsAFileLevelError) {
    mb::config c;
    mb::config_error e;
    ASSERT_FALSE(mb::load_config("/nonexistent/dir/mosquitto.conf", c, e));
    EXPECT_EQ(e.line, 0u);
    EXPECT_NE(e.message.find("/nonexistent/dir/mosquitto.conf"), std::string::npos);
}

TEST(Config, LoadDirectoryIsAFileLevelError) {
    temp_dir dir;
    mb::config c;
    mb::config_error e;
    ASSERT_FALSE(mb::load_config(dir.path, c, e));
    EXPECT_EQ(e.line, 0u);
}

// ---------------------------------------------------------------------------------------------
// Listener blocks: protocol, TLS settings, per_listener_settings (mosquitto.conf(5)).
// ---------------------------------------------------------------------------------------------

TEST(Config, ListenerDefaultsArePlainMqtt) {
    const auto c = parse_ok("listener 1883\n");
    ASSERT_EQ(c.listeners.size(), 1u);
    EXPECT_EQ(c.listeners[0].protocol, mb::listener_protocol::mqtt);
    EXPECT_FALSE(c.listeners[0].tls.enabled());
    EXPECT_EQ(c.listeners[0].tls.min_version, mb::tls_version::tls1_2);
    EXPECT_FALSE(c.per_listener_settings);
}

// The four listeners of Home Assistant's mosquitto add-on: mqtt, websockets, and both over TLS.
TEST(Config, ListenerBlocksCarryTheirOwnProtocolAndTls) {
    const auto c = parse_ok("listener 1883\n"
                            "protocol mqtt\n"
                            "listener 1884\n"
                            "protocol websockets\n"
                            "listener 8883 0.0.0.0\n"
                            "certfile /ssl/fullchain.pem\n"
                            "keyfile /ssl/privkey.pem\n"
                            "listener 8884\n"
                            "protocol websockets\n"
                            "certfile /ssl/fullchain.pem\n"
                            "keyfile /ssl/privkey.pem\n"
                            "tls_version tlsv1.3\n");
    ASSERT_EQ(c.listeners.size(), 4u);
    EXPECT_EQ(c.listeners[0].protocol, mb::listener_protocol::mqtt);
    EXPECT_FALSE(c.listeners[0].tls.enabled());
    EXPECT_EQ(c.listeners[1].protocol, mb::listener_protocol::websockets);
    EXPECT_FALSE(c.listeners[1].tls.enabled());
    EXPECT_EQ(c.listeners[2].protocol, mb::listener_protocol::mqtt);
    EXPECT_TRUE(c.listeners[2].tls.enabled());
    EXPECT_EQ(c.listeners[2].tls.certfile, "/ssl/fullchain.pem");
    EXPECT_EQ(c.listeners[2].tls.keyfile, "/ssl/privkey.pem");
    EXPECT_EQ(c.listeners[2].tls.min_version, mb::tls_version::tls1_2);
    EXPECT_EQ(c.listeners[3].protocol, mb::listener_protocol::websockets);
    EXPECT_TRUE(c.listeners[3].tls.enabled());
    EXPECT_EQ(c.listeners[3].tls.min_version, mb::tls_version::tls1_3);
}

TEST(Config, EveryTlsDirective) {
    const auto c = parse_ok("listener 8883\n"
                            "cafile /etc/mqtt/ca.pem\n"
                            "capath /etc/mqtt/ca.d\n"
                            "certfile /etc/mqtt/server chain.pem\n" // the rest of the line
                            "keyfile /etc/mqtt/server.key\n"
                            "crlfile /etc/mqtt/crl.pem\n"
                            "require_certificate true\n"
                            "use_identity_as_username true\n"
                            "use_subject_as_username false\n"
                            "tls_version tlsv1.2\n"
                            "ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256\n"
                            "ciphers_tls1.3 TLS_AES_128_GCM_SHA256\n");
    ASSERT_EQ(c.listeners.size(), 1u);
    const auto& t = c.listeners[0].tls;
    EXPECT_EQ(t.cafile, "/etc/mqtt/ca.pem");
    EXPECT_EQ(t.capath, "/etc/mqtt/ca.d");
    EXPECT_EQ(t.certfile, "/etc/mqtt/server chain.pem");
    EXPECT_EQ(t.keyfile, "/etc/mqtt/server.key");
    EXPECT_EQ(t.crlfile, "/etc/mqtt/crl.pem");
    EXPECT_TRUE(t.require_certificate);
    EXPECT_TRUE(t.use_identity_as_username);
    EXPECT_FALSE(t.use_subject_as_username);
    EXPECT_EQ(t.min_version, mb::tls_version::tls1_2);
    EXPECT_EQ(t.ciphers, "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256");
    EXPECT_EQ(t.ciphers_tls13, "TLS_AES_128_GCM_SHA256");
}

TEST(Config, TlsSettingsBelongToTheirListenerOnly) {
    const auto c = parse_ok("listener 8883\n"
                            "certfile /a.pem\n"
                            "keyfile /a.key\n"
                            "cafile /ca.pem\n"
                            "require_certificate true\n"
                            "listener 1883\n"
                            "listener 8884\n"
                            "certfile /b.pem\n"
                            "keyfile /b.key\n");
    ASSERT_EQ(c.listeners.size(), 3u);
    EXPECT_TRUE(c.listeners[0].tls.require_certificate);
    EXPECT_FALSE(c.listeners[1].tls.enabled());
    EXPECT_TRUE(c.listeners[1].tls.cafile.empty());
    EXPECT_EQ(c.listeners[2].tls.certfile, "/b.pem");
    EXPECT_TRUE(c.listeners[2].tls.cafile.empty());
    EXPECT_FALSE(c.listeners[2].tls.require_certificate);
}

TEST(Config, ListenerDirectiveBeforeAnyListenerFails) {
    // mosquitto would apply these to its implicit default listener on port 1883.
    for (const auto d : {"protocol websockets", "certfile /c.pem", "keyfile /k.pem", "cafile /ca",
                         "capath /d", "crlfile /crl", "ciphers HIGH", "ciphers_tls1.3 X",
                         "tls_version tlsv1.3", "require_certificate true",
                         "use_identity_as_username true", "use_subject_as_username true"}) {
        const std::string text = std::string("max_keepalive 60\n") + d + "\nlistener 8883\n";
        const std::string name(std::string_view(d).substr(0, std::string_view(d).find(' ')));
        expect_error(text, 2, name + ": must follow a 'listener' line");
    }
}

TEST(Config, ListenerDirectiveArgumentErrors) {
    expect_error("listener 1\nprotocol\n", 2, "protocol: missing value");
    expect_error("listener 1\nprotocol mqttsn\n", 2, "protocol: expected mqtt or websockets");
    expect_error("listener 1\nprotocol WebSockets\n", 2, "protocol: expected mqtt or websockets");
    expect_error("listener 1\nprotocol mqtt extra\n", 2, "protocol: unexpected extra argument");
    expect_error("listener 1\ncertfile\n", 2, "certfile: missing path");
    expect_error("listener 1\ncertfile /a\ncertfile /b\n", 3, "certfile: given more than once");
    expect_error("listener 1\nkeyfile  \n", 2, "keyfile: missing path");
    expect_error("listener 1\ncafile /a\ncafile /b\n", 3, "cafile: given more than once");
    expect_error("listener 1\ncrlfile\n", 2, "crlfile: missing path");
    expect_error("listener 1\nciphers\n", 2, "ciphers: missing cipher list");
    expect_error("listener 1\nciphers_tls1.3\n", 2, "ciphers_tls1.3: missing ciphersuite list");
    expect_error("listener 1\nrequire_certificate yes\n", 2,
                 "require_certificate: expected true or false");
    expect_error("listener 1\nuse_identity_as_username\n", 2,
                 "use_identity_as_username: missing value");
    expect_error("listener 1\nuse_subject_as_username 1 2\n", 2,
                 "use_subject_as_username: unexpected extra");
    expect_error("listener 1\ntls_version\n", 2, "tls_version: missing version");
    expect_error("listener 1\ntls_version tlsv1.4\n", 2,
                 "tls_version: expected tlsv1.2 or tlsv1.3");
    expect_error("listener 1\ntls_version TLSv1.2\n", 2, "tls_version: expected tlsv1.2");
    // mosquitto accepts tlsv1.1 as a minimum; OpenSSL 3 refuses TLS 1.1 at its default level.
    expect_error("listener 1\ntls_version tlsv1.1\n", 2, "'tlsv1.1' is not supported");
    // The same directive in two listener blocks is not a repetition.
    const auto c = parse_ok("listener 1\ncafile /a\ncertfile /c\nkeyfile /k\n"
                            "listener 2\ncafile /b\ncertfile /c\nkeyfile /k\n");
    EXPECT_EQ(c.listeners[1].tls.cafile, "/b");
}

// A listener that asks for TLS and would not get it stops start-up at the line of its
// `listener` (mosquitto silently serves plain MQTT there).
TEST(Config, InconsistentTlsSettingsFailAtTheListenerLine) {
    expect_error("listener 1883\nlistener 8883\ncertfile /c.pem\n", 2,
                 "listener 8883: certfile is set but keyfile is not");
    expect_error("listener 8883\nkeyfile /k.pem\n", 1,
                 "listener 8883: keyfile is set but certfile is not");
    for (const auto d : {"cafile /ca.pem", "capath /ca.d", "crlfile /crl.pem", "ciphers HIGH",
                         "ciphers_tls1.3 TLS_AES_128_GCM_SHA256", "tls_version tlsv1.3",
                         "require_certificate true", "use_identity_as_username true",
                         "use_subject_as_username true"}) {
        const std::string name(std::string_view(d).substr(0, std::string_view(d).find(' ')));
        expect_error(std::string("# plain\nlistener 1883\n") + d + "\n", 2,
                     "listener 1883: " + name + " needs certfile and keyfile");
    }
    // Saying "no" to a TLS feature on a plain listener asks for nothing.
    EXPECT_FALSE(parse_ok("listener 1883\nrequire_certificate false\n"
                          "use_identity_as_username false\nuse_subject_as_username false\n")
                     .listeners[0]
                     .tls.enabled());
}

TEST(Config, ClientCertificateSettingsNeedTheirPrerequisites) {
    const std::string tls = "listener 8883\ncertfile /c.pem\nkeyfile /k.pem\n";
    expect_error(tls + "require_certificate true\n", 1,
                 "require_certificate true needs cafile or capath");
    EXPECT_TRUE(parse_ok(tls + "require_certificate true\ncapath /ca.d\n")
                    .listeners[0]
                    .tls.require_certificate);
    // Without require_certificate no client certificate is ever requested, so these could only
    // refuse every client.
    expect_error(tls + "cafile /ca.pem\nuse_identity_as_username true\n", 1,
                 "use_identity_as_username needs require_certificate true");
    expect_error(tls + "cafile /ca.pem\nuse_subject_as_username true\n", 1,
                 "use_subject_as_username needs require_certificate true");
    expect_error(tls + "cafile /ca.pem\ncrlfile /crl.pem\n", 1,
                 "crlfile needs require_certificate true");
    const auto c = parse_ok(tls + "cafile /ca.pem\ncrlfile /crl.pem\nrequire_certificate true\n"
                                  "use_subject_as_username true\n");
    EXPECT_TRUE(c.listeners[0].tls.use_subject_as_username);
}

// mosquitto.conf(5), per_listener_settings: password_file, acl_file and allow_anonymous become
// per-listener settings.
TEST(Config, PerListenerSettings) {
    const auto c = parse_ok("per_listener_settings true\n"
                            "listener 1883 127.0.0.1\n"
                            "allow_anonymous true\n"
                            "listener 8883 0.0.0.0\n"
                            "certfile /c.pem\n"
                            "keyfile /k.pem\n"
                            "password_file /etc/mqtt/passwd\n"
                            "acl_file /etc/mqtt/acl\n"
                            "listener 1884\n");
    EXPECT_TRUE(c.per_listener_settings);
    ASSERT_EQ(c.listeners.size(), 3u);
    const auto local = mb::listener_security(c, c.listeners[0]);
    EXPECT_TRUE(local.allow_anonymous);
    EXPECT_TRUE(local.password_file.empty());
    EXPECT_TRUE(local.acl_file.empty());
    const auto tls = mb::listener_security(c, c.listeners[1]);
    EXPECT_FALSE(tls.allow_anonymous); // not given: false, as for mosquitto's listeners
    EXPECT_EQ(tls.password_file, "/etc/mqtt/passwd");
    EXPECT_EQ(tls.acl_file, "/etc/mqtt/acl");
    const auto bare = mb::listener_security(c, c.listeners[2]);
    EXPECT_FALSE(bare.allow_anonymous);
    EXPECT_TRUE(bare.password_file.empty());
    // The global fields are untouched.
    EXPECT_TRUE(c.password_file.empty());
    EXPECT_TRUE(c.acl_file.empty());
}

TEST(Config, WithoutPerListenerSettingsSecurityIsGlobal) {
    const auto c = parse_ok("listener 1883\n"
                            "listener 8883\n"
                            "allow_anonymous true\n" // after a listener line, still global
                            "password_file /pw\n");
    EXPECT_FALSE(c.per_listener_settings);
    for (const auto& l : c.listeners) {
        const auto s = mb::listener_security(c, l);
        EXPECT_TRUE(s.allow_anonymous);
        EXPECT_EQ(s.password_file, "/pw");
    }
    EXPECT_TRUE(parse_ok("per_listener_settings false\nlistener 1\nacl_file /a\n").acl_file ==
                "/a");
}

TEST(Config, PerListenerSettingsErrors) {
    // mosquitto: "per_listener_settings must be set before any other security settings".
    expect_error("allow_anonymous true\nper_listener_settings true\n", 2,
                 "per_listener_settings: must come before");
    expect_error("listener 1\npassword_file /p\nper_listener_settings true\n", 3,
                 "per_listener_settings: must come before");
    expect_error("per_listener_settings maybe\n", 1,
                 "per_listener_settings: expected true or false");
    // Per-listener security settings need a listener to belong to.
    expect_error("per_listener_settings true\npassword_file /p\nlistener 1\n", 2,
                 "password_file: with per_listener_settings true it must follow a 'listener'");
    expect_error("per_listener_settings true\nallow_anonymous true\n", 2,
                 "allow_anonymous: with per_listener_settings true");
    // Once per listener, not once per file.
    expect_error("per_listener_settings true\nlistener 1\nacl_file /a\nacl_file /b\n", 4,
                 "acl_file: given more than once");
    const auto c = parse_ok("per_listener_settings true\nlistener 1\nacl_file /a\n"
                            "listener 2\nacl_file /b\n");
    EXPECT_EQ(c.listeners[0].acl_file, "/a");
    EXPECT_EQ(c.listeners[1].acl_file, "/b");
}

TEST(Config, PerListenerSettingsInLocalOnlyModeAllowsAnonymous) {
    // No listener in the file: the command line's -p listener, anonymous allowed as without
    // per_listener_settings (mosquitto's local-only mode).
    const auto c = parse_ok("per_listener_settings true\n");
    EXPECT_TRUE(c.allow_anonymous);
    const mb::listener_config from_command_line;
    EXPECT_TRUE(mb::listener_security(c, from_command_line).allow_anonymous);
}

TEST(Config, LoadResolvesRelativeListenerPaths) {
    temp_dir dir;
    const auto path = dir.write("broker.conf", "per_listener_settings true\n"
                                               "listener 8883\n"
                                               "cafile certs/ca.pem\n"
                                               "capath certs/ca.d\n"
                                               "certfile certs/server.pem\n"
                                               "keyfile /abs/server.key\n"
                                               "crlfile crl.pem\n"
                                               "require_certificate true\n"
                                               "password_file passwd\n"
                                               "acl_file acl\n");
    mb::config c;
    mb::config_error e;
    ASSERT_TRUE(mb::load_config(path, c, e)) << e.message;
    const auto& l = c.listeners.at(0);
    EXPECT_EQ(l.tls.cafile, dir.path + "/certs/ca.pem");
    EXPECT_EQ(l.tls.capath, dir.path + "/certs/ca.d");
    EXPECT_EQ(l.tls.certfile, dir.path + "/certs/server.pem");
    EXPECT_EQ(l.tls.keyfile, "/abs/server.key");
    EXPECT_EQ(l.tls.crlfile, dir.path + "/crl.pem");
    EXPECT_EQ(l.password_file, dir.path + "/passwd");
    EXPECT_EQ(l.acl_file, dir.path + "/acl");
}

// The parser only reads text: whether the files exist is decided when the listener's TLS
// context is built at start-up (net/tls_context.hpp), which names the file and the reason.
TEST(Config, MissingCertificateFilesAreNotAParseError) {
    temp_dir dir;
    const auto path = dir.write("broker.conf", "listener 8883\ncertfile missing.pem\n"
                                               "keyfile missing.key\n");
    mb::config c;
    mb::config_error e;
    ASSERT_TRUE(mb::load_config(path, c, e)) << e.message;
    EXPECT_EQ(c.listeners.at(0).tls.certfile, dir.path + "/missing.pem");
}
