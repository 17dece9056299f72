//! The replay (snapshots every C steps, seeks both ways by undo and redo logs) answers every
//! question exactly as a fresh machine run to the same step does: the state blob, its hash and
//! the one-step witness, for the example guests and a program that stops with a fault, for small
//! intervals, over random sequences of forward and backward seeks (across several intervals, at
//! multiples of C, at 0, at the stop and past it). And its tree is updated, never rebuilt.
mod asm;
use asm::*;
use vm_core::layout::HEAP_START;
use vm_core::{hash_state, Machine, Replay, Status, STATE_BYTES};

fn guest(name: &str) -> Vec<u8> {
    let path = format!("{}/../../target/guests/{name}.bin", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}; run `bash scripts/build-guests`"))
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// Writes a word every 36 bytes for 500 iterations (a new leaf almost every store: large logs),
/// then stops on `ebreak` (a fault status, not a halt) at step 2,004 = 2 × 1,002.
fn striding_program() -> Vec<u8> {
    image(&[
        lui(1, HEAP_START),
        addi(2, 0, 0),
        addi(3, 0, 500),
        sw(2, 1, 0),
        addi(1, 1, 36),
        addi(2, 2, 1),
        bne(2, 3, -12),
        EBREAK,
    ])
}

/// What a fresh machine says at `step`: the state blob and the encoded witness.
type Answer = ([u8; STATE_BYTES], Vec<u8>);

/// The reference answers at `steps`, from one machine loaded fresh and run forward (a run of
/// k steps then m more is a run of k + m: `Machine::run` is one step at a time).
fn reference(code: &[u8], input: &[u8], steps: &[u64]) -> std::collections::BTreeMap<u64, Answer> {
    let mut sorted = steps.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut machine = Machine::load(code, input).unwrap();
    let mut answers = std::collections::BTreeMap::new();
    for step in sorted {
        machine.run(step - machine.core.steps.min(step));
        answers.insert(step, (machine.state_blob(), machine.witness().encode()));
    }
    answers
}

/// The steps a run takes to stop (it must stop within `limit`).
fn stop_step(code: &[u8], input: &[u8], limit: u64) -> (u64, Status) {
    let mut machine = Machine::load(code, input).unwrap();
    machine.run(limit);
    assert_ne!(machine.core.status, Status::Running, "the program stops within {limit} steps");
    (machine.core.steps, machine.core.status)
}

/// Questions for a run stopping at `end`, with a snapshot every `interval` steps: random steps
/// (before and past the stop), multiples of C and their neighbours, 0, the stop and past it, and
/// a dissection-like narrowing; shuffled, except that the first one is mid-run (the stop is not
/// known yet) and a few come in a row backward.
fn questions(end: u64, interval: u64, rng: &mut Rng) -> Vec<u64> {
    let mut steps = vec![0, end, end + 1, end + interval + 3, u64::MAX, end.saturating_sub(1)];
    let intervals = end / interval;
    for _ in 0..6 {
        let multiple = rng.below(intervals + 1) * interval;
        steps.extend([multiple, multiple + 1, multiple.saturating_sub(1)]);
    }
    steps.extend([interval, 2 * interval, interval - 1]);
    for _ in 0..40 {
        steps.push(rng.below(end + end / 8 + 2));
    }
    for i in (1..steps.len()).rev() {
        steps.swap(i, rng.below(i as u64 + 1) as usize);
    }
    steps.insert(0, end / 2 + 1);
    // A game's pattern: narrowing on a random step, from the right end down.
    let (mut lo, mut hi) = (0u64, end);
    while hi - lo > 1 {
        let width = ((hi - lo) / 16).max(1);
        let points: Vec<u64> = (1..16).map(|j| lo + j * width).filter(|&p| p < hi).collect();
        steps.extend(points.iter().rev());
        let pick = rng.below(points.len() as u64 + 1) as usize;
        lo = if pick == 0 { lo } else { points[pick - 1] };
        hi = points.get(pick).copied().unwrap_or(hi);
    }
    steps
}

/// Asks a fresh replay every question and compares each answer with the reference.
fn check(name: &str, code: &[u8], input: &[u8], interval: u64, seed: u64) {
    let (end, status) = stop_step(code, input, 50_000_000);
    let mut rng = Rng(seed);
    let asked = questions(end, interval, &mut rng);
    let clamped: Vec<u64> = asked.iter().map(|&s| s.min(end)).collect();
    let answers = reference(code, input, &clamped);
    let mut replay = Replay::new(code, input, interval).unwrap();
    for (i, (&step, clamped)) in asked.iter().zip(&clamped).enumerate() {
        let (blob, witness) = &answers[clamped];
        let context = format!("{name}, C = {interval}, question {i}: step {step} (stop at {end})");
        // Alternate which answer is asked first: each one seeks on its own.
        match i % 3 {
            0 => {
                assert_eq!(&replay.state_blob_at(step), blob, "{context}: state");
                assert_eq!(&replay.witness_at(step).encode(), witness, "{context}: witness");
            }
            1 => {
                assert_eq!(&replay.witness_at(step).encode(), witness, "{context}: witness");
                assert_eq!(replay.hash_at(step), hash_state(blob), "{context}: hash");
            }
            _ => assert_eq!(replay.hash_at(step), hash_state(blob), "{context}: hash"),
        }
        assert_eq!(replay.steps(), *clamped, "{context}: a step past the stop answers the stop");
    }
    // The run to the end: the stop, its output, and the snapshots it took.
    assert_eq!(replay.run_to_end(u64::MAX), end);
    assert_eq!(replay.status(), status);
    let mut plain = Machine::load(code, input).unwrap();
    plain.run(u64::MAX);
    assert_eq!(replay.output(), plain.output(), "{name}: output");
    assert_eq!(replay.exit_code(), plain.core.exit_code);
    assert_eq!(replay.state_blob(), answers[&end].0);
    let stats = replay.stats();
    let expected = end / interval + 1 + u64::from(end % interval != 0);
    assert_eq!(stats.snapshots, expected, "{name}, C = {interval}: snapshots at multiples of C and at the stop");
    assert_eq!(stats.tree.builds, 1, "{name}, C = {interval}: the tree is built once");
    // Two fresh machines run to a step each, from nothing (not from the reference's run).
    for &step in asked.iter().take(2) {
        let mut fresh = Machine::load(code, input).unwrap();
        fresh.run(step);
        assert_eq!(replay.hash_at(step), fresh.state_hash(), "{name}, C = {interval}: step {step} from a fresh load");
        assert_eq!(replay.witness_at(step), fresh.witness());
    }
}

#[test]
fn arith_answers_like_a_fresh_machine() {
    let input = bytes(8, 1);
    for (interval, seed) in [(1, 11), (7, 12), (64, 13), (1_000, 14)] {
        check("arith", &guest("arith"), &input, interval, seed);
    }
}

#[test]
fn sha256_answers_like_a_fresh_machine() {
    let input = bytes(300, 2);
    for (interval, seed) in [(7, 21), (64, 22), (1_000, 23)] {
        check("sha256", &guest("sha256"), &input, interval, seed);
    }
}

#[test]
fn montecarlo_and_matmul_answer_like_a_fresh_machine() {
    let montecarlo = [5u32.to_le_bytes(), 300u32.to_le_bytes()].concat();
    let mut matmul = 5u32.to_le_bytes().to_vec();
    matmul.extend(bytes(4 * 50, 3).chunks(4).flat_map(|c| (i32::from_le_bytes(c.try_into().unwrap()) >> 8).to_le_bytes()));
    for (interval, seed) in [(7, 31), (64, 32), (1_000, 33)] {
        check("montecarlo", &guest("montecarlo"), &montecarlo, interval, seed);
        check("matmul", &guest("matmul"), &matmul, interval, seed + 100);
    }
}

#[test]
fn a_fault_at_a_multiple_of_c_and_large_logs_answer_like_a_fresh_machine() {
    let code = striding_program();
    assert_eq!(stop_step(&code, &[], 10_000), (2_004, Status::Breakpoint));
    // The stop falls exactly on a snapshot (1,002 and 2,004 = 2 × 1,002), inside one, or closes one.
    for (interval, seed) in [(1_002, 41), (2_004, 42), (2_003, 43), (7, 44), (64, 45)] {
        check("striding", &code, &[], interval, seed);
    }
}

#[test]
fn seeks_update_the_tree_without_rebuilding_it() {
    // 1 MiB of input: the first build hashes some 33,000 leaves; questions within the first 600,000
    // steps (the run does not end there) must each rehash only the few leaves that changed.
    let code = guest("sha256");
    let input = bytes(1 << 20, 5);
    let interval = 4_096;
    let mut replay = Replay::new(&code, &input, interval).unwrap();
    replay.hash_at(600_000);
    let built = replay.stats().tree;
    assert_eq!(built.builds, 1);
    assert!(built.leaf_hashes > 32_768, "the build hashes every leaf holding input: {built:?}");
    let mut rng = Rng(7);
    let mut reference = Machine::load(&code, &input).unwrap();
    let mut asked: Vec<u64> = (0..30).map(|_| rng.below(600_000)).collect();
    asked.extend([0, 599_999, 4_096, 12 * 4_096]);
    for (i, &step) in asked.iter().enumerate() {
        let before = replay.stats();
        let hash = replay.hash_at(step);
        let after = replay.stats();
        let leaves = after.tree.leaf_hashes - before.tree.leaf_hashes;
        let nodes = after.tree.node_hashes - before.tree.node_hashes;
        // Each changed leaf is one the open journal undid, a log swapped or the rerun wrote.
        let bound = before.journal_leaves + after.journal_leaves;
        assert_eq!(after.tree.builds, 1, "question {i}: no rebuild");
        assert!(leaves <= bound, "question {i} (step {step}): {leaves} leaves rehashed, at most {bound} changed");
        assert!(leaves < 1_000 && nodes <= 19 * leaves, "question {i} (step {step}): {leaves} leaves, {nodes} nodes rehashed");
        if i % 10 == 0 {
            let mut fresh = Machine::load(&code, &input).unwrap();
            fresh.run(step);
            assert_eq!(hash, fresh.state_hash(), "question {i}: step {step}");
        } else if step >= reference.core.steps {
            reference.run(step - reference.core.steps);
            assert_eq!(hash, reference.state_hash(), "question {i}: step {step}");
        }
    }
    // The snapshots hold the logs of 146 intervals: small next to the 16 MiB of memory.
    let stats = replay.stats();
    assert_eq!(stats.snapshots, 600_000 / interval + 1);
    assert!(stats.bytes < 1 << 20, "{stats:?}");
}
