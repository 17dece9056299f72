//! Replay speed of the machine on the host: the sha256 guest over 1 MiB of input, run without
//! hashing, then the state hash at the end (building the memory tree once).
use std::time::Instant;
use vm_core::Machine;

fn main() {
    let path = format!("{}/../../target/guests/sha256.bin", env!("CARGO_MANIFEST_DIR"));
    let code = std::fs::read(&path).expect("run `bash scripts/build-guests`");
    let input: Vec<u8> = (0..1 << 20).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let mut machine = Machine::load(&code, &input).unwrap();
    let started = Instant::now();
    let steps = machine.run(u64::MAX);
    let run = started.elapsed();
    let started = Instant::now();
    let hash = machine.state_hash();
    let hashing = started.elapsed();
    println!("| steps | run s | MIPS | state hash (tree build) ms |");
    println!("|---|---|---|---|");
    println!("| {steps} | {:.3} | {:.1} | {:.0} |", run.as_secs_f64(), steps as f64 / run.as_secs_f64() / 1e6, hashing.as_secs_f64() * 1e3);
    let _ = hash;

    // A challenger's question: the state hash at an arbitrary step, from a cold start.
    for target in [1_000_000u64, 10_000_000] {
        let started = Instant::now();
        let mut machine = Machine::load(&code, &input).unwrap();
        machine.run(target);
        machine.state_hash();
        println!("\nstate hash at step {target} from a cold start: {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
    }
}
