//! Replay speed of the machine on the host (`cargo run --release --example mips`), as markdown
//! tables: the sha256 guest over 1 MiB of input run without hashing (30 M steps), by a plain
//! machine and by the replay (snapshots and undo journal on), then the state hash at random steps of a 10 M-step
//! run (the guest over 128 KiB), from a cold start and from a replay already run to the end.
use std::time::Instant;
use vm_core::{Machine, Replay};

/// Steps between snapshots compared (2^16, 2^18 = the default, 2^20).
const INTERVALS: [u64; 3] = [1 << 16, 1 << 18, 1 << 20];
/// Questions asked of each replay, and of cold starts (each of which replays from step 0).
const QUESTIONS: usize = 50;
const COLD_QUESTIONS: usize = 10;
/// Timed runs of each kind, interleaved; the fastest is shown.
const ROUNDS: usize = 5;
/// Steps of each timed run (of the 82.5 M the guest takes over 1 MiB).
const RUN_STEPS: u64 = 30_000_000;

fn input(len: usize) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect()
}

fn ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1e3
}

/// Median, 90th percentile and maximum.
fn spread(mut times: Vec<f64>) -> (f64, f64, f64) {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((q * times.len() as f64).ceil() as usize).clamp(1, times.len()) - 1];
    (at(0.5), at(0.9), at(1.0))
}

/// `count` distinct-looking steps in [0, end], in random order (xorshift, fixed seed).
fn random_steps(count: usize, end: u64, mut seed: u64) -> Vec<u64> {
    (0..count)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % (end + 1)
        })
        .collect()
}

fn log2(interval: u64) -> u32 {
    interval.trailing_zeros()
}

fn main() {
    let path = format!("{}/../../target/guests/sha256.bin", env!("CARGO_MANIFEST_DIR"));
    let code = std::fs::read(&path).expect("run `bash scripts/build-guests`");

    // Running without hashing: what journaling every first write to a leaf costs. Each run is
    // timed ROUNDS times, interleaved, and the fastest kept (a shared machine's noise is ±10%).
    // The state hash after it builds the tree over the 1 MiB of input.
    let long = input(1 << 20);
    let mut best = [f64::MAX; 1 + INTERVALS.len()];
    let mut rows = Vec::new();
    for round in 0..ROUNDS {
        let mut machine = Machine::load(&code, &long).unwrap();
        let started = Instant::now();
        let steps = machine.run(RUN_STEPS);
        best[0] = best[0].min(started.elapsed().as_secs_f64());
        let started = Instant::now();
        machine.state_hash();
        let build = ms(started);
        drop(machine);
        if round == 0 {
            rows.push((steps, None, build));
        }
        for (i, interval) in INTERVALS.into_iter().enumerate() {
            let mut replay = Replay::new(&code, &long, interval).unwrap();
            let started = Instant::now();
            let steps = replay.run_to_end(RUN_STEPS);
            best[i + 1] = best[i + 1].min(started.elapsed().as_secs_f64());
            let started = Instant::now();
            replay.hash_at(steps);
            let build = ms(started);
            if round == 0 {
                rows.push((steps, Some(replay.stats()), build));
            }
        }
    }
    println!("| run without hashing (sha256 of 1 MiB, first {RUN_STEPS} steps) | steps | run s | MIPS | snapshots | held KiB | state hash after (tree build) ms |");
    println!("|---|---|---|---|---|---|---|");
    for (i, (steps, stats, build)) in rows.into_iter().enumerate() {
        let run = best[i];
        let mips = steps as f64 / run / 1e6;
        match stats {
            None => println!("| plain machine | {steps} | {run:.3} | {mips:.1} | – | – | {build:.0} |"),
            Some(stats) => println!(
                "| replay, C = 2^{} | {steps} | {run:.3} | {mips:.1} | {} | {:.0} | {build:.0} |",
                log2(stats.interval),
                stats.snapshots,
                stats.bytes as f64 / 1024.0
            ),
        }
    }

    // A challenger's question: the state hash at an arbitrary step of a 10 M-step run.
    let short = input(128 << 10);
    let end = {
        let mut machine = Machine::load(&code, &short).unwrap();
        machine.run(u64::MAX)
    };
    println!("\n| state hash at a random step of a {end}-step run (sha256 of 128 KiB) | questions | median ms | p90 ms | max ms | snapshots | held KiB |");
    println!("|---|---|---|---|---|---|---|");
    let cold: Vec<f64> = random_steps(COLD_QUESTIONS, end, 3)
        .into_iter()
        .map(|step| {
            let started = Instant::now();
            let mut machine = Machine::load(&code, &short).unwrap();
            machine.run(step);
            machine.state_hash();
            ms(started)
        })
        .collect();
    let (median, p90, max) = spread(cold);
    println!("| cold start (load, run, hash) | {COLD_QUESTIONS} | {median:.1} | {p90:.1} | {max:.1} | – | – |");
    for interval in INTERVALS {
        let mut replay = Replay::new(&code, &short, interval).unwrap();
        let started = Instant::now();
        let steps = replay.run_to_end(u64::MAX);
        replay.hash_at(steps);
        let setup = ms(started);
        let times: Vec<f64> = random_steps(QUESTIONS, end, 11)
            .into_iter()
            .map(|step| {
                let started = Instant::now();
                replay.hash_at(step);
                ms(started)
            })
            .collect();
        let (median, p90, max) = spread(times);
        let stats = replay.stats();
        println!(
            "| replay, C = 2^{}, after one run to the end ({setup:.0} ms with its hash) | {QUESTIONS} | {median:.2} | {p90:.2} | {max:.2} | {} | {:.0} |",
            log2(interval),
            stats.snapshots,
            stats.bytes as f64 / 1024.0
        );
    }
}
