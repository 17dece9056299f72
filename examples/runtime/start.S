# Entry point: a stack at the top of the heap region, main's return value as the exit code, and
# the machine's only ecall (halt, exit code in a0).
    .section .text.start
    .globl _start
_start:
    la   sp, __stack_top
    call main
    ecall
1:  j 1b
