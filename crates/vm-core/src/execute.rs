//! One machine step over any [`Bus`]: the full memory off-chain, or the leaves of a witness
//! on-chain. Alignment and range are checked here, before the bus is asked, so that every bus
//! faults the same way; an aligned access never crosses a 32-byte leaf.
use crate::decode::{decode, AluOp, BranchKind, Instruction, MulOp, Width};
use crate::layout::MEMORY_BYTES;
use crate::state::{Core, Status};

/// The bus could not serve an access: only a witness bus says this, when it lacks the leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Missing;

pub trait Bus {
    /// Reads an aligned, in-range value of `width` bytes (little-endian).
    fn read(&mut self, address: u32, width: Width) -> Result<u32, Missing>;
    /// Writes an aligned, in-range value of `width` bytes (little-endian).
    fn write(&mut self, address: u32, width: Width, value: u32) -> Result<(), Missing>;
}

/// Why an access stops the machine, or `None` when it may proceed.
fn access_fault(address: u32, width: Width) -> Option<Status> {
    if address % width.bytes() != 0 {
        return Some(Status::Misaligned);
    }
    if address.checked_add(width.bytes()).map_or(true, |end| end > MEMORY_BYTES) {
        return Some(Status::AccessFault);
    }
    None
}

fn alu(op: AluOp, a: u32, b: u32) -> u32 {
    match op {
        AluOp::Add => a.wrapping_add(b),
        AluOp::Sub => a.wrapping_sub(b),
        AluOp::Sll => a << (b & 0x1f),
        AluOp::Slt => ((a as i32) < (b as i32)) as u32,
        AluOp::Sltu => (a < b) as u32,
        AluOp::Xor => a ^ b,
        AluOp::Srl => a >> (b & 0x1f),
        AluOp::Sra => ((a as i32) >> (b & 0x1f)) as u32,
        AluOp::Or => a | b,
        AluOp::And => a & b,
    }
}

/// The M extension, with the base ISA's results for division by zero and overflow (no traps).
fn mul_div(op: MulOp, a: u32, b: u32) -> u32 {
    match op {
        MulOp::Mul => a.wrapping_mul(b),
        MulOp::Mulh => ((a as i32 as i64).wrapping_mul(b as i32 as i64) >> 32) as u32,
        MulOp::Mulhsu => ((a as i32 as i64).wrapping_mul(b as u64 as i64) >> 32) as u32,
        MulOp::Mulhu => ((a as u64 * b as u64) >> 32) as u32,
        MulOp::Div => match (a as i32, b as i32) {
            (_, 0) => u32::MAX,
            (i32::MIN, -1) => i32::MIN as u32,
            (x, y) => signed_div(x, y),
        },
        MulOp::Divu => a.checked_div(b).unwrap_or(u32::MAX),
        MulOp::Rem => match (a as i32, b as i32) {
            (x, 0) => x as u32,
            (i32::MIN, -1) => 0,
            (x, y) => signed_rem(x, y),
        },
        MulOp::Remu => a.checked_rem(b).unwrap_or(a),
    }
}

/// `x / y` rounded toward zero, for `y ≠ 0` and not `i32::MIN / −1`, computed on magnitudes:
/// the chain's BPF target has no signed division instruction.
fn signed_div(x: i32, y: i32) -> u32 {
    let quotient = x.unsigned_abs() / y.unsigned_abs();
    if (x < 0) != (y < 0) { quotient.wrapping_neg() } else { quotient }
}

/// `x % y` with the dividend's sign, for `y ≠ 0`, computed on magnitudes (see `signed_div`).
fn signed_rem(x: i32, y: i32) -> u32 {
    let remainder = x.unsigned_abs() % y.unsigned_abs();
    if x < 0 { remainder.wrapping_neg() } else { remainder }
}

fn branch_taken(kind: BranchKind, a: u32, b: u32) -> bool {
    match kind {
        BranchKind::Eq => a == b,
        BranchKind::Ne => a != b,
        BranchKind::Lt => (a as i32) < (b as i32),
        BranchKind::Ge => (a as i32) >= (b as i32),
        BranchKind::Ltu => a < b,
        BranchKind::Geu => a >= b,
    }
}

fn extend(value: u32, width: Width, signed: bool) -> u32 {
    match (width, signed) {
        (Width::Byte, true) => value as u8 as i8 as i32 as u32,
        (Width::Half, true) => value as u16 as i16 as i32 as u32,
        (Width::Byte, false) => value & 0xff,
        (Width::Half, false) => value & 0xffff,
        (Width::Word, _) => value,
    }
}

