//! Live progress of a scan on stderr. On a terminal: one line per run with
//! its current step under an overall bar (indicatif). Elsewhere (CI logs,
//! pipes): one plain line per step, so a long scan is never silent.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

pub struct ScanProgress {
    started: Instant,
    done: usize,
    total: usize,
    /// `None` when stderr is not a terminal.
    bars: Option<Bars>,
}

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    /// One spinner per run, created at the run's first step.
    runs: Vec<(String, ProgressBar)>,
}

impl ScanProgress {
    pub fn new() -> ScanProgress {
        let bars = std::io::stderr().is_terminal().then(|| {
            let multi = MultiProgress::new();
            let overall = multi.add(ProgressBar::new(0));
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} scanning: {pos}/{len} run(s) done, {elapsed} {wide_msg}",
            ) {
                overall.set_style(style);
            }
            overall.enable_steady_tick(Duration::from_millis(120));
            Bars {
                multi,
                overall,
                runs: Vec::new(),
            }
        });
        ScanProgress {
            started: Instant::now(),
            done: 0,
            total: 0,
            bars,
        }
    }

    /// Clears the bars; the per-run summary lines follow.
    pub fn finish(&mut self) {
        if let Some(b) = &self.bars {
            for (_, pb) in &b.runs {
                pb.finish_and_clear();
            }
            b.overall.finish_and_clear();
        }
    }

    fn secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

impl leakscope_scan::Progress for ScanProgress {
    fn start(&mut self, runs: usize) {
        self.total = runs;
        match &self.bars {
            Some(b) => b.overall.set_length(runs as u64),
            None => eprintln!("leakscope: scanning: {runs} run(s) (site × consent state)"),
        }
    }

    fn step(&mut self, run: &str, what: &str) {
        let secs = self.secs();
        let Some(b) = &mut self.bars else {
            eprintln!("leakscope: [{secs:5.1}s] {run}: {what}");
            return;
        };
        let pb = match b.runs.iter().find(|(name, _)| name == run) {
            Some((_, pb)) => pb.clone(),
            None => {
                let pb = b.multi.add(ProgressBar::new_spinner());
                if let Ok(style) = ProgressStyle::with_template("  {spinner} {prefix}: {wide_msg}")
                {
                    pb.set_style(style);
                }
                pb.set_prefix(run.to_owned());
                pb.enable_steady_tick(Duration::from_millis(120));
                b.runs.push((run.to_owned(), pb.clone()));
                pb
            }
        };
        pb.set_message(what.to_owned());
    }

    fn run_done(&mut self, run: &str) {
        self.done += 1;
        let (done, total, secs) = (self.done, self.total, self.secs());
        match &self.bars {
            Some(b) => {
                if let Some((_, pb)) = b.runs.iter().find(|(name, _)| name == run) {
                    pb.finish_with_message(format!("done ({secs:.0} s)"));
                }
                b.overall.inc(1);
            }
            None => eprintln!("leakscope: [{secs:5.1}s] {run}: done ({done}/{total} runs)"),
        }
    }
}
