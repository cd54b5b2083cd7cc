//! `linetwin-server`: the command line around [`linetwin_server::serve`].

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

mod accounts_cli;
use linetwin_server::{Config, SimulatorConfig};
use tracing_subscriber::EnvFilter;

/// Serves the linetwin viewer, the line description and the live data stream.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Manage people and device tokens instead of serving.
    #[command(subcommand)]
    accounts: Option<accounts_cli::AccountCommand>,
    /// Address to listen on (0.0.0.0 to be reachable from other machines).
    #[arg(long, env = "LINETWIN_BIND", default_value = "127.0.0.1")]
    bind: String,
    /// TCP port; 0 picks a free one (the URL is printed on stdout).
    #[arg(long, env = "LINETWIN_PORT", default_value_t = 8080)]
    port: u16,
    /// Line description (JSON, see docs/line-format.md).
    #[arg(long, env = "LINETWIN_LINE", default_value = "assets/lines/demo.json")]
    line: PathBuf,
    /// Folder of the built viewer.
    #[arg(long, env = "LINETWIN_WEB_ROOT", default_value = "target/dist")]
    web_root: PathBuf,
    /// Seed of the built-in simulator: same seed, same signals.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Simulated seconds per wall-clock second.
    #[arg(long, default_value = "1.0", value_parser = positive_number, allow_negative_numbers = true)]
    speedup: f64,
    /// Wall-clock seconds between two rounds of waveform blocks.
    #[arg(long, default_value = "2.0", value_parser = positive_duration, allow_negative_numbers = true)]
    block_interval: Duration,
    /// No built-in simulator: data only comes from producers on /ws/ingest.
    #[arg(long)]
    no_simulator: bool,
    /// Record every frame sent to viewers into MCAP files in this folder.
    #[arg(long, env = "LINETWIN_RECORD")]
    record: Option<PathBuf>,
    /// Start a new recording file past this size (MiB).
    #[arg(long, default_value = "256", value_parser = positive_number)]
    record_max_mb: f64,
    /// ... or past this many minutes.
    #[arg(long, default_value = "60", value_parser = positive_number)]
    record_max_minutes: f64,
    /// Tell a demo story: a scenario file, or the name of one in
    /// assets/scenarios/ (e.g. bearing-found-early).
    #[arg(long, conflicts_with = "no_simulator")]
    scenario: Option<PathBuf>,
    /// Serve this recording (an MCAP file from --record) as if live,
    /// instead of the simulator; it starts when the first viewer connects.
    #[arg(long, conflicts_with = "no_simulator")]
    replay: Option<PathBuf>,
    /// With --replay: recorded seconds per played second.
    #[arg(long, default_value = "1.0", value_parser = positive_number, requires = "replay")]
    replay_speedup: f64,
    /// With --replay: start at this data time (seconds on the recording's clock).
    #[arg(
        long,
        default_value = "0",
        requires = "replay",
        allow_negative_numbers = true
    )]
    from: f64,
    /// Gateway config file (TOML): the plant's MQTT broker and how its
    /// topics map onto the line's sensors (see docs/mqtt.md).
    #[arg(long, env = "LINETWIN_CONFIG")]
    config: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (and --tls-key).
    #[arg(long, env = "LINETWIN_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's PEM private key.
    #[arg(long, env = "LINETWIN_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Recording files kept; older ones are deleted.
    #[arg(long, default_value_t = 48, value_parser = clap::value_parser!(u32).range(1..))]
    record_keep: u32,
}

fn positive_number(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
        Ok(_) => Err("must be a positive, finite number".into()),
        Err(err) => Err(err.to_string()),
    }
}

fn positive_duration(text: &str) -> Result<Duration, String> {
    let seconds = positive_number(text)?;
    Duration::try_from_secs_f64(seconds).map_err(|err| err.to_string())
}

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    init_logging();
    if let Some(command) = cli.accounts.take() {
        return match accounts_cli::run(command, cli.config.as_deref(), &cli.line) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => fail(&err),
        };
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            return fail(&anyhow::Error::new(err).context("cannot start the async runtime"));
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
}

fn fail(err: &anyhow::Error) -> ExitCode {
    eprintln!("linetwin-server: error: {err:#}");
    ExitCode::FAILURE
}

/// Logs go to stderr, so stdout carries only the "listening" line.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only help a person at a terminal, not a log file.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let (line, replay) = match &cli.replay {
        Some(path) => {
            let (line, replay) = open_replay(path, &cli)?;
            (line, Some(replay))
        }
        None => (linetwin_server::load_line(&cli.line)?, None),
    };
    let mut line = line;
    let scenario = match &cli.scenario {
        Some(name) => Some(linetwin_server::load_scenario(name, &mut line)?),
        None => None,
    };
    let gateway = match &cli.config {
        Some(path) => linetwin_server::mqtt::config::GatewayConfig::load(path, &line)?,
        None => linetwin_server::mqtt::config::GatewayConfig::default(),
    };
    let simulator = (!cli.no_simulator && replay.is_none())
        .then(|| SimulatorConfig::new(cli.seed, cli.speedup, cli.block_interval));
    let record = cli.record.map(|dir| linetwin_recorder::RecorderConfig {
        max_file_bytes: (cli.record_max_mb * 1024.0 * 1024.0) as u64,
        max_file_s: cli.record_max_minutes * 60.0,
        keep_files: cli.record_keep as usize,
        ..linetwin_recorder::RecorderConfig::new(dir)
    });
    let config = Config {
        line,
        web_root: cli.web_root,
        simulator,
        record,
        replay,
        scenario,
        mqtt: gateway.mqtt,
        state: gateway.state,
        work_orders: gateway.work_orders,
        auth: gateway.auth,
        tls: cli
            .tls_cert
            .zip(cli.tls_key)
            .map(|(cert, key)| linetwin_server::https::ServerTls { cert, key }),
    };
    let https = config.tls.is_some();
    let listener = linetwin_server::bind(&cli.bind, cli.port).await?;
    let addr = listener
        .local_addr()
        .context("cannot read the bound address")?;
    announce(&linetwin_server::listening_line(addr, https))?;
    linetwin_server::serve(listener, config, shutdown_signal()).await
}

/// Reads a recording and the line it was recorded with (or `--line`'s
/// when it carries none). A file cut short is played up to its last chunk.
fn open_replay(
    path: &std::path::Path,
    cli: &Cli,
) -> anyhow::Result<(linetwin_core::line::Line, linetwin_server::ReplayConfig)> {
    let recording = linetwin_recorder::read_recording(path)?;
    if let Some(reason) = &recording.truncated {
        tracing::warn!("{reason}");
    }
    let source = path.display().to_string();
    let line = match &recording.line_json {
        Some(json) => linetwin_core::line::Line::from_json(&format!("{source} (its line)"), json)?,
        None => linetwin_server::load_line(&cli.line)?,
    };
    let replay =
        linetwin_server::ReplayConfig::new(&source, recording, cli.replay_speedup, cli.from);
    Ok((line, replay))
}

/// Prints the URL line and flushes: a reader of a pipe must see it now.
fn announce(line: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .context("cannot write to stdout")
}

/// Completes on Ctrl-C or SIGTERM (what systemd and `docker stop` send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot watch Ctrl-C: {err}");
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = terminate() => {}
    }
}

#[cfg(unix)]
async fn terminate() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut sigterm) => {
            sigterm.recv().await;
        }
        Err(err) => {
            tracing::warn!("cannot watch SIGTERM: {err}");
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending::<()>().await;
}
