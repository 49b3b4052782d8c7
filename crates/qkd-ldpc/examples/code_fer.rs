//! Frame error rate of one mother code (no puncturing or shortening) on the BSC, syndrome
//! decoding with side information, min-sum or sum-product.
//!
//! `cargo run --release -p qkd-ldpc --example code_fer -- --leak 0.3 --n 11112 --qber 0.04 \
//!  [--frames 100] [--iterations 60] [--spa | --layered] [--ad-hoc] [--seed 1]`
//!
//! `--spa`: flooding sum-product (`decode_spa`); `--layered`: layered sum-product (`LayeredSpa`)
//! on the exact channel LLR; default: layered normalised min-sum (`i16`). Prints the decoding
//! time per iteration and per edge.
use qkd_core::{BitBlock, binary_entropy, sim_rng};
use qkd_ldpc::{
    CodeSpec, DegreeProfile, LayeredSpa, MinSumDecoder, MinSumKind, decode_spa,
    decoder::{LLR_SCALE, channel_llr},
};
use rand::RngExt;

#[allow(clippy::cast_precision_loss)]
fn mean(sum: u64, n: usize) -> f64 {
    sum as f64 / n as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut leak, mut n, mut qber, mut frames, mut iters, mut seed) =
        (0.3, 11_112usize, 0.04, 100usize, 60u32, 1u64);
    let (mut spa, mut layered, mut ad_hoc) = (false, false, false);
    let mut kind = MinSumKind::Normalized;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--leak" => leak = val()?.parse()?,
            "--n" => n = val()?.parse()?,
            "--qber" => qber = val()?.parse()?,
            "--frames" => frames = val()?.parse()?,
            "--iterations" => iters = val()?.parse()?,
            "--seed" => seed = val()?.parse()?,
            "--spa" => spa = true,
            "--layered" => layered = true,
            "--offset" => {
                kind = MinSumKind::Offset {
                    offset: val()?.parse()?,
                }
            }
            "--ad-hoc" => ad_hoc = true,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    let spec = CodeSpec {
        min_length: n,
        leak_rate: leak,
        seed,
    };
    let t0 = std::time::Instant::now();
    let code = if ad_hoc {
        spec.build_with(DegreeProfile::ad_hoc(leak))?
    } else {
        spec.build()?
    };
    let h = &code.h;
    let build = t0.elapsed().as_secs_f64();
    let mut rng = sim_rng(seed ^ 0x5eed);
    let mut ms = MinSumDecoder::new(kind);
    let mut lspa = LayeredSpa::default();
    let mut decode_s = 0.0;
    let (mut fails, mut it_sum) = (0usize, 0u64);
    let l = channel_llr(qber);
    for _ in 0..frames {
        let x: BitBlock = (0..h.cols()).map(|_| rng.random_bool(0.5)).collect();
        let s = h.syndrome(&x)?;
        let y: Vec<bool> = x.iter().map(|b| b ^ rng.random_bool(qber)).collect();
        let t = std::time::Instant::now();
        let (res, words) = if layered {
            let lf = ((1.0 - qber) / qber).ln();
            let llr: Vec<f64> = y.iter().map(|&b| if b { -lf } else { lf }).collect();
            let r = lspa.start(h, &llr, s.words(), iters);
            (r, lspa.hard_decision())
        } else if spa {
            let lf = f64::from(l) / LLR_SCALE;
            let llr: Vec<f64> = y.iter().map(|&b| if b { -lf } else { lf }).collect();
            decode_spa(h, &llr, s.words(), iters)
        } else {
            let llr: Vec<i16> = y.iter().map(|&b| if b { -l } else { l }).collect();
            let r = ms.decode(h, &llr, s.words(), iters);
            (r, ms.hard_decision())
        };
        decode_s += t.elapsed().as_secs_f64();
        it_sum += u64::from(res.iterations);
        let ok = res.converged
            && (0..h.cols())
                .all(|i| ((words[i >> 6] >> (i & 63)) & 1 == 1) == x.get(i).unwrap_or(false));
        if !ok {
            fails += 1;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let f = h.rows() as f64 / h.cols() as f64 / binary_entropy(qber);
    println!(
        "n={} m={} Q={qber} f={f:.4} FER={}/{frames} iterations {:.1} ({} build {build:.2}s, max col degree {}, \
         {} edges, {:.3} ms/iteration, {:.1} ns/edge)",
        h.cols(),
        h.rows(),
        fails,
        mean(it_sum, frames),
        if layered {
            "layered SPA"
        } else if spa {
            "SPA"
        } else {
            "NMS"
        },
        (0..h.cols()).map(|c| h.col_degree(c)).max().unwrap_or(0),
        h.edges(),
        1e3 * decode_s / it_sum.max(1) as f64,
        1e9 * decode_s / it_sum.max(1) as f64 / h.edges() as f64
    );
    Ok(())
}
