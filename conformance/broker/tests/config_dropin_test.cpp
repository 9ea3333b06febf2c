// Tests of the mosquitto.conf(5) parser as a mosquitto drop-in: Debian's and Home Assistant's
// files, logging, persistence, include_dir and bridge blocks. No MQTT normative statement binds
// a broker's configuration file, so these tests cite mosquitto's manual and behaviour instead.

#include "config_test_support.hpp"

// ---------------------------------------------------------------------------------------------
// mosquitto drop-in: the directives of Debian's and Home Assistant's configurations.

namespace {

// Debian's /etc/mosquitto/mosquitto.conf (mosquitto 2.0 package): these directives, comments
// pointing at conf.d and the example file around them.
constexpr std::string_view debian_conf = "# local configuration goes in conf.d\n"
                                         "\n"
                                         "pid_file /run/mosquitto/mosquitto.pid\n"
                                         "\n"
                                         "persistence true\n"
                                         "persistence_location /var/lib/mosquitto/\n"
                                         "\n"
                                         "log_dest file /var/log/mosquitto/mosquitto.log\n"
                                         "\n"
                                         "include_dir /etc/mosquitto/conf.d\n";

} // namespace

TEST(ConfigDropin, DebianDefaultFileParses) {
    // The shipped file, unchanged, when the package is installed; the same directives otherwise.
    mb::config c;
    mb::config_error e;
    if (std::ifstream("/etc/mosquitto/mosquitto.conf").good()) {
        ASSERT_TRUE(mb::load_config("/etc/mosquitto/mosquitto.conf", c, e))
            << e.file << ":" << e.line << ": " << e.message;
        EXPECT_EQ(c.pid_file, "/run/mosquitto/mosquitto.pid");
    }
    temp_dir dir;
    std::string text(debian_conf);
    text.replace(text.find("/etc/mosquitto/conf.d"), 21, dir.path);
    ASSERT_TRUE(mb::parse_config(text, c, e)) << e.line << ": " << e.message;
    EXPECT_EQ(c.pid_file, "/run/mosquitto/mosquitto.pid");
    EXPECT_TRUE(c.persistence);
    EXPECT_EQ(c.persistence_location, "/var/lib/mosquitto/");
    // The first log_dest replaces the default stderr (mosquitto.conf(5)).
    EXPECT_EQ(c.log_dests, mb::log_dest_file);
    EXPECT_EQ(c.log_file, "/var/log/mosquitto/mosquitto.log");
    EXPECT_TRUE(c.listeners.empty());
    EXPECT_TRUE(c.allow_anonymous); // no listener: mosquitto's local-only mode
}

TEST(ConfigDropin, HomeAssistantAddonShape) {
    // The add-on's generated file (its tempio template, rendered without TLS): everything but the
    // authentication plugin block is taken; the plugin stops start-up naming the directive.
    const std::string head = "user root\n"
                             "log_dest stdout\n"
                             "log_type error\n"
                             "log_type warning\n"
                             "log_type notice\n"
                             "log_type information\n"
                             "log_timestamp_format %Y-%m-%d %H:%M:%S\n"
                             "persistence true\n"
                             "persistence_location /data/\n"
                             "max_queued_messages 8192\n";
    const std::string plugin = "auth_plugin /usr/share/mosquitto/go-auth.so\n"
                               "auth_opt_backends files,http\n";
    const std::string tail = "listener 1883\n"
                             "protocol mqtt\n"
                             "listener 1884\n"
                             "protocol websockets\n";
    const auto c = parse_ok(head + tail);
    EXPECT_EQ(c.user, "root");
    EXPECT_EQ(c.log_dests, mb::log_dest_stdout);
    EXPECT_EQ(c.log_types, mb::default_log_types); // the four it lists are mosquitto's default
    EXPECT_EQ(c.log_timestamp_format, "%Y-%m-%d %H:%M:%S");
    EXPECT_EQ(c.max_queued_messages, 8192u);
    ASSERT_EQ(c.listeners.size(), 2u);
    EXPECT_EQ(c.listeners[1].protocol, mb::listener_protocol::websockets);
    expect_error(head + plugin + tail, 11, "auth_plugin: not supported by mqttwire-broker");
}

