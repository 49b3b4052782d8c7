//! Placeholder until the sifting bench lands.
fn main() {}
