/* A seeded Monte-Carlo estimate of pi: `samples` points in the unit square from xorshift32, the
 * count inside the quarter circle. Input: seed (u32), samples (u32). Output: the count and the
 * samples (u32 each): pi ≈ 4 × count / samples, an exact, reproducible integer result. */
#include "../runtime/guest.h"

static u32 next(u32 *state) {
    u32 x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

int main(void) {
    if (input_len() != 8) return 1;
    const u32 *in = (const u32 *)input_bytes();
    u32 state = in[0] ? in[0] : 1;
    u32 samples = in[1];
    u32 inside = 0;
    for (u32 i = 0; i < samples; i++) {
        /* 15-bit coordinates, so x² + y² < 2^31 never overflows. */
        u32 x = next(&state) >> 17;
        u32 y = next(&state) >> 17;
        if (x * x + y * y < (1u << 30)) inside++;
    }
    u32 *out = (u32 *)output_bytes();
    out[0] = inside;
    out[1] = samples;
    set_output_len(8);
    return 0;
}