TEST(ConfigDropin, KnownButUnsupportedDirectivesAreNamed) {
    expect_error("plugin /usr/lib/mosquitto_dynamic_security.so\n", 1,
                 "plugin: not supported by mqttwire-broker (plugins cannot be loaded");
    expect_error("listener 1883\nplugin_opt_config_file /x/dynamic-security.json\n", 2,
                 "plugin_opt_config_file: not supported");
    expect_error("auth_opt_backends files\n", 1, "auth_opt_backends: not supported");
    expect_error("psk_file /etc/psk\n", 1, "psk_file: not supported");
    expect_error("max_keepalive 10\n\nport 1883\n", 3, "port: not supported");
}

TEST(ConfigDropin, LogDestinations) {
    EXPECT_EQ(parse_ok("").log_dests, mb::log_dest_stderr); // mosquitto's default
    auto c = parse_ok("log_dest stdout\nlog_dest topic\nlog_dest syslog\n");
    EXPECT_EQ(c.log_dests, mb::log_dest_stdout | mb::log_dest_topic | mb::log_dest_syslog);
    c = parse_ok("log_dest file /var/log/my broker.log\nlog_dest stderr\n");
    EXPECT_EQ(c.log_dests, mb::log_dest_file | mb::log_dest_stderr);
    EXPECT_EQ(c.log_file, "/var/log/my broker.log"); // the rest of the line
    EXPECT_EQ(parse_ok("log_dest stdout\nlog_dest none\n").log_dests, 0u);
    expect_error("log_dest file\n", 1, "log_dest file: missing path");
    expect_error("log_dest\n", 1, "log_dest: missing destination");
    expect_error("log_dest dlt\n", 1, "log_dest: expected stdout");
    expect_error("log_dest stdout stderr\n", 1, "log_dest: unexpected extra argument");
}

TEST(ConfigDropin, LogTypes) {
    EXPECT_EQ(parse_ok("").log_types, mb::default_log_types);
    // The first log_type line replaces the default; later lines add.
    EXPECT_EQ(parse_ok("log_type error\n").log_types, mb::bit(mb::log_type::error));
    EXPECT_EQ(parse_ok("log_type subscribe\nlog_type debug\n").log_types,
              mb::bit(mb::log_type::subscribe) | mb::bit(mb::log_type::debug));
    EXPECT_EQ(parse_ok("log_type all\n").log_types, mb::all_log_types);
    EXPECT_EQ(parse_ok("log_type none\n").log_types, 0u);
    expect_error("log_type info\n", 1, "log_type: expected error, warning");
    expect_error("log_type error warning\n", 1, "unexpected extra argument");
}

