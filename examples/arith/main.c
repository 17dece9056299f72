/* A short program (a few hundred steps) that touches every instruction class of the machine:
 * division and remainder by zero and in overflow, the high multiplies, signed and unsigned byte
 * and halfword loads, byte and halfword stores, every branch kind, calls through a pointer. The
 * step-by-step differential tests run each of its steps through the on-chain one-step proof.
 * Input: any bytes (the first eight are used as two numbers). Output: 16 words. */
#include "../runtime/guest.h"

typedef signed char i8;
typedef short i16;
typedef unsigned short u16;
typedef long long i64;
typedef u32 (*step_fn)(u32, u32);

static u32 fnv(u32 h, u32 v) { return (h ^ v) * 0x01000193u; }
static u32 rotate(u32 h, u32 v) { return (h << (v & 31)) | (h >> ((32 - v) & 31)); }

int main(void) {
    const u8 *in = input_bytes();
    u32 n = input_len();
    i32 a = n >= 4 ? *(const i32 *)in : 7;
    i32 b = n >= 8 ? *(const i32 *)(in + 4) : -3;
    i32 *out = (i32 *)output_bytes();
    /* Values the compiler cannot fold: a runtime zero, INT_MIN and -1. */
    volatile i32 zero_slot = a - a;
    i32 zero = zero_slot;
    i32 min = (i32)0x80000000u | zero;
    i32 minus_one = zero - 1;

    out[0] = a / zero;
    out[1] = a % zero;
    out[2] = (i32)((u32)a / (u32)zero);
    out[3] = (i32)((u32)a % (u32)zero);
    out[4] = min / minus_one;
    out[5] = min % minus_one;
    out[6] = (i32)(((i64)a * (i64)b) >> 32);
    out[7] = (i32)(((u64)(u32)a * (u64)(u32)b) >> 32);
    out[8] = (i32)(((i64)a * (i64)(u64)(u32)b) >> 32);
    out[9] = a * b + a / (b | 1) - (i32)((u32)a >> 3) + (a >> 2);

    volatile u8 *bytes = (volatile u8 *)&out[10];
    bytes[0] = (u8)a;
    bytes[3] = (u8)b;
    volatile u16 *halves = (volatile u16 *)&out[11];
    halves[1] = (u16)(a ^ b);
    const volatile i8 *signed_bytes = (const volatile i8 *)in;
    const volatile i16 *signed_halves = (const volatile i16 *)in;
    const volatile u16 *unsigned_halves = (const volatile u16 *)in;
    out[12] = signed_bytes[1] + signed_bytes[n > 6 ? 6 : 0] + signed_halves[1] + unsigned_halves[n > 7 ? 3 : 0];

    u32 h = 0x811c9dc5u;
    step_fn steps[2] = {fnv, rotate};
    for (u32 i = 0; i < n && i < 24; i++) {
        i32 c = signed_bytes[i];
        if (c < 0) h = steps[i & 1](h, (u32)c);
        else if ((u32)c >= 'a') h ^= (u32)c << 3;
        else if (c == ' ') h += 0x9e3779b9u;
        else if ((u32)c < (u32)'0') h -= (u32)c;
        else h = fnv(h, (u32)c);
    }
    out[13] = (i32)h;
    out[14] = a < b ? a : b;
    out[15] = (u32)a >= (u32)b ? 1 : 2;
    set_output_len(4 * 16);
    return 0;
}
