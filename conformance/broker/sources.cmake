# The sans-I/O broker core: everything but net/ (sockets, the event loop) and main.cpp. Shared
# by conformance/broker/CMakeLists.txt and the fuzz target fuzz/broker_core.cpp, which compiles
# these files with its own instrumentation (policy/auth.cpp, the password and ACL files, comes
# with them there and needs OpenSSL's libcrypto).
set(MQTTWIRE_BROKER_DIR "${CMAKE_CURRENT_LIST_DIR}")
set(MQTTWIRE_BROKER_CORE_SOURCES
    "${CMAKE_CURRENT_LIST_DIR}/core/broker.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/core/connection_table.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/core/message.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/policy/policy.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/protocol/connect.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/protocol/input.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/protocol/output.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/protocol/publish.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/protocol/subscribe.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/routing/router.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/session/outbox.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/session/session_table.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/stats/statistics.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/stats/sys_tree.cpp"
    "${CMAKE_CURRENT_LIST_DIR}/store/memory_store.cpp")