TEST(ConfigDropin, TimestampsConnectionMessagesAndFlags) {
    auto c = parse_ok("");
    EXPECT_TRUE(c.log_timestamp);
    EXPECT_TRUE(c.log_timestamp_format.empty());
    EXPECT_TRUE(c.connection_messages);
    EXPECT_EQ(c.sys_interval, std::chrono::seconds(10));
    EXPECT_TRUE(c.allow_zero_length_clientid);
    EXPECT_EQ(c.auto_id_prefix, "auto-");
    c = parse_ok("log_timestamp false\nlog_timestamp_format %H:%M\nconnection_messages false\n"
                 "sys_interval 0\nset_tcp_nodelay true\ncheck_retain_source true\n"
                 "allow_zero_length_clientid false\nauto_id_prefix dev-\nuser mosquitto\n");
    EXPECT_FALSE(c.log_timestamp);
    EXPECT_EQ(c.log_timestamp_format, "%H:%M");
    EXPECT_FALSE(c.connection_messages);
    EXPECT_EQ(c.sys_interval, std::chrono::seconds(0));
    EXPECT_TRUE(c.set_tcp_nodelay);
    EXPECT_TRUE(c.check_retain_source);
    EXPECT_FALSE(c.allow_zero_length_clientid);
    EXPECT_EQ(c.auto_id_prefix, "dev-");
    EXPECT_EQ(c.user, "mosquitto");
    EXPECT_EQ(parse_ok("sys_interval 65535\n").sys_interval, std::chrono::seconds(65535));
    expect_error("sys_interval 65536\n", 1, "sys_interval: 65536 is out of range");
    expect_error("sys_interval -1\n", 1, "sys_interval: expected a non-negative");
    expect_error("connection_messages yes\n", 1, "expected true or false");
    expect_error("auto_id_prefix\n", 1, "auto_id_prefix: missing");
    expect_error("auto_id_prefix " + std::string(1025, 'a') + "\n", 1, "longer than 1024");
    expect_error("log_timestamp_format\n", 1, "log_timestamp_format: missing format");
    expect_error("user\n", 1, "user: missing");
}

TEST(ConfigDropin, PersistenceDirectivesParse) {
    const auto c = parse_ok("persistence true\npersistence_location /var/lib/x/\n"
                            "persistence_file store.db\nautosave_interval 60\n"
                            "autosave_on_changes true\n");
    EXPECT_TRUE(c.persistence);
    EXPECT_EQ(c.persistence_location, "/var/lib/x/");
    EXPECT_EQ(c.persistence_file, "store.db");
    EXPECT_EQ(c.autosave_interval, std::chrono::seconds(60));
    EXPECT_TRUE(c.autosave_on_changes);
    EXPECT_TRUE(c.warnings.empty()); // the store keeps what persistence asks for
    expect_error("autosave_interval soon\n", 1, "autosave_interval");
}

TEST(ConfigDropin, DeprecatedDirectivesAreAcceptedWithAWarning) {
    // mosquitto 2.0 accepts these and ignores them.
    const auto c = parse_ok("retry_interval 20\nstore_clean_interval 10\n");
    ASSERT_EQ(c.warnings.size(), 2u);
    EXPECT_NE(c.warnings[0].find("retry_interval has no effect"), std::string::npos);
}

TEST(ConfigDropin, IncludeDirReadsConfFilesInMosquittoOrder) {
    // mosquitto sorts case-insensitively first, then by case: a.conf, B.conf, b.conf. Later
    // files override earlier scalar values, so the last one read decides max_keepalive.
    temp_dir dir;
    ::mkdir((dir.path + "/conf.d").c_str(), 0755);
    dir.write("conf.d/b.conf", "max_keepalive 30\n");
    dir.write("conf.d/B.conf", "max_keepalive 20\nlistener 1883\n");
    dir.write("conf.d/a.conf", "max_keepalive 10\n");
    dir.write("conf.d/z.conf.disabled", "max_keepalive 99\n");
    dir.write("conf.d/.conf", "max_keepalive 98\n"); // mosquitto needs a name before .conf
    dir.write("conf.d/README", "not a configuration file\n");
    const auto path = dir.write("main.conf", "max_inflight_messages 5\ninclude_dir conf.d\n");
    mb::config c;
    mb::config_error e;
    ASSERT_TRUE(mb::load_config(path, c, e)) << e.file << ":" << e.line << ": " << e.message;
    EXPECT_EQ(c.max_keepalive, 30u);
    EXPECT_EQ(c.max_inflight_messages, 5u);
    EXPECT_EQ(c.listeners.size(), 1u);
}

