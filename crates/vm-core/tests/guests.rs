//! The example guest programs (examples/, built by scripts/build-guests) run to the right answer,
//! and every step of them, sampled, checks through the one-step proof against the full machine.
mod asm;
use sha2::{Digest, Sha256};
use vm_core::layout::OUTPUT_START;
use vm_core::merkle::{empty_hashes, root_from_path, DEPTH};
use vm_core::{verify_step, Machine, Memory, Status, WitnessError};

fn guest(name: &str) -> Vec<u8> {
    let path = format!("{}/../../target/guests/{name}.bin", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}; run `bash scripts/build-guests`"))
}

fn output(machine: &Machine) -> Vec<u8> {
    let len = u32::from_le_bytes(machine.memory.bytes(OUTPUT_START, 4).try_into().unwrap()) as usize;
    machine.memory.bytes(OUTPUT_START + 4, len).to_vec()
}

fn run_to_halt(name: &str, input: &[u8]) -> Machine {
    let mut machine = Machine::load(&guest(name), input).unwrap();
    machine.run(100_000_000);
    assert_eq!(machine.core.status, Status::Halted, "{name} did not halt");
    assert_eq!(machine.core.exit_code, 0, "{name} exit code");
    machine
}

fn xorshift_bytes(len: usize, mut state: u32) -> Vec<u8> {
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

#[test]
fn sha256_guest_matches_the_host() {
    for len in [0usize, 55, 56, 64, 1000, 65_536] {
        let input = xorshift_bytes(len, 7 + len as u32);
        let machine = run_to_halt("sha256", &input);
        assert_eq!(output(&machine), Sha256::digest(&input).to_vec(), "sha256 of {len} bytes");
        if len == 65_536 {
            eprintln!("sha256 of 64 KiB: {} steps", machine.core.steps);
        }
    }
}

#[test]
fn matmul_guest_matches_the_host() {
    let n = 48u32;
    let values: Vec<i32> = xorshift_bytes(8 * (n * n) as usize, 3).chunks(4).map(|c| i32::from_le_bytes(c.try_into().unwrap()) >> 8).collect();
    let mut input = n.to_le_bytes().to_vec();
    input.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    let machine = run_to_halt("matmul", &input);
    let (a, b) = values.split_at((n * n) as usize);
    let n = n as usize;
    let expected: Vec<u8> = (0..n * n)
        .flat_map(|ij| {
            let (i, j) = (ij / n, ij % n);
            (0..n).fold(0i32, |sum, k| sum.wrapping_add(a[i * n + k].wrapping_mul(b[k * n + j]))).to_le_bytes()
        })
        .collect();
    assert_eq!(output(&machine), expected);
    eprintln!("matmul 48×48: {} steps", machine.core.steps);
}

#[test]
fn montecarlo_guest_matches_the_host() {
    let (seed, samples) = (12_345u32, 100_000u32);
    let mut input = seed.to_le_bytes().to_vec();
    input.extend(samples.to_le_bytes());
    let machine = run_to_halt("montecarlo", &input);
    let mut state = seed;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let inside = (0..samples).filter(|_| {
        let (x, y) = (next() >> 17, next() >> 17);
        x * x + y * y < 1 << 30
    });
    let inside = inside.count() as u32;
    let mut expected = inside.to_le_bytes().to_vec();
    expected.extend(samples.to_le_bytes());
    assert_eq!(output(&machine), expected);
    eprintln!("montecarlo 100k samples: {} steps, pi ≈ {}", machine.core.steps, 4.0 * inside as f64 / samples as f64);
}

/// Checks `verify_step` against the full machine at every step in `steps` (stepping between).
fn check_steps(name: &str, input: &[u8], every: u64, limit: u64) -> u64 {
    let mut machine = Machine::load(&guest(name), input).unwrap();
    let mut checked = 0;
    while machine.core.status == Status::Running && machine.core.steps < limit {
        if machine.core.steps % every == 0 {
            let pre = machine.state_hash();
            let witness = machine.witness();
            machine.step();
            assert_eq!(verify_step(&pre, &witness), Ok(machine.state_hash()), "{name} step {}", machine.core.steps - 1);
            checked += 1;
        } else {
            machine.step();
        }
    }
    checked
}

#[test]
fn one_step_proofs_agree_with_the_full_machine() {
    // Every step of the first 3,000 of each program, then one in 97 up to 200,000 steps.
    for (name, input) in [("sha256", xorshift_bytes(200, 1)), ("montecarlo", [9u32.to_le_bytes(), 2_000u32.to_le_bytes()].concat())] {
        assert_eq!(check_steps(name, &input, 1, 3_000), 3_000);
        assert!(check_steps(name, &input, 97, 200_000) > 0);
    }
}

#[test]
fn tampered_witnesses_are_refused() {
    let mut machine = Machine::load(&guest("sha256"), &xorshift_bytes(100, 5)).unwrap();
    // Find a store, whose witness carries a data leaf.
    loop {
        let witness = machine.witness();
        if witness.data.is_some() {
            break;
        }
        machine.step();
    }
    let pre = machine.state_hash();
    let good = machine.witness();
    assert!(verify_step(&pre, &good).is_ok());
    let wire = good.encode();
    assert_eq!(wire.len(), vm_core::MAX_WITNESS_BYTES, "a store away from its code carries two leaves");
    assert_eq!(vm_core::StepWitness::decode(&wire), Some(good.clone()));
    assert_eq!(vm_core::StepWitness::decode(&wire[..wire.len() - 1]), None);

    let mut wrong_state = good.clone();
    wrong_state.state[4] ^= 1;
    assert_eq!(verify_step(&pre, &wrong_state), Err(WitnessError::PreStateMismatch));

    let mut wrong_leaf = good.clone();
    wrong_leaf.data.as_mut().unwrap().leaf[0] ^= 1;
    assert_eq!(verify_step(&pre, &wrong_leaf), Err(WitnessError::BadProof));

    let mut wrong_path = good.clone();
    wrong_path.fetch.as_mut().unwrap().siblings[3][0] ^= 1;
    assert_eq!(verify_step(&pre, &wrong_path), Err(WitnessError::BadProof));

    let mut short = good.clone();
    short.data = None;
    assert_eq!(verify_step(&pre, &short), Err(WitnessError::MissingLeaf));

    let mut bad_status = good;
    bad_status.state[168] = 9;
    let forged_pre = vm_core::hash_state(&bad_status.state);
    assert_eq!(verify_step(&forged_pre, &bad_status), Err(WitnessError::InvalidState));
}

#[test]
fn memory_roots_are_incremental_and_proofs_verify() {
    let empty = empty_hashes();
    let mut memory = Memory::new();
    assert_eq!(memory.root(), empty[DEPTH], "an empty memory is the empty subtree of depth 19");
    memory.write_bytes(0x1234, &[1, 2, 3]);
    memory.write_value(0xC0_0000, 4, 0xdead_beef);
    let incremental = memory.root();
    let mut rebuilt = Memory::new();
    rebuilt.write_bytes(0x1234, &[1, 2, 3]);
    rebuilt.write_value(0xC0_0000, 4, 0xdead_beef);
    assert_eq!(rebuilt.root(), incremental);
    let index = 0xC0_0000 / 32;
    let proof = memory.proof(index);
    assert_eq!(root_from_path(index, &vm_core::merkle::leaf_hash(&memory.leaf(index)), &proof), incremental);
    assert_ne!(incremental, empty[DEPTH]);
}
