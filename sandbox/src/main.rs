//! `mozci-sandbox`: the local Mozilla CI (being built in issue 7).
fn main() {}
