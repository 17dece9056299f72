//! Instruction semantics, one program at a time, against the RISC-V specification's results.
mod asm;
use asm::*;
use vm_core::{Machine, Status};

/// Runs a program to its halt and returns the machine.
fn run(words: &[u32]) -> Machine {
    let mut machine = Machine::load(&image(words), &[]).unwrap();
    machine.run(10_000);
    machine
}

fn reg(words: &[u32], r: usize) -> u32 {
    let machine = run(words);
    assert_eq!(machine.core.status, Status::Halted, "program did not halt");
    machine.core.regs[r]
}

#[test]
fn alu_and_immediates() {
    assert_eq!(reg(&[addi(5, 0, -7), ECALL], 5), -7i32 as u32);
    assert_eq!(reg(&[lui(5, 0xdead_b000), addi(5, 5, 0x7ef), ECALL], 5), 0xdead_b7ef);
    assert_eq!(reg(&[addi(0, 0, 5), add(5, 0, 0), ECALL], 5), 0, "x0 stays zero");
    assert_eq!(reg(&[addi(1, 0, 3), addi(2, 0, 5), sub(5, 1, 2), ECALL], 5), -2i32 as u32);
    assert_eq!(reg(&[addi(1, 0, 1), addi(2, 0, 33), sll(5, 1, 2), ECALL], 5), 2, "shift amounts use the low five bits");
    assert_eq!(reg(&[addi(1, 0, -16), srai(5, 1, 2), ECALL], 5), -4i32 as u32);
    assert_eq!(reg(&[addi(1, 0, -16), addi(2, 0, 2), srl(5, 1, 2), ECALL], 5), 0xffff_fff0 >> 2);
    assert_eq!(reg(&[addi(1, 0, -16), addi(2, 0, 2), sra(5, 1, 2), ECALL], 5), -4i32 as u32);
    assert_eq!(reg(&[addi(1, 0, -1), addi(2, 0, 1), slt(5, 1, 2), ECALL], 5), 1);
    assert_eq!(reg(&[addi(1, 0, -1), addi(2, 0, 1), sltu(5, 1, 2), ECALL], 5), 0);
    assert_eq!(reg(&[auipc(5, 0x1000), ECALL], 5), 0x1000);
}

#[test]
fn multiply_and_divide() {
    let op = |f: u32, a: i32, b: i32| reg(&[lui(1, (a as u32).wrapping_add(0x800) & 0xffff_f000), addi(1, 1, ((a as u32) & 0xfff) as i32), lui(2, (b as u32).wrapping_add(0x800) & 0xffff_f000), addi(2, 2, ((b as u32) & 0xfff) as i32), mul(f, 5, 1, 2), ECALL], 5);
    // Sign-extend the 12-bit low parts the way addi does.
    let fix = |x: i32| x;
    let cases: [(i32, i32); 6] = [(7, -3), (-7, 3), (i32::MIN, -1), (123_456_789, 987_654), (-1, -1), (5, 0)];
    for (a, b) in cases.map(|(a, b)| (fix(a), fix(b))) {
        let (ua, ub) = (a as u32, b as u32);
        assert_eq!(op(0, a, b), ua.wrapping_mul(ub), "mul {a} {b}");
        assert_eq!(op(1, a, b), ((a as i64 * b as i64) >> 32) as u32, "mulh {a} {b}");
        assert_eq!(op(2, a, b), ((a as i64).wrapping_mul(ub as i64) >> 32) as u32, "mulhsu {a} {b}");
        assert_eq!(op(3, a, b), ((ua as u64 * ub as u64) >> 32) as u32, "mulhu {a} {b}");
        let div = if b == 0 { u32::MAX } else if a == i32::MIN && b == -1 { a as u32 } else { (a / b) as u32 };
        let rem = if b == 0 { ua } else if a == i32::MIN && b == -1 { 0 } else { (a % b) as u32 };
        assert_eq!(op(4, a, b), div, "div {a} {b}");
        assert_eq!(op(5, a, b), ua.checked_div(ub).unwrap_or(u32::MAX), "divu {a} {b}");
        assert_eq!(op(6, a, b), rem, "rem {a} {b}");
        assert_eq!(op(7, a, b), ua.checked_rem(ub).unwrap_or(ua), "remu {a} {b}");
    }
}

