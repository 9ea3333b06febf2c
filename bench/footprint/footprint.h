/* Shared by every footprint program (C and C++): an input the compiler cannot see and a sink it
 * must write. The empty program uses exactly this and nothing else, so what a program adds over
 * it is the code its calls pull in.
 *
 * The input bytes come from a volatile array: the compiler must read each byte at run time, so it
 * can neither fold a decode at compile time nor drop a branch it would otherwise prove dead. The
 * sink is volatile too: every result written to it is live. */
#ifndef MQTTWIRE_FOOTPRINT_H
#define MQTTWIRE_FOOTPRINT_H

#define FOOTPRINT_INPUT_SIZE 256u

static volatile unsigned char footprint_source[FOOTPRINT_INPUT_SIZE];
static unsigned char footprint_input[FOOTPRINT_INPUT_SIZE];
static volatile unsigned long footprint_sink;

/* Copies the opaque bytes into an ordinary buffer that the codec can take views of. */
static inline void footprint_fill(void) {
    for (unsigned i = 0; i < FOOTPRINT_INPUT_SIZE; ++i) footprint_input[i] = footprint_source[i];
}

/* A byte of the input, used as a length or a flag, so no field has a value known at compile
 * time. */
static inline unsigned footprint_byte(unsigned at) {
    return footprint_input[at % FOOTPRINT_INPUT_SIZE];
}

static inline void footprint_use(unsigned long value) { footprint_sink = value; }

#endif
