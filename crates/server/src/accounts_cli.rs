//! `linetwin-server user …` and `linetwin-server token …`: the people and
//! device tokens of the gateway's state database, from its host's shell
//! (the first admin can only be made here).

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, bail};
use clap::Subcommand;
use linetwin_server::auth::accounts;
use linetwin_server::auth::roles::Role;
use linetwin_server::store::Store;

/// Who the audit log says acted: the shell's user on this host.
fn cli_actor() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "?".into());
    format!("{user} (command line)")
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// People who sign in with a name and password.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Device tokens: kiosks (read-only screens) and producers (ingest only).
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add a person; the password is asked for (or read from stdin).
    Add {
        name: String,
        /// viewer, operator or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    List,
    /// Remove a person; their sessions end at once.
    Remove {
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token; its secret is printed this once.
    Add {
        name: String,
        /// kiosk or producer.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// A producer's assets, comma-separated (default: any).
        #[arg(long, value_delimiter = ',')]
        assets: Option<Vec<String>>,
    },
    List,
    /// Revoke a token; its connections close at once.
    Revoke {
        id: i64,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
        .map_err(|e: linetwin_server::auth::roles::UnknownRole| e.to_string())
}

pub fn run(command: AccountCommand, config: Option<&Path>, line: &Path) -> anyhow::Result<()> {
    let Some(config_path) = config else {
        bail!(
            "user and token commands need the gateway config: --config FILE (with [state] path = \"…\")"
        );
    };
    let line = linetwin_server::load_line(line)?;
    let config = linetwin_server::mqtt::config::GatewayConfig::load(config_path, &line)?;
    let Some(state) = config.state else {
        bail!(
            "{}: no [state] path: people and tokens are kept in the state database",
            config_path.display()
        );
    };
    let store = Store::open(&state.path)?;
    if config.auth.is_none() {
        eprintln!(
            "note: {} has no [auth] section: the gateway does not ask anyone to sign in until it has one",
            config_path.display()
        );
    }
    let by = cli_actor();
    match command {
        AccountCommand::User { action } => match action {
            UserAction::Add {
                name,
                role,
                password_stdin,
            } => {
                let password = read_password(password_stdin)?;
                let user = accounts::add_user(&store, &name, role, &password, &by)?;
                println!("added {} ({})", user.name, user.role);
            }
            UserAction::List => {
                for user in store.users()? {
                    println!("{}\t{}", user.name, user.role);
                }
            }
            UserAction::Remove { name } => {
                accounts::remove_user(&store, &name, &by)?;
                println!("removed {name}");
            }
        },
        AccountCommand::Token { action } => match action {
            TokenAction::Add { name, role, assets } => {
                let (token, secret) = accounts::add_token(&store, &line, &name, role, assets, &by)?;
                println!(
                    "token {} ({}, {}): {secret}",
                    token.id, token.name, token.role
                );
                if role == Role::Kiosk {
                    println!("open on the screen: http://<gateway>/kiosk#token={secret}");
                } else {
                    println!(
                        "send it as the header  Authorization: Bearer {secret}  on /ws/ingest"
                    );
                }
                eprintln!("the secret is not kept: copy it now");
            }
            TokenAction::List => {
                for token in store.tokens()? {
                    let state = if token.revoked_unix_s.is_some() {
                        "revoked"
                    } else {
                        "live"
                    };
                    let assets = token.assets.map_or("any".into(), |a| a.join(","));
                    println!(
                        "{}\t{}\t{}\t{state}\tassets: {assets}",
                        token.id, token.name, token.role
                    );
                }
            }
            TokenAction::Revoke { id } => {
                accounts::revoke_token(&store, id, &by)?;
                println!(
                    "revoked token {id} (a running gateway closes its connections within a minute)"
                );
            }
        },
    }
    Ok(())
}

/// From stdin's first line, or asked twice at a terminal without echo.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if from_stdin || !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let ask = |prompt: &str| -> anyhow::Result<String> {
        eprint!("{prompt}");
        std::io::stderr().flush().ok();
        let echo_off = std::process::Command::new("stty")
            .arg("-echo")
            .status()
            .is_ok_and(|s| s.success());
        let mut line = String::new();
        let read = stdin.lock().read_line(&mut line);
        if echo_off {
            let _ = std::process::Command::new("stty").arg("echo").status();
        }
        eprintln!();
        read.context("cannot read the password")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    };
    let first = ask("password: ")?;
    if ask("again: ")? != first {
        bail!("the two passwords differ");
    }
    Ok(first)
}
