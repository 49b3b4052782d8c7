//! Published BSC-optimised degree distributions.
//!
//! Elkouss, Leverrier, Alléaume, Boutros, "Efficient reconciliation protocol for discrete-variable
//! quantum key distribution", IEEE ISIT 2009, pp. 1879-1883 (arXiv:0901.2140), **Table I**:
//! ensembles optimised by differential evolution with discretised density evolution on the BSC,
//! for code rates 0.5-0.9 in steps of 0.05 (leak rates 0.1-0.5), with their BP thresholds.
//! Coefficients are transcribed from the paper in edge perspective (`lambda_i` multiplies
//! `x^(i-1)`); they are rounded to 4-5 digits there, so [`published`] returns them renormalised.
//!
//! One row is inconsistent as printed: the rate-0.85 row lists `0.094274 x^4`, which makes
//! `lambda` sum to 1.0515 (renormalised: design leak 0.1493, as used here). Reading it as
//! `0.04274` makes the sum 1.0000 but the design leak 0.1511; our DE gives 0.0200 for that
//! reading (published 0.0199). We keep the printed value; this row is not among the reference
//! thresholds of RECONCILIATION.md.

use crate::de::Ensemble;

/// One row of Elkouss et al. (2009), Table I.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublishedEnsemble {
    /// Leak rate `1 - R` of the design.
    pub leak_rate: f64,
    /// BP threshold on the BSC reported in the paper.
    pub threshold: f64,
    /// Edge-perspective variable degrees `(degree, lambda_degree)`.
    pub lambda: &'static [(usize, f64)],
    /// Edge-perspective check degrees `(degree, rho_degree)`.
    pub rho: &'static [(usize, f64)],
}

impl PublishedEnsemble {
    /// The ensemble, renormalised to sum to 1.
    #[must_use]
    pub fn ensemble(&self) -> Ensemble {
        Ensemble {
            lambda: self.lambda.to_vec(),
            rho: self.rho.to_vec(),
        }
        .normalized()
    }
}

/// Elkouss et al. (ISIT 2009), Table I, ordered by leak rate 0.10, 0.15, ..., 0.50.
pub const ELKOUSS_2009: &[PublishedEnsemble] = &[
    PublishedEnsemble {
        leak_rate: 0.10,
        threshold: 0.0109,
        lambda: &[
            (2, 0.07689),
            (3, 0.28096),
            (5, 0.08933),
            (9, 0.19620),
            (12, 0.30631),
            (21, 0.05031),
        ],
        rho: &[(50, 0.95025), (51, 0.04975)],
    },
    PublishedEnsemble {
        leak_rate: 0.15,
        threshold: 0.0199,
        lambda: &[
            (2, 0.04528),
            (3, 0.20537),
            (4, 0.05878),
            (5, 0.094274),
            (6, 0.08454),
            (7, 0.01176),
            (9, 0.05137),
            (21, 0.50015),
        ],
        rho: &[(41, 0.54204), (42, 0.45795)],
    },
    PublishedEnsemble {
        leak_rate: 0.20,
        threshold: 0.0298,
        lambda: &[
            (2, 0.09420),
            (3, 0.18088),
            (6, 0.11972),
            (7, 0.08550),
            (8, 0.09816),
            (17, 0.07194),
            (26, 0.34960),
        ],
        rho: &[(29, 0.58807), (30, 0.41193)],
    },
    PublishedEnsemble {
        leak_rate: 0.25,
        threshold: 0.0392,
        lambda: &[
            (2, 0.10805),
            (3, 0.09511),
            (4, 0.01449),
            (5, 0.13764),
            (6, 0.10667),
            (7, 0.05288),
            (28, 0.01107),
            (31, 0.47408),
        ],
        rho: &[(25, 0.74161), (26, 0.25839)],
    },
    PublishedEnsemble {
        leak_rate: 0.30,
        threshold: 0.0504,
        lambda: &[
            (2, 0.05343),
            (3, 0.29406),
            (6, 0.00896),
            (9, 0.15571),
            (12, 0.12189),
            (25, 0.19872),
            (46, 0.09572),
            (62, 0.02741),
            (65, 0.04056),
            (73, 0.00354),
        ],
        rho: &[(20, 0.76922), (21, 0.23077)],
    },
    PublishedEnsemble {
        leak_rate: 0.35,
        threshold: 0.0633,
        lambda: &[
            (2, 0.10451),
            (3, 0.15652),
            (4, 0.08057),
            (5, 0.00056),
            (9, 0.12151),
            (13, 0.10485),
            (15, 0.10719),
            (21, 0.00771),
            (51, 0.31656),
        ],
        rho: &[(2, 0.000578), (15, 0.06089), (16, 0.47001), (21, 0.46852)],
    },
    PublishedEnsemble {
        leak_rate: 0.40,
        threshold: 0.0766,
        lambda: &[
            (2, 0.11040),
            (3, 0.20804),
            (8, 0.14163),
            (9, 0.14858),
            (26, 0.14438),
            (27, 0.08909),
            (46, 0.00748),
            (71, 0.15038),
        ],
        rho: &[
            (2, 0.00036),
            (10, 0.13063),
            (13, 0.31068),
            (18, 0.49341),
            (19, 0.064915),
        ],
    },
    PublishedEnsemble {
        leak_rate: 0.45,
        threshold: 0.0904,
        lambda: &[
            (2, 0.16880),
            (3, 0.20994),
            (6, 0.18095),
            (15, 0.03846),
            (16, 0.02635),
            (18, 0.23454),
            (19, 0.05815),
            (31, 0.08280),
        ],
        rho: &[(10, 0.27631), (11, 0.72369)],
    },
    PublishedEnsemble {
        leak_rate: 0.50,
        threshold: 0.1071,
        lambda: &[
            (2, 0.14438),
            (3, 0.19026),
            (4, 0.01836),
            (5, 0.00233),
            (6, 0.04697),
            (8, 0.053943),
            (9, 0.05590),
            (10, 0.01290),
            (11, 0.00162),
            (14, 0.06159),
            (15, 0.13115),
            (17, 0.01481),
            (47, 0.00879),
            (49, 0.00650),
            (55, 0.00210),
            (56, 0.00099),
            (57, 0.11178),
            (58, 0.06238),
            (59, 0.05094),
            (66, 0.02230),
        ],
        rho: &[(10, 0.47575), (12, 0.46847), (13, 0.02952), (14, 0.02626)],
    },
];

/// The published ensemble designed for `leak_rate` (within 1e-9), if any.
#[must_use]
pub fn published(leak_rate: f64) -> Option<&'static PublishedEnsemble> {
    ELKOUSS_2009
        .iter()
        .find(|e| (e.leak_rate - leak_rate).abs() < 1e-9)
}

/// The published ensemble with the leak rate nearest to `leak_rate`, if one lies within 0.025
/// (the lower one on a tie).
#[must_use]
pub fn nearest(leak_rate: f64) -> Option<&'static PublishedEnsemble> {
    ELKOUSS_2009
        .iter()
        .filter(|e| (e.leak_rate - leak_rate).abs() <= 0.025 + 1e-9)
        .min_by(|a, b| {
            (a.leak_rate - leak_rate)
                .abs()
                .total_cmp(&(b.leak_rate - leak_rate).abs())
                .then(a.leak_rate.total_cmp(&b.leak_rate))
        })
}
