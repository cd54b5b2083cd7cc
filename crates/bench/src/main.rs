fn main() {
    let start = std::time::Instant::now();
    let min_ms = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3000.0);
    println!(
        "{}",
        linetwin_bench::run(min_ms, || start.elapsed().as_secs_f64() * 1000.0, "native")
    );
}
