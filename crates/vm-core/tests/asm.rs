//! A tiny assembler for the tests: RISC-V instruction formats from fields.
#![allow(dead_code)]

pub fn r(funct7: u32, rs2: u32, rs1: u32, funct3: u32, rd: u32, opcode: u32) -> u32 {
    funct7 << 25 | rs2 << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | opcode
}
pub fn i(imm: i32, rs1: u32, funct3: u32, rd: u32, opcode: u32) -> u32 {
    ((imm as u32) & 0xfff) << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | opcode
}
pub fn s(imm: i32, rs2: u32, rs1: u32, funct3: u32) -> u32 {
    let imm = imm as u32;
    ((imm >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | funct3 << 12 | (imm & 0x1f) << 7 | 0x23
}
pub fn b(imm: i32, rs2: u32, rs1: u32, funct3: u32) -> u32 {
    let imm = imm as u32;
    ((imm >> 12) & 1) << 31 | ((imm >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | funct3 << 12 | ((imm >> 1) & 0xf) << 8 | ((imm >> 11) & 1) << 7 | 0x63
}
pub fn u(imm: u32, rd: u32, opcode: u32) -> u32 {
    (imm & 0xffff_f000) | rd << 7 | opcode
}
pub fn j(imm: i32, rd: u32) -> u32 {
    let imm = imm as u32;
    ((imm >> 20) & 1) << 31 | ((imm >> 1) & 0x3ff) << 21 | ((imm >> 11) & 1) << 20 | ((imm >> 12) & 0xff) << 12 | rd << 7 | 0x6f
}

pub fn addi(rd: u32, rs1: u32, imm: i32) -> u32 { i(imm, rs1, 0, rd, 0x13) }
pub fn lui(rd: u32, imm: u32) -> u32 { u(imm, rd, 0x37) }
pub fn auipc(rd: u32, imm: u32) -> u32 { u(imm, rd, 0x17) }
pub fn add(rd: u32, rs1: u32, rs2: u32) -> u32 { r(0, rs2, rs1, 0, rd, 0x33) }
pub fn sub(rd: u32, rs1: u32, rs2: u32) -> u32 { r(0x20, rs2, rs1, 0, rd, 0x33) }
pub fn sll(rd: u32, rs1: u32, rs2: u32) -> u32 { r(0, rs2, rs1, 1, rd, 0x33) }
pub fn slt(rd: u32, rs1: u32, rs2: u32) -> u32 { r(0, rs2, rs1, 2, rd, 0x33) }
pub fn sltu(rd: u32, rs1: u32, rs2: u32) -> u32 { r(0, rs2, rs1, 3, rd, 0x33) }
pub fn sra(rd: u32, rs1: u32, rs2: u32) -> u32 { r(0x20, rs2, rs1, 5, rd, 0x33) }
pub fn srl(rd: u32, rs1: u32, rs2: u32) -> u32 { r(0, rs2, rs1, 5, rd, 0x33) }
pub fn srai(rd: u32, rs1: u32, shamt: i32) -> u32 { i(shamt | 0x400, rs1, 5, rd, 0x13) }
pub fn mul(op: u32, rd: u32, rs1: u32, rs2: u32) -> u32 { r(1, rs2, rs1, op, rd, 0x33) }
pub fn lw(rd: u32, rs1: u32, imm: i32) -> u32 { i(imm, rs1, 2, rd, 0x03) }
pub fn lb(rd: u32, rs1: u32, imm: i32) -> u32 { i(imm, rs1, 0, rd, 0x03) }
pub fn lh(rd: u32, rs1: u32, imm: i32) -> u32 { i(imm, rs1, 1, rd, 0x03) }
pub fn lbu(rd: u32, rs1: u32, imm: i32) -> u32 { i(imm, rs1, 4, rd, 0x03) }
pub fn lhu(rd: u32, rs1: u32, imm: i32) -> u32 { i(imm, rs1, 5, rd, 0x03) }
pub fn sw(rs2: u32, rs1: u32, imm: i32) -> u32 { s(imm, rs2, rs1, 2) }
pub fn sb(rs2: u32, rs1: u32, imm: i32) -> u32 { s(imm, rs2, rs1, 0) }
pub fn sh(rs2: u32, rs1: u32, imm: i32) -> u32 { s(imm, rs2, rs1, 1) }
pub fn beq(rs1: u32, rs2: u32, imm: i32) -> u32 { b(imm, rs2, rs1, 0) }
pub fn bne(rs1: u32, rs2: u32, imm: i32) -> u32 { b(imm, rs2, rs1, 1) }
pub fn blt(rs1: u32, rs2: u32, imm: i32) -> u32 { b(imm, rs2, rs1, 4) }
pub fn bgeu(rs1: u32, rs2: u32, imm: i32) -> u32 { b(imm, rs2, rs1, 7) }
pub fn jal(rd: u32, imm: i32) -> u32 { j(imm, rd) }
pub fn jalr(rd: u32, rs1: u32, imm: i32) -> u32 { i(imm, rs1, 0, rd, 0x67) }
pub const ECALL: u32 = 0x73;
pub const EBREAK: u32 = 0x0010_0073;

pub fn image(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}