TEST(ConfigDropin, IncludeDirErrorsNameTheIncludedFileAndLine) {
    temp_dir dir;
    ::mkdir((dir.path + "/conf.d").c_str(), 0755);
    dir.write("conf.d/10-ok.conf", "max_keepalive 10\n");
    const auto bad = dir.write("conf.d/20-bad.conf", "# fine\nmax_keepalive 10\nmax_kepalive 5\n");
    const auto path = dir.write("main.conf", "listener 1883\ninclude_dir " + dir.path + "/conf.d\n"
                                             "max_keepalive 1\n");
    mb::config c;
    mb::config_error e;
    ASSERT_FALSE(mb::load_config(path, c, e));
    EXPECT_EQ(e.file, bad);
    EXPECT_EQ(e.line, 3u);
    EXPECT_NE(e.message.find("unknown directive 'max_kepalive'"), std::string::npos);
    // An error after the include is reported in the main file again.
    dir.write("conf.d/20-bad.conf", "max_keepalive 10\n");
    dir.write("main.conf", "listener 1883\ninclude_dir conf.d\nmax_kepalive 1\n");
    ASSERT_FALSE(mb::load_config(path, c, e));
    EXPECT_TRUE(e.file.empty());
    EXPECT_EQ(e.line, 3u);
}

TEST(ConfigDropin, IncludeDirLimits) {
    temp_dir dir;
    ::mkdir((dir.path + "/conf.d").c_str(), 0755);
    dir.write("conf.d/nested.conf", "include_dir /tmp\n");
    const auto path = dir.write("main.conf", "include_dir conf.d\n");
    mb::config c;
    mb::config_error e;
    ASSERT_FALSE(mb::load_config(path, c, e));
    EXPECT_NE(e.message.find("only allowed in the main configuration file"), std::string::npos);
    EXPECT_EQ(e.line, 1u);
    EXPECT_EQ(e.file, dir.path + "/conf.d/nested.conf");

    ::mkdir((dir.path + "/dirs.d").c_str(), 0755);
    ::mkdir((dir.path + "/dirs.d/sub.conf").c_str(), 0755);
    dir.write("main.conf", "include_dir dirs.d\n");
    ASSERT_FALSE(mb::load_config(path, c, e));
    EXPECT_NE(e.message.find("sub.conf' is not a regular file"), std::string::npos) << e.message;

    dir.write("main.conf", "include_dir missing.d\n");
    ASSERT_FALSE(mb::load_config(path, c, e));
    EXPECT_NE(e.message.find("include_dir: cannot read"), std::string::npos) << e.message;
    EXPECT_EQ(e.line, 1u);

    // More .conf files than the bound: refused before any is read.
    ::mkdir((dir.path + "/many.d").c_str(), 0755);
    for (int i = 0; i <= 1000; ++i) dir.write("many.d/" + std::to_string(i) + ".conf", "");
    dir.write("main.conf", "include_dir many.d\n");
    ASSERT_FALSE(mb::load_config(path, c, e));
    EXPECT_NE(e.message.find("more than 1000 .conf files"), std::string::npos) << e.message;
}

TEST(ConfigDropin, LoadResolvesNewPathsAgainstTheConfigDirectory) {
    temp_dir dir;
    const auto path = dir.write("broker.conf", "pid_file run/broker.pid\n"
                                               "log_dest file log/broker.log\n"
                                               "persistence_location data/\n");
    mb::config c;
    mb::config_error e;
    ASSERT_TRUE(mb::load_config(path, c, e)) << e.message;
    EXPECT_EQ(c.pid_file, dir.path + "/run/broker.pid");
    EXPECT_EQ(c.log_file, dir.path + "/log/broker.log");
    EXPECT_EQ(c.persistence_location, dir.path + "/data/");
}

