//! Instruction decoding: a 32-bit word to an [`Instruction`], or `None` for any encoding outside
//! RV32IM (which stops the machine with an illegal-instruction status).

/// Register numbers are 0..=31; immediates are sign-extended as the base ISA specifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instruction {
    Lui { rd: u8, imm: u32 },
    Auipc { rd: u8, imm: u32 },
    Jal { rd: u8, offset: i32 },
    Jalr { rd: u8, rs1: u8, offset: i32 },
    Branch { kind: BranchKind, rs1: u8, rs2: u8, offset: i32 },
    Load { width: Width, signed: bool, rd: u8, rs1: u8, offset: i32 },
    Store { width: Width, rs1: u8, rs2: u8, offset: i32 },
    OpImm { op: AluOp, rd: u8, rs1: u8, imm: i32 },
    Op { op: AluOp, rd: u8, rs1: u8, rs2: u8 },
    MulDiv { op: MulOp, rd: u8, rs1: u8, rs2: u8 },
    Fence,
    Ecall,
    Ebreak,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BranchKind {
    Eq,
    Ne,
    Lt,
    Ge,
    Ltu,
    Geu,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    Byte,
    Half,
    Word,
}

impl Width {
    pub fn bytes(self) -> u32 {
        match self {
            Width::Byte => 1,
            Width::Half => 2,
            Width::Word => 4,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AluOp {
    Add,
    Sub,
    Sll,
    Slt,
    Sltu,
    Xor,
    Srl,
    Sra,
    Or,
    And,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MulOp {
    Mul,
    Mulh,
    Mulhsu,
    Mulhu,
    Div,
    Divu,
    Rem,
    Remu,
}

fn rd(word: u32) -> u8 {
    ((word >> 7) & 0x1f) as u8
}
fn rs1(word: u32) -> u8 {
    ((word >> 15) & 0x1f) as u8
}
fn rs2(word: u32) -> u8 {
    ((word >> 20) & 0x1f) as u8
}
fn funct3(word: u32) -> u32 {
    (word >> 12) & 0x7
}
fn funct7(word: u32) -> u32 {
    word >> 25
}
fn imm_i(word: u32) -> i32 {
    (word as i32) >> 20
}
fn imm_s(word: u32) -> i32 {
    ((word as i32) >> 25 << 5) | ((word >> 7) & 0x1f) as i32
}
fn imm_b(word: u32) -> i32 {
    let sign = (word as i32) >> 31 << 12;
    sign | (((word >> 7) & 1) << 11) as i32 | (((word >> 25) & 0x3f) << 5) as i32 | (((word >> 8) & 0xf) << 1) as i32
}
fn imm_j(word: u32) -> i32 {
    let sign = (word as i32) >> 31 << 20;
    sign | (word & 0xff000) as i32 | (((word >> 20) & 1) << 11) as i32 | (((word >> 21) & 0x3ff) << 1) as i32
}

pub fn decode(word: u32) -> Option<Instruction> {
    use Instruction::*;
    let instruction = match word & 0x7f {
        0x37 => Lui { rd: rd(word), imm: word & 0xffff_f000 },
        0x17 => Auipc { rd: rd(word), imm: word & 0xffff_f000 },
        0x6f => Jal { rd: rd(word), offset: imm_j(word) },
        0x67 if funct3(word) == 0 => Jalr { rd: rd(word), rs1: rs1(word), offset: imm_i(word) },
        0x63 => {
            let kind = match funct3(word) {
                0 => BranchKind::Eq,
                1 => BranchKind::Ne,
                4 => BranchKind::Lt,
                5 => BranchKind::Ge,
                6 => BranchKind::Ltu,
                7 => BranchKind::Geu,
                _ => return None,
            };
            Branch { kind, rs1: rs1(word), rs2: rs2(word), offset: imm_b(word) }
        }
        0x03 => {
            let (width, signed) = match funct3(word) {
                0 => (Width::Byte, true),
                1 => (Width::Half, true),
                2 => (Width::Word, true),
                4 => (Width::Byte, false),
                5 => (Width::Half, false),
                _ => return None,
            };
            Load { width, signed, rd: rd(word), rs1: rs1(word), offset: imm_i(word) }
        }
        0x23 => {
            let width = match funct3(word) {
                0 => Width::Byte,
                1 => Width::Half,
                2 => Width::Word,
                _ => return None,
            };
            Store { width, rs1: rs1(word), rs2: rs2(word), offset: imm_s(word) }
        }
        0x13 => {
            let imm = imm_i(word);
            let op = match (funct3(word), funct7(word)) {
                (0, _) => AluOp::Add,
                (2, _) => AluOp::Slt,
                (3, _) => AluOp::Sltu,
                (4, _) => AluOp::Xor,
                (6, _) => AluOp::Or,
                (7, _) => AluOp::And,
                (1, 0x00) => AluOp::Sll,
                (5, 0x00) => AluOp::Srl,
                (5, 0x20) => AluOp::Sra,
                _ => return None,
            };
            // Shift amounts are the low five bits; the funct7 bits are not part of the amount.
            let imm = if matches!(op, AluOp::Sll | AluOp::Srl | AluOp::Sra) { imm & 0x1f } else { imm };
            OpImm { op, rd: rd(word), rs1: rs1(word), imm }
        }
        0x33 => {
            let (rd, rs1, rs2) = (rd(word), rs1(word), rs2(word));
            match (funct7(word), funct3(word)) {
                (0x01, f) => {
                    let op = [MulOp::Mul, MulOp::Mulh, MulOp::Mulhsu, MulOp::Mulhu, MulOp::Div, MulOp::Divu, MulOp::Rem, MulOp::Remu][(f & 7) as usize];
                    MulDiv { op, rd, rs1, rs2 }
                }
                (0x00, 0) => Op { op: AluOp::Add, rd, rs1, rs2 },
                (0x20, 0) => Op { op: AluOp::Sub, rd, rs1, rs2 },
                (0x00, 1) => Op { op: AluOp::Sll, rd, rs1, rs2 },
                (0x00, 2) => Op { op: AluOp::Slt, rd, rs1, rs2 },
                (0x00, 3) => Op { op: AluOp::Sltu, rd, rs1, rs2 },
                (0x00, 4) => Op { op: AluOp::Xor, rd, rs1, rs2 },
                (0x00, 5) => Op { op: AluOp::Srl, rd, rs1, rs2 },
                (0x20, 5) => Op { op: AluOp::Sra, rd, rs1, rs2 },
                (0x00, 6) => Op { op: AluOp::Or, rd, rs1, rs2 },
                (0x00, 7) => Op { op: AluOp::And, rd, rs1, rs2 },
                _ => return None,
            }
        }
        0x0f if funct3(word) == 0 => Fence,
        0x73 if word == 0x0000_0073 => Ecall,
        0x73 if word == 0x0010_0073 => Ebreak,
        _ => return None,
    };
    Some(instruction)
}
