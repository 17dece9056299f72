//! Commitments and the dissection game, played off-chain between full machines: the initial
//! state from the code and input roots, the output root's path into the final memory, and games
//! where a provider corrupted one step (the challenger always wins) or was honest (the challenger
//! always loses), each ending in a one-step proof.
mod asm;
use asm::*;
use vm_core::commit::{initial_state_hash, input_image, output_in_memory, quarter_root};
use vm_core::dissection::{choose, split_points, SEGMENTS};
use vm_core::layout::{HEAP_START, INPUT_START, OUTPUT_START, QUARTER_BYTES};
use vm_core::merkle::{node_hash, Hash};
use vm_core::{verify_step, Machine, Status};

/// Sums i into a table of 64 words for i in 0..300 (loads, stores, branches), copies the table's
/// first word to the output, halts with the sum's low bits.
fn program() -> Vec<u8> {
    image(&[
        lui(1, HEAP_START),    // x1 = table
        addi(2, 0, 0),         // x2 = i
        addi(3, 0, 300),       // x3 = limit
        andi_64(4, 2),         // x4 = (i & 63)
        slli2(4, 4),           // x4 *= 4
        add(4, 4, 1),          // x4 = &table[i & 63]
        lw(5, 4, 0),
        add(5, 5, 2),
        sw(5, 4, 0),
        addi(2, 2, 1),
        bne(2, 3, -28),        // back to andi
        lw(6, 1, 0),
        lui(7, OUTPUT_START),
        addi(8, 0, 4),
        sw(8, 7, 0),           // output length 4
        sw(6, 7, 4),           // output = table[0]
        addi(10, 6, 0),
        ECALL,
    ])
}
fn andi_64(rd: u32, rs1: u32) -> u32 { i(63, rs1, 7, rd, 0x13) }
fn slli2(rd: u32, rs1: u32) -> u32 { i(2, rs1, 1, rd, 0x13) }

/// The state hash after every step of a run, moving the table pointer x1 by a word right after step `corrupt_at`.
fn trajectory(corrupt_at: Option<u64>) -> Vec<Hash> {
    let mut machine = Machine::load(&program(), &[]).unwrap();
    let mut hashes = vec![machine.state_hash()];
    while machine.core.status == Status::Running {
        machine.step();
        if Some(machine.core.steps - 1) == corrupt_at {
            machine.core.regs[1] ^= 4;
        }
        hashes.push(machine.state_hash());
    }
    hashes
}

/// Plays a game over [0, T]; returns whether the defender's claim survived and the rounds played.
fn play(defender: &[Hash], challenger: &[Hash]) -> (bool, u32) {
    let (mut lo, mut hi) = (0u64, defender.len() as u64 - 1);
    let mut rounds = 0;
    while hi - lo > 1 {
        let posted: Vec<Hash> = split_points(lo, hi).iter().map(|&p| defender[p as usize]).collect();
        rounds += 1;
        match choose(lo, hi, &posted, &defender[hi as usize], |p| challenger[p as usize]) {
            Some(next) => (lo, hi) = next,
            None => return (true, rounds),
        }
    }
    // The one-step proof at [lo, lo + 1], from the challenger's own machine at the agreed state.
    let mut machine = Machine::load(&program(), &[]).unwrap();
    machine.run(lo);
    assert_eq!(machine.state_hash(), defender[lo as usize], "both sides agree on the state at lo");
    let witness = machine.witness();
    let post = verify_step(&defender[lo as usize], &witness).expect("the witness is valid");
    (post == defender[hi as usize], rounds)
}

#[test]
fn the_initial_state_follows_from_the_code_and_input_roots() {
    let input = b"some consumer input".to_vec();
    let mut machine = Machine::load(&program(), &input).unwrap();
    let expected = initial_state_hash(&quarter_root(&program()).unwrap(), &quarter_root(&input_image(&input)).unwrap());
    assert_eq!(machine.state_hash(), expected);
    assert!(quarter_root(&vec![0u8; QUARTER_BYTES as usize + 1]).is_err());
}

#[test]
fn the_output_root_proves_into_the_final_memory() {
    let mut machine = Machine::load(&program(), &[]).unwrap();
    machine.run(1_000_000);
    assert_eq!(machine.core.status, Status::Halted);
    let quarter = |start: u32, memory: &vm_core::Memory| {
        let bytes = memory.bytes(start, QUARTER_BYTES as usize);
        let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        quarter_root(&bytes[..end]).unwrap()
    };
    let (code, input, output, heap) = (quarter(0, &machine.memory), quarter(INPUT_START, &machine.memory), quarter(OUTPUT_START, &machine.memory), quarter(HEAP_START, &machine.memory));
    let root = machine.memory.root();
    let low = node_hash(&code, &input);
    assert!(output_in_memory(&root, &output, &heap, &low));
    let mut wrong = output;
    wrong[0] ^= 1;
    assert!(!output_in_memory(&root, &wrong, &heap, &low), "a wrong output root is refused");
}

#[test]
fn a_provider_that_corrupted_any_step_loses() {
    let honest = trajectory(None);
    let total = honest.len() as u64 - 1;
    assert!(total > 1_000, "{total} steps");
    let rounds_bound = (total as f64).log(SEGMENTS as f64).ceil() as u32;
    for k in [0, 1, 15, 16, 17, total / 2, total - 2] {
        let cheater = trajectory(Some(k));
        assert_ne!(cheater.last(), honest.last(), "corrupting step {k} changes the result");
        let (defender_wins, rounds) = play(&cheater, &honest);
        assert!(!defender_wins, "the cheater corrupting step {k} must lose");
        assert!(rounds <= rounds_bound, "{rounds} rounds for {total} steps");
    }
}

#[test]
fn an_honest_provider_wins_against_any_choice() {
    let honest = trajectory(None);
    // A challenger that disputes everything (its own run is garbage) still loses at the one step.
    let liar: Vec<Hash> = honest.iter().map(|h| { let mut x = *h; x[0] ^= 0xff; x }).collect();
    let mut agreeing_start = liar.clone();
    agreeing_start[0] = honest[0];
    let (defender_wins, _) = play(&honest, &agreeing_start);
    assert!(defender_wins);
}
