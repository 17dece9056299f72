//! Prints the program's Anchor-format IDL, generated from its declarations.

fn main() {
    let idl = compute_market::idl::build();
    println!("{}", serde_json::to_string_pretty(&idl).expect("IDL serialises"));
}