// mosquitto.conf(5): persistence, persistence_location, persistence_file, autosave_interval,
// autosave_on_changes; persistence_sync is ours.
TEST(Config, PersistenceDefaultsAreOff) {
    const auto c = parse_ok("");
    EXPECT_FALSE(c.persistence);
    EXPECT_FALSE(c.persistence_sync);
    EXPECT_EQ(c.persistence_file, "mqttwire.store"); // our own name, never mosquitto.db
    EXPECT_EQ(c.persistence_path(), "mqttwire.store");
    EXPECT_EQ(c.autosave_interval, std::chrono::seconds(1800));
    EXPECT_FALSE(c.autosave_on_changes);
}

TEST(Config, DebiansPersistenceLinesAreAccepted) {
    // Debian's /etc/mosquitto/mosquitto.conf has the first two lines; the others as mosquitto's
    // manual describes them.
    const auto c = parse_ok("persistence true\npersistence_location /var/lib/mosquitto/\n"
                            "autosave_interval 300\nautosave_on_changes true\n"
                            "persistence_sync true\n");
    EXPECT_TRUE(c.persistence);
    EXPECT_TRUE(c.persistence_sync);
    EXPECT_TRUE(c.autosave_on_changes);
    EXPECT_EQ(c.autosave_interval, std::chrono::seconds(300));
    EXPECT_EQ(c.persistence_path(), "/var/lib/mosquitto/mqttwire.store");
    const auto d = parse_ok("persistence_location /srv/my data\npersistence_file state.db\n");
    EXPECT_EQ(d.persistence_path(), "/srv/my data/state.db"); // rest of the line; '/' added
}

TEST(Config, PersistenceErrorsNameTheDirective) {
    expect_error("persistence yes\n", 1, "persistence: expected true or false");
    expect_error("\npersistence_location\n", 2, "persistence_location: missing directory");
    expect_error("persistence_file\n", 1, "persistence_file: missing file name");
    expect_error("persistence_file /var/lib/x.db\n", 1, "is a path");
    expect_error("autosave_interval -1\n", 1, "autosave_interval");
    expect_error("autosave_interval 2147483648\n", 1, "out of range");
    expect_error("autosave_on_changes 1\n", 1, "autosave_on_changes: expected true or false");
    expect_error("persistence_sync on\n", 1, "persistence_sync: expected true or false");
}

TEST(Config, LoadResolvesARelativePersistenceLocation) {
    temp_dir d;
    const auto path = d.write("b.conf", "persistence true\npersistence_location state\n");
    mb::config c;
    mb::config_error e;
    ASSERT_TRUE(mb::load_config(path, c, e)) << e.message;
    EXPECT_EQ(c.persistence_path(), d.path + "/state/mqttwire.store");
}

// Bridge blocks (mosquitto.conf(5), "Configuring Bridges"): `connection` starts one, like
// `listener` starts a listener block.
TEST(ConfigBridge, FullBlockWithMosquittoDefaults) {
    const auto c = parse_ok("connection cloud\n"
                            "address broker.example:8883 10.0.0.2\n"
                            "topic sensors/# both 1 home/ site1/\n"
                            "topic cmd/# in\n"
                            "topic \"\" out 2 local/state remote/state\n"
                            "topic # \n");
    ASSERT_EQ(c.bridges.size(), 1u);
    const auto& b = c.bridges[0];
    EXPECT_EQ(b.name, "cloud");
    EXPECT_EQ(b.line, 1u);
    ASSERT_EQ(b.addresses.size(), 2u);
    EXPECT_EQ(b.addresses[0].host, "broker.example");
    EXPECT_EQ(b.addresses[0].port, 8883);
    EXPECT_EQ(b.addresses[1].host, "10.0.0.2");
    EXPECT_EQ(b.addresses[1].port, 1883); // mosquitto's default port
    ASSERT_EQ(b.topics.size(), 4u);
    EXPECT_EQ(b.topics[0].direction, mb::bridge_direction::both);
    EXPECT_EQ(b.topics[0].qos, 1);
    EXPECT_EQ(b.topics[0].local_filter(), "home/sensors/#");
    EXPECT_EQ(b.topics[0].remote_filter(), "site1/sensors/#");
    EXPECT_EQ(b.topics[1].direction, mb::bridge_direction::in);
    EXPECT_EQ(b.topics[1].qos, 0);
    EXPECT_EQ(b.topics[2].pattern, ""); // `""`: the prefixes name the topic
    EXPECT_EQ(b.topics[2].local_filter(), "local/state");
    EXPECT_EQ(b.topics[2].remote_filter(), "remote/state");
    EXPECT_EQ(b.topics[3].direction, mb::bridge_direction::out); // mosquitto's default
    // mosquitto 2.0's defaults for what the block does not say.
    EXPECT_FALSE(b.cleansession);
    EXPECT_TRUE(b.try_private);
    EXPECT_TRUE(b.notifications);
    EXPECT_EQ(b.protocol, mb::bridge_protocol::mqttv311);
    EXPECT_EQ(b.keepalive_interval, 60);
    EXPECT_EQ(b.restart_base, std::chrono::seconds(5));
    EXPECT_EQ(b.restart_cap, std::chrono::seconds(30));
    EXPECT_FALSE(b.restart_constant);
    EXPECT_FALSE(b.remote_username);
    EXPECT_TRUE(b.remote_clientid.empty());
}

