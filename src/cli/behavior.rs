//! `analyze behavior`: behavioural summaries of a simulation folder and the wait-time figure.

use std::path::PathBuf;

use clap::Args;

use crate::behavior::records::SimulationDir;
use crate::behavior::{analyze_behavior, BehaviorOptions, CurvePoint, WaitSelection};
use crate::plot::{draw_wait_time, Block as PlotBlock, PlotOptions, WaitTimeCurve, WaitTimeData};
use crate::behavior::records::behavior_trials;

/// Arguments of `analyze behavior`.
#[derive(Debug, Args)]
pub struct BehaviorArgs {
    /// Simulation folder written by `analyze simulate`.
    pub sim_dir: PathBuf,

    /// Use only catch trials that ended by opt-out, as the study's MATLAB analyses did. By
    /// default every catch trial counts, timeouts at 30.1 s included, as its Python analyses did.
    #[arg(long)]
    pub opt_outs_only: bool,

    /// Offer at which high and low blocks are compared, µL.
    #[arg(long, default_value_t = 20.0)]
    pub offer: f64,

    /// Seed of the ridge-penalty search of the regressions.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Output folder for behavior.json, wait_times.csv and wait_time.svg (default: SIM_DIR).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `analyze behavior`.
pub fn run(args: &BehaviorArgs, quiet: bool) -> anyhow::Result<()> {
    if !(args.offer.is_finite() && args.offer > 0.0) {
        anyhow::bail!("invalid --offer {}: expected a positive volume in µL", args.offer);
    }
    let sim = SimulationDir::read(&args.sim_dir)?;
    let out = args.out.clone().unwrap_or_else(|| args.sim_dir.clone());
    super::common::create_out_dir(&out)?;

    let trials = behavior_trials(&sim.trials);
    let selection = if args.opt_outs_only { WaitSelection::CatchOptOuts } else { WaitSelection::CatchTrials };
    let options = BehaviorOptions { selection, reference_offer_ul: args.offer, seed: args.seed };
    let report = analyze_behavior(&trials, &options)?;

    // Tables and figure.
    let mut csv = String::from("block,offer_ul,n,mean_wait_s,sem_wait_s\n");
    let blocks: [(&str, &Vec<CurvePoint>, Option<PlotBlock>); 4] = [
        ("all", &report.curves.all, None),
        ("mixed", &report.curves.mixed, Some(PlotBlock::Mixed)),
        ("high", &report.curves.high, Some(PlotBlock::High)),
        ("low", &report.curves.low, Some(PlotBlock::Low)),
    ];
    let mut curves = Vec::new();
    for (name, points, block) in blocks {
        for p in points.iter() {
            let sem = p.sem_s.map_or(String::new(), |s| format!("{s:.6}"));
            csv.push_str(&format!("{name},{},{},{:.6},{sem}\n", p.offer_ul, p.n, p.mean_s));
        }
        if let Some(block) = block {
            if !points.is_empty() {
                curves.push(WaitTimeCurve {
                    block,
                    offers_ul: points.iter().map(|p| p.offer_ul).collect(),
                    mean_s: points.iter().map(|p| p.mean_s).collect(),
                    sem_s: points.iter().map(|p| p.sem_s.unwrap_or(f64::NAN)).collect(),
                });
            }
        }
    }
    crate::io::write_json_atomic(&out.join("behavior.json"), &report)?;
    crate::io::write_atomic(&out.join("wait_times.csv"), csv.as_bytes())?;
    let title = format!("Wait time on {} by block", if args.opt_outs_only { "opted-out catch trials" } else { "catch trials" });
    draw_wait_time(&out.join("wait_time.svg"), &WaitTimeData { curves }, &PlotOptions::default().with_title(title))?;

    if !quiet {
        println!("{} trials from {}", report.n_trials, args.sim_dir.display());
        match &report.offer_sensitivity {
            Some(o) => println!("offer sensitivity: {:+.3} s per log2 µL (p = {:.2e}, n = {})", o.slope, o.p_value, o.n),
            None => println!("offer sensitivity: undefined (too few catch trials)"),
        }
        match &report.block_sensitivity {
            Some(b) => println!(
                "block sensitivity at {} µL: WT_high/WT_low = {:.3} ({:.2} s / {:.2} s; one-sided rank-sum p = {:.3})",
                b.offer_ul, b.ratio, b.mean_high_s, b.mean_low_s, b.p_high_less
            ),
            None => println!("block sensitivity: undefined (no catch trials at {} µL in high or low blocks)", args.offer),
        }
        let fmt = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.3}"));
        println!(
            "opt-out rate {}  rewarded {}  timeout {}  reward rate {} reward units per s",
            fmt(report.rates.opted_out),
            fmt(report.rates.rewarded),
            fmt(report.rates.timeout),
            fmt(report.rates.reward_rate_per_s)
        );
        println!("criterion (slope p < 0.01 and WT_high/WT_low < 1 with p < 0.05): {}", if report.criterion.met { "met" } else { "not met" });
        println!("wrote behavior.json, wait_times.csv, wait_time.svg in {}", out.display());
    }
    Ok(())
}
