//! Efficiency sweep of Cascade variants, one JSON line per (algorithm, QBER) point, through the same
//! `qkd_core::harness::sweep` as `qkd reconcile` (same frames for the same seed).
//!
//! ```text
//! cargo run --release -p qkd-cascade --example cascade_sweep -- \
//!     FRAMES SEED MODEL(exact|bernoulli) QBER[,QBER..] ALGO[,ALGO..]
//! ```
//!
//! Fields: `f` is the strict figure (ledger bits incl. the confirmation tag / (n h(true QBER)));
//! `f_parities` the same without the tag ("Cascade disclosures only"); `f_paper` the asked parities
//! against h(estimated QBER), the public implementations' figure; `*_se` standard errors.

use qkd_cascade::Cascade;
use qkd_core::harness::{ErrorModel, SweepConfig, sweep};
use qkd_core::{Qber, binary_entropy};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [frames, seed, model, qbers, algos] = args.as_slice() else {
        return Err("usage: cascade_sweep FRAMES SEED exact|bernoulli QBERS ALGOS".into());
    };
    let frames: usize = frames.parse()?;
    let seed: u64 = seed.parse()?;
    let error_model = match model.as_str() {
        "exact" => ErrorModel::Exact,
        "bernoulli" => ErrorModel::Bernoulli,
        other => return Err(format!("unknown error model {other:?}").into()),
    };
    let n = 10_000usize;
    for name in algos.split(',') {
        let algo = Cascade::from_name(name)?;
        let tag = if algo.config().confirmation {
            f64::from(algo.config().tag_bits)
        } else {
            0.0
        };
        for q in qbers.split(',') {
            let q: f64 = q.parse()?;
            let config = SweepConfig {
                qber: Qber::new(q)?,
                estimated_qber: None,
                block_bits: n,
                frames,
                seed,
                error_model,
            };
            let t0 = std::time::Instant::now();
            let s = sweep(&algo, &config, |_| {})?;
            #[allow(clippy::cast_precision_loss)]
            let share = tag / (n as f64 * binary_entropy(q));
            println!(
                "{{\"algorithm\":\"{name}\",\"qber\":{q},\"frames\":{frames},\"f\":{:.5},\"f_se\":{:.5},\
                 \"f_parities\":{:.5},\"f_paper\":{:.5},\"tag_bits\":{tag},\"eps_cor\":{:.3e},\
                 \"fer\":{:.3e},\"fer_ci95\":[{:.2e},{:.2e}],\"undetected\":{},\"messages\":{:.1},\
                 \"round_trips\":{:.1},\"ms_per_frame\":{:.3},\"wall_s\":{:.1}}}",
                s.efficiency_mean,
                s.efficiency_stderr,
                s.efficiency_mean - share,
                s.efficiency_estimated_mean - share,
                algo.config().eps_cor(n),
                s.fer,
                s.fer_ci95[0],
                s.fer_ci95[1],
                s.undetected_frames,
                s.messages_mean,
                s.round_trips_mean,
                s.seconds_per_frame * 1e3,
                t0.elapsed().as_secs_f64(),
            );
        }
    }
    Ok(())
}
