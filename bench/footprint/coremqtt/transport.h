/* The full clients' transport: reads the opaque input, writes to the volatile sink; and an
 * opaque clock. Include after core_mqtt.h. */
#ifndef MQTTWIRE_FOOTPRINT_COREMQTT_TRANSPORT_H
#define MQTTWIRE_FOOTPRINT_COREMQTT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "../footprint.h"

struct NetworkContext {
    size_t read;
};

static inline int32_t footprint_recv(NetworkContext_t* net, void* buffer, size_t bytes) {
    unsigned char* out = (unsigned char*)buffer;
    size_t n = 0;
    for (; n < bytes && net->read < FOOTPRINT_INPUT_SIZE; ++n)
        out[n] = footprint_input[net->read++];
    return (int32_t)n;
}

static inline int32_t footprint_send(NetworkContext_t* net, const void* buffer, size_t bytes) {
    (void)net;
    if (bytes != 0) footprint_use(((const unsigned char*)buffer)[bytes - 1]);
    return (int32_t)bytes;
}

static inline uint32_t footprint_now_ms(void) { return footprint_source[0]; }

#endif
