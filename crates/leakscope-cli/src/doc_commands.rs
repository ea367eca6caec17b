//! Every `leakscope …` command shown in the README and `docs/` must parse
//! with this CLI, so the docs cannot drift from it. Commands are taken from
//! fenced `sh`, `bash`, `console` and `shell` blocks; `cargo run … -- ARGS`
//! counts as `leakscope ARGS`. A command that needs a live service still has
//! to parse; running it is left to the tests of that service.

use std::path::{Path, PathBuf};

use clap::Parser as _;

use crate::Cli;

/// The Markdown files whose commands are checked.
fn doc_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = vec![root.join("README.md")];
    let mut dirs = vec![root.join("docs")];
    while let Some(d) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// `(line number, argv after "leakscope")` for every command in `md`.
fn commands(md: &str) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut in_shell = false;
    let mut in_fence = false;
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in md.lines().enumerate() {
        let line = raw.trim();
        if let Some(info) = line.strip_prefix("```") {
            in_fence = !in_fence;
            in_shell = in_fence && matches!(info.trim(), "sh" | "bash" | "console" | "shell");
            continue;
        }
        if !in_shell {
            continue;
        }
        let (n, text) = match pending.take() {
            Some((n, mut acc)) => {
                acc.push(' ');
                acc.push_str(line);
                (n, acc)
            }
            None => (i + 1, line.to_owned()),
        };
        if let Some(cont) = text.strip_suffix('\\') {
            pending = Some((n, cont.to_owned()));
            continue;
        }
        if let Some(argv) = leakscope_argv(&text) {
            out.push((n, argv));
        }
    }
    out
}

/// The arguments after `leakscope` in one shell line, or `None` when the
/// line runs something else. Comments, redirections, pipes and command
/// substitutions are cut or replaced the way a shell would see them.
fn leakscope_argv(line: &str) -> Option<Vec<String>> {
    let line = line.strip_prefix("$ ").unwrap_or(line);
    // A comment starts at a `#` that follows a space (not `--x=#y`).
    let line = match line.find(" #") {
        Some(i) => &line[..i],
        None => line,
    };
    // The leakscope part of `a && leakscope …` or `leakscope … | jq`.
    let part = line
        .split("&&")
        .find(|p| p.contains("leakscope ") || p.contains("leakscope-cli"))?;
    let part = part.split(['|', '>', '<']).next()?.trim();
    let part = replace_substitutions(part);
    let words = shlex::split(&part)?;
    let mut it = words
        .into_iter()
        .skip_while(|w| w.contains('=') && !w.starts_with('-'));
    let first = it.next()?;
    match first.as_str() {
        "leakscope" | "target/release/leakscope" | "./target/release/leakscope" => {
            Some(it.collect())
        }
        "cargo" => {
            let rest: Vec<String> = it.collect();
            let is_cli = rest.first().is_some_and(|w| w == "run")
                && rest
                    .windows(2)
                    .any(|w| w[0] == "-p" && w[1] == "leakscope-cli");
            if !is_cli {
                return None;
            }
            let dd = rest.iter().position(|w| w == "--")?;
            Some(rest[dd + 1..].to_vec())
        }
        _ => None,
    }
}

/// `$(cat sites.txt)` stands for a list of URLs.
fn replace_substitutions(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("$(") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after.find(')').map_or(after.len(), |e| e + 1);
        out.push_str("https://a.example/ https://b.example/");
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn every_documented_command_parses() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in doc_files() {
        let md = std::fs::read_to_string(&file).unwrap();
        for (line, argv) in commands(&md) {
            checked += 1;
            let mut full = vec!["leakscope".to_owned()];
            full.extend(argv.iter().cloned());
            if let Err(e) = Cli::try_parse_from(&full) {
                // `--help` and `--version` "fail" with a display error: fine.
                use clap::error::ErrorKind::*;
                if !matches!(e.kind(), DisplayHelp | DisplayVersion) {
                    failures.push(format!(
                        "{}:{line}: leakscope {}\n{}",
                        file.display(),
                        argv.join(" "),
                        e.render()
                    ));
                }
            }
        }
    }
    assert!(checked >= 30, "only {checked} commands found in the docs");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn shell_lines_are_read_as_a_shell_would() {
    let argv = |l: &str| leakscope_argv(l).map(|v| v.join(" "));
    assert_eq!(
        argv("leakscope analyze - < urls.txt   # standard input").as_deref(),
        Some("analyze -")
    );
    assert_eq!(
        argv("scripts/setup.sh && cargo run --release -p leakscope-cli -- demo   # x").as_deref(),
        Some("demo")
    );
    assert_eq!(
        argv("LEAKSCOPE_LOG=leakscope_scan=debug leakscope scan URL").as_deref(),
        Some("scan URL")
    );
    assert_eq!(
        argv("leakscope scan --parallel 4 $(cat sites.txt)").as_deref(),
        Some("scan --parallel 4 https://a.example/ https://b.example/")
    );
    assert_eq!(argv("cargo bench -p leakscope-core --bench engine"), None);
    assert_eq!(
        argv("leakscope analyze --format sarif a.har > leaks.sarif").as_deref(),
        Some("analyze --format sarif a.har")
    );
}
