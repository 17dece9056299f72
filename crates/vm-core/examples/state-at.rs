//! Prints the state hash (hex) of a guest after N steps on an input of pseudo-random bytes
//! (xorshift32 from a seed), for cross-checking other builds of the machine.
use vm_core::Machine;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, guest, seed, len, steps] = args.as_slice() else {
        eprintln!("usage: state-at <guest.bin> <seed> <input length> <steps>");
        std::process::exit(2);
    };
    let mut state: u32 = seed.parse().expect("seed");
    let input: Vec<u8> = (0..len.parse::<usize>().expect("length"))
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    let mut machine = Machine::load(&std::fs::read(guest).expect("guest"), &input).expect("fits");
    machine.run(steps.parse().expect("steps"));
    let hash = machine.state_hash();
    println!("{}", hash.iter().map(|b| format!("{b:02x}")).collect::<String>());
}