TEST(ConfigBridge, EveryScalarDirective) {
    const auto c = parse_ok("listener 1883\n"
                            "connection a\naddress h\ntopic x out\n"
                            "remote_username u\nremote_password p\nremote_clientid rid\n"
                            "local_clientid lid\ncleansession true\n"
                            "bridge_protocol_version mqttv50\ntry_private false\n"
                            "notifications false\nnotification_topic s/t\n"
                            "restart_timeout 7\nkeepalive_interval 5\n"
                            "connection b\naddress h2:1\ntopic y\nrestart_timeout 2 9\n"
                            "bridge_protocol_version mqttv31\n"
                            "listener 1884\n");
    ASSERT_EQ(c.bridges.size(), 2u);
    const auto& a = c.bridges[0];
    EXPECT_EQ(*a.remote_username, "u");
    EXPECT_EQ(*a.remote_password, "p");
    EXPECT_EQ(a.remote_clientid, "rid");
    EXPECT_EQ(a.local_clientid, "lid");
    EXPECT_TRUE(a.cleansession);
    EXPECT_EQ(a.protocol, mb::bridge_protocol::mqttv50);
    EXPECT_FALSE(a.try_private);
    EXPECT_FALSE(a.notifications);
    EXPECT_EQ(a.notification_topic, "s/t");
    EXPECT_TRUE(a.restart_constant); // one number: a constant delay
    EXPECT_EQ(a.restart_base, std::chrono::seconds(7));
    EXPECT_EQ(a.keepalive_interval, 5);
    const auto& b = c.bridges[1];
    EXPECT_EQ(b.addresses[0].port, 1);
    EXPECT_EQ(b.restart_base, std::chrono::seconds(2));
    EXPECT_EQ(b.restart_cap, std::chrono::seconds(9));
    EXPECT_EQ(b.protocol, mb::bridge_protocol::mqttv31);
    // A listener after a bridge block is still a listener.
    EXPECT_EQ(c.listeners.size(), 2u);
}

