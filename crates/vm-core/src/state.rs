//! The machine's state and its hash. The blob that is hashed, 173 bytes:
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | `pc` (u32 LE) |
//! | 4..128 | `x1..x31` (u32 LE each; `x0` is always zero and not stored) |
//! | 128..160 | memory root |
//! | 160..168 | `steps` (u64 LE) |
//! | 168 | status (0 running, 1 halted, 2 misaligned, 3 illegal instruction, 4 access fault, 5 breakpoint) |
//! | 169..173 | exit code (u32 LE; `a0` at the halting `ecall`, else 0) |
use crate::execute::{step, Bus, Missing};
use crate::layout::{CODE_START, INPUT_START, OUTPUT_START, QUARTER_BYTES};
use crate::memory::Memory;
use crate::merkle::Hash;

pub const STATE_BYTES: usize = 173;
pub type Registers = [u32; 32];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    Running = 0,
    Halted = 1,
    Misaligned = 2,
    IllegalInstruction = 3,
    AccessFault = 4,
    Breakpoint = 5,
}

impl Status {
    pub fn from_byte(byte: u8) -> Option<Status> {
        Some(match byte {
            0 => Status::Running,
            1 => Status::Halted,
            2 => Status::Misaligned,
            3 => Status::IllegalInstruction,
            4 => Status::AccessFault,
            5 => Status::Breakpoint,
            _ => return None,
        })
    }
}

/// Everything but memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Core {
    pub regs: Registers,
    pub pc: u32,
    pub status: Status,
    pub exit_code: u32,
    pub steps: u64,
}

impl Core {
    pub fn new(pc: u32) -> Core {
        Core { regs: [0; 32], pc, status: Status::Running, exit_code: 0, steps: 0 }
    }

    pub fn encode(&self, memory_root: &Hash) -> [u8; STATE_BYTES] {
        let mut blob = [0u8; STATE_BYTES];
        blob[0..4].copy_from_slice(&self.pc.to_le_bytes());
        for (i, reg) in self.regs[1..].iter().enumerate() {
            blob[4 + 4 * i..8 + 4 * i].copy_from_slice(&reg.to_le_bytes());
        }
        blob[128..160].copy_from_slice(memory_root);
        blob[160..168].copy_from_slice(&self.steps.to_le_bytes());
        blob[168] = self.status as u8;
        blob[169..173].copy_from_slice(&self.exit_code.to_le_bytes());
        blob
    }

    /// The core and memory root of a blob, or `None` for an invalid status byte.
    pub fn decode(blob: &[u8; STATE_BYTES]) -> Option<(Core, Hash)> {
        let word = |at: usize| u32::from_le_bytes([blob[at], blob[at + 1], blob[at + 2], blob[at + 3]]);
        let mut regs = [0u32; 32];
        for (i, reg) in regs[1..].iter_mut().enumerate() {
            *reg = word(4 + 4 * i);
        }
        let mut root = [0u8; 32];
        root.copy_from_slice(&blob[128..160]);
        let mut steps = [0u8; 8];
        steps.copy_from_slice(&blob[160..168]);
        let core = Core { regs, pc: word(0), status: Status::from_byte(blob[168])?, exit_code: word(169), steps: u64::from_le_bytes(steps) };
        Some((core, root))
    }
}

pub fn hash_state(blob: &[u8; STATE_BYTES]) -> Hash {
    crate::sha::sha256([blob])
}

/// A whole machine: core and full memory.
pub struct Machine {
    pub core: Core,
    pub memory: Memory,
}

/// Why a program image or input does not fit its region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    CodeTooLarge,
    InputTooLarge,
}

impl Machine {
    /// A machine at the start of a job: the code image at 0, the input (length-prefixed) in its
    /// quarter, everything else zero, `pc` at 0.
    pub fn load(code: &[u8], input: &[u8]) -> Result<Machine, LoadError> {
        if code.len() > QUARTER_BYTES as usize {
            return Err(LoadError::CodeTooLarge);
        }
        if input.len() + 4 > QUARTER_BYTES as usize {
            return Err(LoadError::InputTooLarge);
        }
        let mut memory = Memory::new();
        memory.write_bytes(CODE_START, code);
        memory.write_bytes(INPUT_START, &(input.len() as u32).to_le_bytes());
        memory.write_bytes(INPUT_START + 4, input);
        Ok(Machine { core: Core::new(CODE_START), memory })
    }

    pub fn step(&mut self) {
        // The full memory always has the leaf.
        let _ = step(&mut self.core, &mut self.memory);
    }

    /// Runs until the machine stops or `max_steps` more steps were taken; returns the steps taken.
    pub fn run(&mut self, max_steps: u64) -> u64 {
        let start = self.core.steps;
        while self.core.status == Status::Running && self.core.steps - start < max_steps {
            self.step();
        }
        self.core.steps - start
    }

    pub fn state_blob(&mut self) -> [u8; STATE_BYTES] {
        let root = self.memory.root();
        self.core.encode(&root)
    }

    pub fn state_hash(&mut self) -> Hash {
        hash_state(&self.state_blob())
    }

    /// The bytes the program wrote to its output quarter after the length prefix; a length past
    /// the quarter is cut at its end (a program may write any length).
    pub fn output(&self) -> &[u8] {
        let header = self.memory.bytes(OUTPUT_START, 4);
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]).min(QUARTER_BYTES - 4);
        self.memory.bytes(OUTPUT_START + 4, len as usize)
    }
}

impl Bus for Memory {
    fn read(&mut self, address: u32, width: crate::decode::Width) -> Result<u32, Missing> {
        Ok(self.read_value(address, width.bytes()))
    }

    fn write(&mut self, address: u32, width: crate::decode::Width, value: u32) -> Result<(), Missing> {
        self.write_value(address, width.bytes(), value);
        Ok(())
    }
}
