#[cfg(target_arch = "wasm32")]
fn main() {
    linetwin::run();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "The linetwin viewer runs in the browser. Start it with `cargo xtask run` \
         and open the URL it prints."
    );
    std::process::exit(2);
}
