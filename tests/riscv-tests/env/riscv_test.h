/* The test environment of the official riscv-tests (isa/rv32ui, isa/rv32um) on the project's
 * rv32im machine (crates/vm-core), written for this project in place of upstream's env/ (which
 * sets up machine mode, traps and `tohost`; this machine has none of them). The tests use only
 * the macros below; scripts/build-riscv-tests builds them with tests/riscv-tests/link.ld.
 *
 * - The machine starts at pc 0 with every register zero, so the code begins with `_start` and
 *   needs no set-up.
 * - Pass: `ecall` with a0 = 0 (the machine halts with exit code 0).
 * - Fail: `ecall` with a0 = (TESTNUM << 1) | 1, TESTNUM being the number of the failing case
 *   (register gp, as upstream), so exit code >> 1 names it.
 * - Falling off the end of the code hits `unimp`, an illegal instruction on this machine. */
#ifndef RISCV_TEST_H
#define RISCV_TEST_H

/* Upstream selects the test's privilege set-up with these; here both expand to nothing (the
 * rv32 tests redefine RVTEST_RV64U as RVTEST_RV32U before including the rv64ui sources). */
#define RVTEST_RV32U
#define RVTEST_RV64U

#define TESTNUM gp

#define RVTEST_CODE_BEGIN \
        .section .text.init, "ax", @progbits; \
        .align 2; \
        .globl _start; \
_start:

#define RVTEST_CODE_END \
        unimp

#define RVTEST_PASS \
        li a0, 0; \
        ecall

#define RVTEST_FAIL \
        slli a0, TESTNUM, 1; \
        ori a0, a0, 1; \
        ecall

#define RVTEST_DATA_BEGIN \
        .align 4; \
        .globl begin_signature; \
begin_signature:

#define RVTEST_DATA_END \
        .align 4; \
        .globl end_signature; \
end_signature:

#endif
