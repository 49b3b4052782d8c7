//! FER and efficiency of standard codes (IEEE 802.11n, 5G NR) and of our PEG codes under syndrome
//! decoding on the BSC: the plain mother code (no puncturing or shortening), `m` syndrome bits for
//! `n` key bits, flooding sum-product (`decode_spa`), efficiency `f = m / (n h(Q))`.
//!
//! `cargo run --release -p qkd-ldpc --example standard_fer -- --code wifi:1944:1/2 \
//!  [--code peg:1944:0.5] [--code nr:2:81[:ROWS]] --qber 0.07,0.08 [--frames 1000] \
//!  [--iterations 100] [--seed 1] [--json]`
//!
//! Code specs: `wifi:N:RATE` (N in 648/1296/1944, RATE 1/2, 2/3, 3/4, 5/6; `wifi:N:all` for all
//! four), `peg:N:LEAK` (`CodeSpec { min_length: N, leak_rate: LEAK, seed }`, the published
//! Elkouss et al. profiles), `nr:BG:Z[:ROWS]` (5G NR base graph 1 or 2 lifted by Z, optionally
//! only its first ROWS base rows: see `standard::nr_code`). Frame `i` at a given QBER uses the
//! same key and error pattern for every code of the same length (seeds from `derive_seed`), so
//! codes are compared on paired frames. A frame fails if SPA does not converge or converges to a
//! word other than Alice's.
use qkd_core::harness::wilson_interval;
use qkd_core::{BitBlock, binary_entropy, derive_seed, sim_rng};
use qkd_ldpc::standard::{self, NrBaseGraph, Wifi80211nRate};
use qkd_ldpc::{CodeSpec, SparseMatrix, decode_spa};
use rand::RngExt;

fn parse_codes(
    spec: &str,
    seed: u64,
) -> Result<Vec<(String, SparseMatrix)>, Box<dyn std::error::Error>> {
    let p: Vec<&str> = spec.split(':').collect();
    match p.as_slice() {
        ["wifi", n, rate] => {
            let n: usize = n.parse()?;
            let rates = if *rate == "all" {
                Wifi80211nRate::ALL.to_vec()
            } else {
                vec![Wifi80211nRate::parse(rate)?]
            };
            rates
                .into_iter()
                .map(|r| Ok((format!("802.11n N={n} R={r}"), standard::ieee80211n(r, n)?)))
                .collect()
        }
        ["peg", n, leak] => {
            let code = CodeSpec {
                min_length: n.parse()?,
                leak_rate: leak.parse()?,
                seed,
            }
            .build()?;
            Ok(vec![(format!("PEG N={n} leak={leak} seed={seed}"), code.h)])
        }
        ["nr", bg, z, rest @ ..] => {
            let bg = match *bg {
                "1" => NrBaseGraph::Bg1,
                "2" => NrBaseGraph::Bg2,
                other => return Err(format!("unknown base graph {other}").into()),
            };
            let z: usize = z.parse()?;
            let h = match rest {
                [] => standard::nr_base_graph(bg, z)?,
                [rows] => standard::nr_code(bg, z, rows.parse()?)?,
                _ => return Err(format!("bad nr spec {spec}").into()),
            };
            let label = format!("5G NR {bg} Z={z} rows={}", h.rows() / z);
            Ok(vec![(label, h)])
        }
        _ => Err(format!("bad code spec {spec}").into()),
    }
}

struct Point {
    failures: usize,
    iterations: u64,
    seconds: f64,
}

fn run(h: &SparseMatrix, q: f64, frames: usize, iterations: u32, seed: u64) -> Point {
    let l = ((1.0 - q) / q).ln();
    let t0 = std::time::Instant::now();
    let (mut failures, mut it_sum) = (0, 0u64);
    let n = u64::try_from(h.cols()).unwrap_or(u64::MAX);
    for i in 0..frames {
        // Same frame for every code of this length at this QBER (paired comparison).
        let mut rng = sim_rng(derive_seed(seed, "standard_fer frame", n << 32 ^ i as u64));
        let x = BitBlock::random(h.cols(), &mut rng);
        let Ok(s) = h.syndrome(&x) else {
            failures += 1;
            continue;
        };
        let llr: Vec<f64> = x
            .iter()
            .map(|b| if b ^ rng.random_bool(q) { -l } else { l })
            .collect();
        let (res, words) = decode_spa(h, &llr, s.words(), iterations);
        it_sum += u64::from(res.iterations);
        if !(res.converged && words == x.words()) {
            failures += 1;
        }
    }
    Point {
        failures,
        iterations: it_sum,
        seconds: t0.elapsed().as_secs_f64(),
    }
}

#[allow(clippy::cast_precision_loss)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut frames, mut iterations, mut seed, mut json) = (1000usize, 100u32, 1u64, false);
    let mut specs = Vec::new();
    let mut qbers: Vec<f64> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--code" => specs.push(val()?),
            "--qber" => {
                qbers = val()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--frames" => frames = val()?.parse()?,
            "--iterations" => iterations = val()?.parse()?,
            "--seed" => seed = val()?.parse()?,
            "--json" => json = true,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    if specs.is_empty() || qbers.is_empty() {
        return Err("need at least one --code and --qber".into());
    }
    if qbers.iter().any(|q| !(*q > 0.0 && *q < 0.5)) {
        return Err("QBER must be in (0, 0.5)".into());
    }
    let mut codes = Vec::new();
    for s in &specs {
        codes.extend(parse_codes(s, seed)?);
    }
    for (name, h) in &codes {
        for &q in &qbers {
            let p = run(h, q, frames, iterations, seed);
            let f = h.rows() as f64 / (h.cols() as f64 * binary_entropy(q));
            let fer = p.failures as f64 / frames as f64;
            let [lo, hi] = wilson_interval(p.failures, frames);
            let it = p.iterations as f64 / frames as f64;
            if json {
                let v = serde_json::json!({
                    "code": name, "n": h.cols(), "m": h.rows(), "edges": h.edges(),
                    "qber": q, "efficiency": f, "frames": frames, "failures": p.failures,
                    "fer": fer, "fer_ci95": [lo, hi], "iterations_mean": it,
                    "max_iterations": iterations, "seed": seed, "seconds": p.seconds,
                });
                println!("{v}");
            } else {
                println!(
                    "{name:<32} n={:>6} m={:>6} Q={q:.4} f={f:.4} FER={}/{frames} = {fer:.2e} [{lo:.1e}, {hi:.1e}] iterations {it:.1} ({:.1} s)",
                    h.cols(),
                    h.rows(),
                    p.failures,
                    p.seconds
                );
            }
        }
    }
    Ok(())
}