/// Stops the machine at the current instruction: it still counts as a step.
fn stop(core: &mut Core, status: Status) {
    core.status = status;
    core.steps = core.steps.wrapping_add(1);
}

/// Executes one instruction. A stopped machine is left as it is.
pub fn step(core: &mut Core, bus: &mut impl Bus) -> Result<(), Missing> {
    if core.status != Status::Running {
        return Ok(());
    }
    let pc = core.pc;
    if let Some(fault) = access_fault(pc, Width::Word) {
        stop(core, fault);
        return Ok(());
    }
    let word = bus.read(pc, Width::Word)?;
    let Some(instruction) = decode(word) else {
        stop(core, Status::IllegalInstruction);
        return Ok(());
    };
    // Register numbers are five bits; the mask only tells the compiler so (no bounds check).
    let reg = |core: &Core, r: u8| core.regs[(r & 31) as usize];
    let mut next = pc.wrapping_add(4);
    let mut write: Option<(u8, u32)> = None;
    match instruction {
        Instruction::Lui { rd, imm } => write = Some((rd, imm)),
        Instruction::Auipc { rd, imm } => write = Some((rd, pc.wrapping_add(imm))),
        Instruction::Jal { rd, offset } => {
            write = Some((rd, next));
            next = pc.wrapping_add(offset as u32);
        }
        Instruction::Jalr { rd, rs1, offset } => {
            let target = reg(core, rs1).wrapping_add(offset as u32) & !1;
            write = Some((rd, next));
            next = target;
        }
        Instruction::Branch { kind, rs1, rs2, offset } => {
            if branch_taken(kind, reg(core, rs1), reg(core, rs2)) {
                next = pc.wrapping_add(offset as u32);
            }
        }
        Instruction::Load { width, signed, rd, rs1, offset } => {
            let address = reg(core, rs1).wrapping_add(offset as u32);
            if let Some(fault) = access_fault(address, width) {
                stop(core, fault);
                return Ok(());
            }
            write = Some((rd, extend(bus.read(address, width)?, width, signed)));
        }
        Instruction::Store { width, rs1, rs2, offset } => {
            let address = reg(core, rs1).wrapping_add(offset as u32);
            if let Some(fault) = access_fault(address, width) {
                stop(core, fault);
                return Ok(());
            }
            bus.write(address, width, reg(core, rs2))?;
        }
        Instruction::OpImm { op, rd, rs1, imm } => write = Some((rd, alu(op, reg(core, rs1), imm as u32))),
        Instruction::Op { op, rd, rs1, rs2 } => write = Some((rd, alu(op, reg(core, rs1), reg(core, rs2)))),
        Instruction::MulDiv { op, rd, rs1, rs2 } => write = Some((rd, mul_div(op, reg(core, rs1), reg(core, rs2)))),
        Instruction::Fence => {}
        Instruction::Ecall => {
            core.exit_code = core.regs[10];
            stop(core, Status::Halted);
            return Ok(());
        }
        Instruction::Ebreak => {
            stop(core, Status::Breakpoint);
            return Ok(());
        }
    }
    if let Some((rd, value)) = write {
        if rd != 0 {
            core.regs[(rd & 31) as usize] = value;
        }
    }
    core.pc = next;
    core.steps = core.steps.wrapping_add(1);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{signed_div, signed_rem};

    #[test]
    fn division_on_magnitudes_matches_signed_division() {
        let interesting = [i32::MIN, i32::MIN + 1, -65_537, -7, -3, -2, -1, 1, 2, 3, 7, 65_537, i32::MAX - 1, i32::MAX];
        let mut seed = 0x9e37_79b9u32;
        let mut values: alloc::vec::Vec<i32> = interesting.to_vec();
        for _ in 0..2_000 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            values.push(seed as i32 >> (seed % 31));
        }
        for &x in &values {
            for &y in interesting.iter().chain(values.iter().take(200)) {
                if y == 0 || (x == i32::MIN && y == -1) {
                    continue;
                }
                assert_eq!(signed_div(x, y), (x / y) as u32, "{x} / {y}");
                assert_eq!(signed_rem(x, y), (x % y) as u32, "{x} % {y}");
            }
        }
    }
}
