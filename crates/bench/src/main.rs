fn main() {
    let start = std::time::Instant::now();
    let mut args = std::env::args().skip(1);
    let min_ms = args.next().and_then(|a| a.parse().ok()).unwrap_or(3000.0);
    let clock = || start.elapsed().as_secs_f64() * 1000.0;
    match args.next().as_deref() {
        Some("twin") => {
            let mut report = linetwin_bench::twin::ingest_rate(min_ms, clock);
            report["history_after_one_day"] = linetwin_bench::twin::history_after(1.0);
            report["history_after_one_week"] = linetwin_bench::twin::history_after(7.0);
            println!("{report}");
        }
        Some("montecarlo") => {
            println!(
                "{}",
                linetwin_bench::montecarlo::paths_per_second(min_ms, clock)
            );
        }
        _ => println!("{}", linetwin_bench::run(min_ms, clock, "native")),
    }
}