TEST(ConfigBridge, Errors) {
    expect_error("address h\n", 1, "must follow a 'connection' line");
    expect_error("topic # both\n", 1, "must follow a 'connection' line");
    expect_error("connection\n", 1, "connection: missing name");
    expect_error("connection a\naddress h\ntopic #\nconnection a\n", 4, "already defined");
    expect_error("connection a\ntopic #\n", 1, "connection a: no address");
    expect_error("connection a\naddress h\n", 1, "connection a: no topic");
    expect_error("connection a\naddress h:0\n", 2, "port must be a number from 1 to 65535");
    expect_error("connection a\naddress h:99999\n", 2, "port");
    expect_error("connection a\naddress :1883\n", 2, "missing host");
    expect_error("connection a\naddress h\ntopic # sideways\n", 3, "expected in, out or both");
    expect_error("connection a\naddress h\ntopic # in 3\n", 3, "QoS must be 0, 1 or 2");
    expect_error("connection a\naddress h\ntopic # in 1 loc/\n", 3, "needs a remote prefix");
    expect_error("connection a\naddress h\ntopic # in 1 a/+/ b/\n", 3, "may not hold wildcards");
    expect_error("connection a\naddress h\ntopic a/#/b\n", 3, "not a valid topic filter");
    expect_error("connection a\naddress h\ntopic \"\" in 0 \"\" \"\"\n", 3, "needs a prefix");
    expect_error("connection a\naddress h\ntopic # in 1 l/ r/ extra\n", 3, "extra argument");
    expect_error("connection a\naddress h\ntopic #\nbridge_protocol_version mqttv6\n", 4,
                 "expected mqttv31, mqttv311 or mqttv50");
    expect_error("connection a\naddress h\ntopic #\nkeepalive_interval 4\n", 4, "from 5");
    expect_error("connection a\naddress h\ntopic #\nrestart_timeout 0\n", 4, "restart_timeout");
    expect_error("connection a\naddress h\ntopic #\nrestart_timeout 10 5\n", 4, "the cap");
    expect_error("connection a\naddress h\ntopic #\ncleansession maybe\n", 4, "true or false");
    expect_error("connection a\naddress h\ntopic #\nremote_password p\n", 1,
                 "remote_password needs remote_username");
}

// A directive of mosquitto's bridges that this broker does not implement stops start-up
// naming it, at its line, instead of being ignored.
TEST(ConfigBridge, UnsupportedMosquittoDirectivesAreNamed) {
    expect_error("connection a\naddress h\ntopic #\nstart_type lazy\n", 4, "start_type");
    expect_error("connection a\naddress h\ntopic #\nlocal_username u\n", 4, "local_username");
    expect_error("connection a\naddress h\ntopic #\nbridge_attempt_unsubscribe false\n", 4,
                 "bridge_attempt_unsubscribe");
}

// TLS to the remote broker, as mosquitto: on with bridge_cafile or bridge_capath; a client
// certificate or bridge_insecure without them would silently connect in plain text.
TEST(ConfigBridge, TlsDirectives) {
    const auto c = parse_ok("connection a\naddress h:8883\ntopic #\nbridge_cafile /etc/ca.pem\n"
                            "bridge_certfile /etc/c.pem\nbridge_keyfile /etc/k.pem\n"
                            "bridge_insecure true\n");
    const auto& b = c.bridges[0];
    EXPECT_TRUE(b.tls_enabled());
    EXPECT_EQ(b.cafile, "/etc/ca.pem");
    EXPECT_EQ(b.certfile, "/etc/c.pem");
    EXPECT_EQ(b.keyfile, "/etc/k.pem");
    EXPECT_TRUE(b.insecure);
    EXPECT_TRUE(parse_ok("connection a\naddress h\ntopic #\nbridge_capath /etc/ssl/certs\n")
                    .bridges[0]
                    .tls_enabled());
    EXPECT_FALSE(parse_ok("connection a\naddress h\ntopic #\n").bridges[0].tls_enabled());
    expect_error("connection a\naddress h\ntopic #\nbridge_certfile /c.pem\nbridge_keyfile /k\n",
                 1, "need bridge_cafile or bridge_capath");
    expect_error("connection a\naddress h\ntopic #\nbridge_insecure true\n", 1,
                 "need bridge_cafile or bridge_capath");
    expect_error("connection a\naddress h\ntopic #\nbridge_cafile /ca\nbridge_certfile /c\n", 1,
                 "bridge_certfile and bridge_keyfile go together");
}