#[test]
fn loads_and_stores() {
    let base = 0xC0_0000u32;
    let program = [lui(1, base), addi(2, 0, -2), sw(2, 1, 0), lb(5, 1, 0), lbu(6, 1, 0), lh(7, 1, 0), lhu(8, 1, 0), addi(3, 0, 0x7f), sb(3, 1, 5), lw(9, 1, 4), sh(2, 1, 8), lw(10, 1, 8), ECALL];
    let machine = run(&program);
    assert_eq!(machine.core.status, Status::Halted);
    let regs = machine.core.regs;
    assert_eq!([regs[5], regs[6], regs[7], regs[8]], [-2i32 as u32, 0xfe, -2i32 as u32, 0xfffe]);
    assert_eq!(regs[9], 0x7f00);
    assert_eq!(regs[10], 0xfffe);
}

#[test]
fn branches_and_jumps() {
    // Sum 1..=10 with a backward branch.
    let sum = [addi(1, 0, 10), addi(5, 0, 0), add(5, 5, 1), addi(1, 1, -1), bne(1, 0, -8), ECALL];
    assert_eq!(reg(&sum, 5), 55);
    // jal links pc+4 and jalr clears bit 0 of the target.
    let program = [jal(1, 8), ECALL, addi(2, 0, 21), jalr(3, 2, 0), ECALL, addi(10, 0, 9), ECALL];
    let machine = run(&program);
    assert_eq!(machine.core.regs[1], 4);
    assert_eq!(machine.core.regs[3], 16);
    assert_eq!(machine.core.exit_code, 9, "jalr to 21 lands on 20");
    assert_eq!(reg(&[addi(1, 0, -1), addi(2, 0, 1), blt(1, 2, 8), addi(5, 0, 1), ECALL], 5), 0);
    assert_eq!(reg(&[addi(1, 0, -1), addi(2, 0, 1), bgeu(1, 2, 8), addi(5, 0, 1), ECALL], 5), 0);
    assert_eq!(reg(&[beq(0, 0, 8), addi(5, 0, 1), ECALL], 5), 0);
}

#[test]
fn halts_and_faults_are_fixed_points() {
    let mut halted = run(&[addi(10, 0, 42), ECALL]);
    assert_eq!((halted.core.status, halted.core.exit_code, halted.core.steps), (Status::Halted, 42, 2));
    let hash = halted.state_hash();
    halted.step();
    assert_eq!(halted.state_hash(), hash, "stepping a halted machine changes nothing");

    assert_eq!(run(&[0xffff_ffff]).core.status, Status::IllegalInstruction);
    assert_eq!(run(&[EBREAK]).core.status, Status::Breakpoint);
    assert_eq!(run(&[addi(1, 0, 2), lw(5, 1, 0)]).core.status, Status::Misaligned);
    assert_eq!(run(&[lui(1, 0x0100_0000), lw(5, 1, 0)]).core.status, Status::AccessFault, "16 MiB and up is outside memory");
    assert_eq!(run(&[jal(0, 2)]).core.status, Status::Misaligned, "a jump to a misaligned pc faults at the fetch");
    let faulted = run(&[0xffff_ffff]);
    assert_eq!((faulted.core.pc, faulted.core.steps), (0, 1), "a fault counts as a step and stays at its instruction");
}

#[test]
fn never_panics_on_arbitrary_words() {
    let mut state = 0x9e37_79b9u32;
    for _ in 0..2_000 {
        let words: Vec<u32> = (0..8)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state
            })
            .collect();
        let mut machine = Machine::load(&image(&words), &[]).unwrap();
        machine.run(64);
    }
}
