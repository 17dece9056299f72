//! The memory layout guests are linked for (examples/guest.ld mirrors it): four 4 MiB quarters,
//! so the initial memory root is node(node(code, input), node(empty, empty)) two levels below the
//! root, computable from the program's code root and the consumer's input root.

/// Bytes of memory.
pub const MEMORY_BYTES: u32 = 1 << 24;
/// Code and initialized data; execution starts at `CODE_START`.
pub const CODE_START: u32 = 0;
/// The input: its length (u32), then its bytes.
pub const INPUT_START: u32 = 0x40_0000;
/// The output: its length (u32), then its bytes; the output root commits to this quarter.
pub const OUTPUT_START: u32 = 0x80_0000;
/// Heap and stack (the stack grows down from the top of memory).
pub const HEAP_START: u32 = 0xC0_0000;
/// Bytes in each quarter.
pub const QUARTER_BYTES: u32 = 0x40_0000;
