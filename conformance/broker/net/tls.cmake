# The broker's TLS building blocks (conformance/broker/net/tls_*): contexts built from the
# listener configuration and the sans-I/O engine, with their tests. Included from
# conformance/CMakeLists.txt after mqttwire_broker_support.

mqttwire_require_package(OpenSSL libssl-dev 3.0 COMPONENTS SSL Crypto)

add_library(mqttwire_broker_tls STATIC
    "${CMAKE_CURRENT_LIST_DIR}/tls_bio.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/tls_context.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/tls_engine.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/tls_engine_diagnosis.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/tls_engine_peer.cpp")
target_include_directories(mqttwire_broker_tls PUBLIC "${CMAKE_CURRENT_LIST_DIR}/..")
mqttwire_project_target(mqttwire_broker_tls EXCEPTIONS)
target_link_libraries(mqttwire_broker_tls PUBLIC mqttwire_broker_support OpenSSL::SSL
                                                 OpenSSL::Crypto)

if(MQTTWIRE_BUILD_TESTS)
    include(GoogleTest)
    mqttwire_require_package(GTest libgtest-dev)
    set(_tls_tests "${CMAKE_CURRENT_LIST_DIR}/../tests")
    set(_tls_certs "${CMAKE_CURRENT_BINARY_DIR}/tls-certs")

    # The test PKI is made at test time by the openssl CLI (a fixture, so once per ctest run);
    # run directly, the test program makes its own in a temporary directory.
    add_test(NAME broker_tls_make_certs
             COMMAND bash "${_tls_tests}/make-certs.sh" "${_tls_certs}")
    set_tests_properties(broker_tls_make_certs PROPERTIES FIXTURES_SETUP broker_tls_certs
                                                          LABELS broker)

    add_executable(mqttwire_broker_tls_tests
        "${_tls_tests}/tls_context_test.cpp"
        "${_tls_tests}/tls_engine_test.cpp"
        "${_tls_tests}/tls_engine_stream_test.cpp")
    mqttwire_project_target(mqttwire_broker_tls_tests EXCEPTIONS)
    target_link_libraries(mqttwire_broker_tls_tests PRIVATE mqttwire_broker_tls GTest::gtest_main)
    target_compile_definitions(mqttwire_broker_tls_tests PRIVATE
        "MQTTWIRE_MAKE_CERTS_SCRIPT=\"${_tls_tests}/make-certs.sh\"")
    # Memory per idle TLS connection, engine against a plain SSL; run by hand:
    #   mqttwire_tls_idle_memory CERTDIR [-n N] [--rsa] [--no-client-certificate]
    add_executable(mqttwire_tls_idle_memory "${_tls_tests}/tls_idle_memory.cpp")
    mqttwire_project_target(mqttwire_tls_idle_memory EXCEPTIONS)
    target_link_libraries(mqttwire_tls_idle_memory PRIVATE mqttwire_broker_tls)

    gtest_discover_tests(mqttwire_broker_tls_tests
        DISCOVERY_MODE PRE_TEST
        DISCOVERY_TIMEOUT 60
        PROPERTIES LABELS broker
                   FIXTURES_REQUIRED broker_tls_certs
                   ENVIRONMENT "MQTTWIRE_TLS_CERTS=${_tls_certs}")

    # paho-mqtt against the engine over real sockets, through a minimal MQTT-over-TLS endpoint.
    add_executable(mqttwire_tls_test_server "${_tls_tests}/tls_test_server.cpp")
    mqttwire_project_target(mqttwire_tls_test_server EXCEPTIONS)
    target_link_libraries(mqttwire_tls_test_server PRIVATE mqttwire_broker_tls)
    # Debian's interpreter: python3-paho-mqtt installs there, not into other pythons on PATH.
    find_program(MQTTWIRE_DEBIAN_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
    if(MQTTWIRE_DEBIAN_PYTHON3)
        add_test(NAME broker_tls_paho
                 COMMAND "${MQTTWIRE_DEBIAN_PYTHON3}" "${_tls_tests}/tls_paho.py"
                         --server "$<TARGET_FILE:mqttwire_tls_test_server>" --certs "${_tls_certs}")
        set_tests_properties(broker_tls_paho PROPERTIES LABELS broker TIMEOUT 180
                                                        FIXTURES_REQUIRED broker_tls_certs)
        # mqttwire-broker itself (defined later, in broker/CMakeLists.txt) at start-up.
        if(EXISTS "${CMAKE_CURRENT_LIST_DIR}/../main.cpp")
            add_test(NAME broker_tls_startup
                     COMMAND "${MQTTWIRE_DEBIAN_PYTHON3}" "${_tls_tests}/tls_startup.py"
                             --broker "$<TARGET_FILE:mqttwire-broker>" --certs "${_tls_certs}")
            set_tests_properties(broker_tls_startup PROPERTIES LABELS broker TIMEOUT 120
                                                               FIXTURES_REQUIRED broker_tls_certs)
            # Every listener kind end to end (tcp, ws, tls, wss, mutual TLS), failures next to
            # a bystander, SIGHUP reload: tests/transport_test.py.
            add_test(NAME broker_transports
                     COMMAND "${MQTTWIRE_DEBIAN_PYTHON3}" "${_tls_tests}/transport_test.py"
                             --broker "$<TARGET_FILE:mqttwire-broker>" --certs "${_tls_certs}"
                             --pub "$<TARGET_FILE:mqttwire-pub>")
            set_tests_properties(broker_transports PROPERTIES LABELS "broker;integration"
                                 TIMEOUT 300 RUN_SERIAL TRUE FIXTURES_REQUIRED broker_tls_certs)
        endif()
    else()
        message(WARNING "/usr/bin/python3 not found: the paho-mqtt TLS test is NOT run "
                        "(install the Debian packages python3 and python3-paho-mqtt)")
    endif()
endif()
