/* C = A × B for n×n int32 matrices (wrapping arithmetic). Input: n (u32), then A and B row-major
 * (i32, little-endian). Output: C row-major. */
#include "../runtime/guest.h"

int main(void) {
    const u8 *in = input_bytes();
    u32 n = *(const u32 *)in;
    if (n == 0 || n > 128 || input_len() != 4 + 8 * n * n) return 1;
    const i32 *a = (const i32 *)(in + 4);
    const i32 *b = a + n * n;
    i32 *c = (i32 *)output_bytes();
    for (u32 i = 0; i < n; i++)
        for (u32 j = 0; j < n; j++) {
            i32 sum = 0;
            for (u32 k = 0; k < n; k++) sum += a[i * n + k] * b[k * n + j];
            c[i * n + j] = sum;
        }
    set_output_len(4 * n * n);
    return 0;
}
