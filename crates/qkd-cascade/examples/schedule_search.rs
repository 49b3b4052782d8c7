//! Block-size schedule search: f ("Cascade disclosures only": every parity, without the
//! confirmation tag) and FER of custom schedules built with `CascadeConfig::builder().rules(..)`
//! (sub-block reuse and block-parity inference on), on the same frames as `qkd reconcile`
//! (exact error count `round(Q n)`, n = 10,000).
//!
//! A schedule is a `/`-separated list of rules, the last one repeated: a number is a fixed size,
//! `xM` the previous size times M, `half` is n/2. Several schedules are separated by spaces.
//!
//! ```text
//! cargo run --release -p qkd-cascade --example schedule_search -- FRAMES SEED QBER PASSES SCHEDULE..
//! # e.g. 2000 1 0.01 12,14 128/x2/half 128/x4/half
//! ```

use qkd_cascade::{BlockRule, Cascade, CascadeConfig, Variant};
use qkd_core::harness::{ErrorModel, SweepConfig, sweep};
use qkd_core::{Qber, binary_entropy};

fn parse_rules(s: &str) -> Result<Vec<BlockRule>, Box<dyn std::error::Error>> {
    s.split('/')
        .map(|r| {
            Ok(match r {
                "half" => BlockRule::HalfKey,
                x if x.starts_with('x') => BlockRule::TimesPrevious(x[1..].parse()?),
                k => BlockRule::Fixed(k.parse()?),
            })
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [frames, seed, q, passes, schedules @ ..] = args.as_slice() else {
        return Err("usage: schedule_search FRAMES SEED QBER PASSES SCHEDULE..".into());
    };
    let (frames, seed, q): (usize, u64, f64) = (frames.parse()?, seed.parse()?, q.parse()?);
    let n = 10_000usize;
    for schedule in schedules {
        for p in passes.split(',') {
            let p: usize = p.parse()?;
            let config = CascadeConfig::builder_from(Variant::Option7)
                .rules(parse_rules(schedule)?)
                .passes(p)
                .sub_block_reuse(true)
                .block_parity_inference(true)
                .build()?;
            let tag = f64::from(config.tag_bits);
            let algo = Cascade::new(config)?;
            let sweep_config = SweepConfig {
                qber: Qber::new(q)?,
                estimated_qber: None,
                block_bits: n,
                frames,
                seed,
                error_model: ErrorModel::Exact,
            };
            let s = sweep(&algo, &sweep_config, |_| {})?;
            #[allow(clippy::cast_precision_loss)]
            let share = tag / (n as f64 * binary_entropy(q));
            println!(
                "{{\"qber\":{q},\"schedule\":\"{schedule}\",\"passes\":{p},\"frames\":{frames},\
                 \"f_parities\":{:.5},\"f_se\":{:.5},\"fer\":{:.3e},\"fer_ci95\":[{:.1e},{:.1e}],\
                 \"round_trips\":{:.1}}}",
                s.efficiency_mean - share,
                s.efficiency_stderr,
                s.fer,
                s.fer_ci95[0],
                s.fer_ci95[1],
                s.round_trips_mean,
            );
        }
    }
    Ok(())
}
