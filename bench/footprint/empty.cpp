// The baseline: the harness alone (opaque input, volatile sink). Every other program is measured
// as what it adds over this one, built with the same compiler and flags.
#include "footprint.h"

int main() {
    footprint_fill();
    footprint_use(footprint_byte(0));
    return 0;
}
