//! The official riscv-tests rv32ui and rv32um (built by scripts/build-riscv-tests into
//! target/riscv-tests/<suite>-<name>.bin with the project's env, tests/riscv-tests/) run on the
//! machine: each passes (halts with exit code 0), except the two that cannot by design, which
//! stop with their exact error status. A failing case halts with exit code (TESTNUM << 1) | 1.
mod asm;
use std::path::PathBuf;
use vm_core::decode::{AluOp, Instruction};
use vm_core::{decode, Machine, Status};

/// Far above the longest test (under 500 steps).
const MAX_STEPS: u64 = 1_000_000;

/// Every test of rv32ui and rv32um at riscv-tests f163ddfc9b0bf78fb8180012ffcfc93427f780f0
/// (rv32ui-ma_data is built from rv64ui's XLEN-generic ma_data.S, which has no rv32ui wrapper there).
const EXPECTED: [&str; 48] = [
    "rv32ui-add", "rv32ui-addi", "rv32ui-and", "rv32ui-andi", "rv32ui-auipc", "rv32ui-beq", "rv32ui-bge",
    "rv32ui-bgeu", "rv32ui-blt", "rv32ui-bltu", "rv32ui-bne", "rv32ui-fence_i", "rv32ui-jal", "rv32ui-jalr",
    "rv32ui-lb", "rv32ui-lbu", "rv32ui-lh", "rv32ui-lhu", "rv32ui-lui", "rv32ui-lw", "rv32ui-ma_data",
    "rv32ui-or", "rv32ui-ori", "rv32ui-sb", "rv32ui-sh", "rv32ui-simple", "rv32ui-sll", "rv32ui-slli",
    "rv32ui-slt", "rv32ui-slti", "rv32ui-sltiu", "rv32ui-sltu", "rv32ui-sra", "rv32ui-srai", "rv32ui-srl",
    "rv32ui-srli", "rv32ui-sub", "rv32ui-sw", "rv32ui-xor", "rv32ui-xori",
    "rv32um-div", "rv32um-divu", "rv32um-mul", "rv32um-mulh", "rv32um-mulhsu", "rv32um-mulhu", "rv32um-rem",
    "rv32um-remu",
];

/// `fence.i` (Zifencei, outside RV32IM).
const FENCE_I: u32 = 0x0000_100f;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/riscv-tests")
}

/// The built tests, by name, sorted; panics if any expected one is missing.
fn tests() -> Vec<(String, Vec<u8>)> {
    let dir = dir();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; run `bash scripts/build-riscv-tests`", dir.display()));
    let mut tests: Vec<(String, Vec<u8>)> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "bin"))
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    tests.sort();
    let missing: Vec<&str> = EXPECTED.iter().copied().filter(|name| !tests.iter().any(|(n, _)| n == name)).collect();
    assert!(
        missing.is_empty() && tests.len() >= EXPECTED.len(),
        "{}: {} of the {} expected riscv-tests are there, missing {missing:?}; run `bash scripts/build-riscv-tests`",
        dir.display(),
        tests.len(),
        EXPECTED.len()
    );
    tests
}

fn run(image: &[u8]) -> Machine {
    let mut machine = Machine::load(image, &[]).unwrap();
    machine.run(MAX_STEPS);
    machine
}

fn describe(name: &str, machine: &Machine) -> String {
    let core = &machine.core;
    let failing = if core.status == Status::Halted && core.exit_code != 0 {
        format!(" (failing TESTNUM {})", core.exit_code >> 1)
    } else {
        String::new()
    };
    format!(
        "{name}: status {:?}, exit code {}{failing}, {} steps, pc {:#x}, gp (TESTNUM) {}",
        core.status, core.exit_code, core.steps, core.pc, core.regs[3]
    )
}

/// Whether a finished test did what it must: pass, or for the two that cannot, stop as expected.
fn judge(name: &str, machine: &Machine) -> Result<(), String> {
    let core = &machine.core;
    let word_at_pc = machine.memory.read_value(core.pc, 4);
    let ok = match name {
        // Zifencei is outside RV32IM: the machine stops at the `fence.i`.
        "rv32ui-fence_i" => core.status == Status::IllegalInstruction && word_at_pc == FENCE_I,
        // Misaligned data accesses stop the machine by design: at the first case, `lh` at offset 1.
        "rv32ui-ma_data" => core.status == Status::Misaligned && core.regs[3] == 1,
        _ => core.status == Status::Halted && core.exit_code == 0,
    };
    if ok { Ok(()) } else { Err(describe(name, machine)) }
}

#[test]
fn rv32ui_and_rv32um_pass() {
    let tests = tests();
    let mut failures = Vec::new();
    for (name, image) in &tests {
        let machine = run(image);
        eprintln!("{}", describe(name, &machine));
        if let Err(failure) = judge(name, &machine) {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{} of {} riscv-tests failed:\n{}", failures.len(), tests.len(), failures.join("\n"));
}

/// The harness catches a broken test: rv32ui-add with its second `add` (case 3, 1 + 1) made a
/// `sub` halts with exit code (3 << 1) | 1, and a program that never stops is not a pass.
#[test]
fn a_broken_test_is_caught() {
    let tests = tests();
    let add = &tests.iter().find(|(name, _)| name == "rv32ui-add").unwrap().1;
    let mut image = add.clone();
    let word = |image: &[u8], at: usize| u32::from_le_bytes(image[at..at + 4].try_into().unwrap());
    let adds: Vec<usize> = (0..image.len() / 4)
        .map(|i| 4 * i)
        .filter(|&at| matches!(decode(word(&image, at)), Some(Instruction::Op { op: AluOp::Add, .. })))
        .collect();
    assert!(adds.len() > 30, "rv32ui-add has {} add instructions", adds.len());
    let sub = word(&image, adds[1]) | 1 << 30; // add → sub
    image[adds[1]..adds[1] + 4].copy_from_slice(&sub.to_le_bytes());
    let machine = run(&image);
    assert_eq!((machine.core.status, machine.core.exit_code), (Status::Halted, (3 << 1) | 1), "{}", describe("broken add", &machine));
    let failure = judge("rv32ui-add", &machine).unwrap_err();
    assert!(failure.contains("failing TESTNUM 3"), "{failure}");

    let spinning = run(&asm::image(&[asm::jal(0, 0)]));
    assert_eq!(spinning.core.status, Status::Running);
    assert!(judge("rv32ui-add", &spinning).is_err());
    // A pass is not accepted for the two that must stop.
    assert!(judge("rv32ui-fence_i", &run(add)).is_err());
    assert!(judge("rv32ui-ma_data", &run(add)).is_err());
}
