/* The guest side of the rv32im machine: where the preloaded input is, where the output goes, and
 * how to halt. Addresses come from guest.ld, which mirrors the machine's memory layout. */
#ifndef COMPUTE_MARKET_GUEST_H
#define COMPUTE_MARKET_GUEST_H

typedef unsigned char u8;
typedef unsigned int u32;
typedef int i32;
typedef unsigned long long u64;

extern u8 __input_start[];
extern u8 __output_start[];

/* The input region starts with its length (u32, little-endian), then the bytes. */
static inline u32 input_len(void) { return *(volatile u32 *)__input_start; }
static inline const u8 *input_bytes(void) { return __input_start + 4; }

/* The output region: its length (u32), then the bytes; the output root commits to this region. */
static inline u8 *output_bytes(void) { return __output_start + 4; }
static inline void set_output_len(u32 len) { *(volatile u32 *)__output_start = len; }

#endif
