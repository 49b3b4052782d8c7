//! Density-evolution thresholds on the BSC of the regular ensembles and of the published
//! Elkouss et al. (2009) table, next to the published figures.
//!
//! `cargo run --release -p qkd-ldpc --example de_threshold -- [--delta 0.05] [--max-llr 30]
//!  [--only 0.5] [--at P] [--no-regular]` (`--at P`: decodes or fails at crossover P)
use qkd_ldpc::de::{DeConfig, Ensemble, bsc_threshold};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut cfg = DeConfig::default();
    let mut only: Option<f64> = None;
    let mut regular = true;
    let mut at: Option<f64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--delta" => cfg.delta = val()?.parse()?,
            "--max-llr" => cfg.max_llr = val()?.parse()?,
            "--only" => only = Some(val()?.parse()?),
            "--no-regular" => regular = false,
            "--at" => at = Some(val()?.parse()?),
            "--max-iterations" => cfg.max_iterations = val()?.parse()?,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    if regular && only.is_none() {
        for (dv, dc) in [(3, 6), (4, 8), (3, 5), (3, 4)] {
            let t0 = std::time::Instant::now();
            let t = bsc_threshold(&Ensemble::regular(dv, dc), &cfg)?;
            println!("({dv},{dc}) {t:.5} {:.1}s", t0.elapsed().as_secs_f64());
        }
    }
    for e in qkd_ldpc::library::ELKOUSS_2009 {
        if only.is_some_and(|o| (o - e.leak_rate).abs() > 1e-9) {
            continue;
        }
        let t0 = std::time::Instant::now();
        let ens = e.ensemble();
        if let Some(p) = at {
            let ok = qkd_ldpc::de::converges(&ens, p, &cfg)?;
            println!(
                "leak {:.2}: DE at p = {p}: {}, {:.1}s",
                e.leak_rate,
                if ok { "decodes" } else { "fails" },
                t0.elapsed().as_secs_f64()
            );
            continue;
        }
        let t = bsc_threshold(&ens, &cfg)?;
        println!(
            "leak {:.2} (design {:.4}): DE {t:.5}, published {:.4}, {:.1}s",
            e.leak_rate,
            ens.leak_rate(),
            e.threshold,
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
