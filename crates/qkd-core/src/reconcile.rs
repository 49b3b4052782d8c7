//! The interface every reconciliation algorithm implements.
//!
//! An algorithm (Cascade, LDPC, ...) implements [`Reconciler`]: from Alice's key (or Bob's) and the
//! shared [`ReconcileParams`] it builds that party's [`Role`]. The two roles talk only through the
//! channel, so Bob never reads Alice's key; both end with an [`Outcome`]: the reconciled key, or a
//! [`Failure`] as a value (never a panic, never an `Err`). A protocol that confirms its result (all of
//! ours do) ends with both parties agreeing on success or failure.
//!
//! [`DynReconciler`] is the object-safe face of the same thing: the link, the `qkd reconcile`
//! command and the benchmarks hold a `Box<dyn DynReconciler>` and swap algorithms without knowing
//! which one runs. [`DynReconciler::run_in_process`] runs both roles in this thread and returns a
//! [`ReconciliationReport`] drawn from the ledger.

use thiserror::Error;

use crate::channel::{LeakageLedger, ProtocolError, Role, run_pair};
use crate::{BitBlock, CoreError, Qber};

/// What both parties agree on before reconciliation starts.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ReconcileParams {
    /// The QBER estimated by parameter estimation (blind algorithms may ignore it).
    pub estimated_qber: Qber,
    /// A seed both parties share (public): shuffles, hash functions, code choices derive from it.
    pub seed: u64,
}

impl ReconcileParams {
    /// Parameters from an estimated QBER and a shared seed.
    #[must_use]
    pub fn new(estimated_qber: Qber, seed: u64) -> Self {
        Self {
            estimated_qber,
            seed,
        }
    }
}

/// Why a frame could not be reconciled. An expected outcome, not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Failure {
    /// The decoder did not converge (LDPC) within its iteration or round budget.
    DecodingFailed {
        /// Iterations (or rounds) spent.
        iterations: u32,
    },
    /// The confirmation tags differed: residual errors were detected; the frame is discarded.
    ConfirmationMismatch,
    /// The protocol gave up for a stated reason (QBER outside the supported range, budget spent).
    Aborted {
        /// Why.
        reason: String,
    },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::DecodingFailed { iterations } => {
                write!(f, "decoding failed after {iterations} iterations")
            }
            Failure::ConfirmationMismatch => f.write_str("confirmation tags differ"),
            Failure::Aborted { reason } => write!(f, "aborted: {reason}"),
        }
    }
}

/// How a party's reconciliation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The party's reconciled key (Alice: her key, possibly shortened; Bob: his corrected key).
    Success(BitBlock),
    /// The frame is discarded.
    Failure(Failure),
}

impl Outcome {
    /// The key, if reconciliation succeeded.
    #[must_use]
    pub fn key(&self) -> Option<&BitBlock> {
        match self {
            Outcome::Success(k) => Some(k),
            Outcome::Failure(_) => None,
        }
    }

    /// True on success.
    #[must_use]
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success(_))
    }
}

/// What a party's role returns: its [`Outcome`] and, for iterative decoders, the iterations spent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileOutput {
    /// Success with the key, or the failure.
    pub outcome: Outcome,
    /// Decoder iterations (LDPC belief propagation), `None` for non-iterative protocols.
    pub iterations: Option<u32>,
}

impl From<Outcome> for ReconcileOutput {
    fn from(outcome: Outcome) -> Self {
        Self {
            outcome,
            iterations: None,
        }
    }
}

/// Errors of reconciliation: bad input or broken protocol machinery.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// Alice's and Bob's keys have different lengths.
    #[error("key lengths differ: Alice {alice} bits, Bob {bob} bits")]
    LengthMismatch {
        /// Alice's key length.
        alice: usize,
        /// Bob's key length.
        bob: usize,
    },
    /// A key is empty.
    #[error("empty key")]
    EmptyKey,
    /// The estimated QBER is outside what the algorithm supports.
    #[error("QBER {qber} outside the supported range {min}..{max}")]
    UnsupportedQber {
        /// The given QBER.
        qber: f64,
        /// Smallest supported value.
        min: f64,
        /// Largest supported value.
        max: f64,
    },
    /// The algorithm's configuration is invalid.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The protocol machinery failed.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// A vocabulary type rejected its input.
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// A reconciliation algorithm: builds the two parties' roles.
pub trait Reconciler {
    /// The protocol's message type.
    type Message: crate::Message;
    /// Alice's role (answers, sends syndromes; holds the reference key).
    type Alice: Role<Message = Self::Message, Output = ReconcileOutput>;
    /// Bob's role (corrects his key towards Alice's).
    type Bob: Role<Message = Self::Message, Output = ReconcileOutput>;

    /// A short name for reports, e.g. `"cascade-original"`, `"ldpc-blind"`.
    fn name(&self) -> String;

    /// Alice's role for `key`.
    ///
    /// # Errors
    /// [`ReconcileError`] for an empty key or unsupported parameters.
    fn alice(&self, key: BitBlock, params: &ReconcileParams)
    -> Result<Self::Alice, ReconcileError>;

    /// Bob's role for `key`.
    ///
    /// # Errors
    /// [`ReconcileError`] for an empty key or unsupported parameters.
    fn bob(&self, key: BitBlock, params: &ReconcileParams) -> Result<Self::Bob, ReconcileError>;
}

/// Figures of one reconciled frame, drawn from the ledger.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ReconciliationReport {
    /// Frame length `n` in bits.
    pub frame_bits: usize,
    /// Bits in which the input keys differed.
    pub initial_errors: usize,
    /// The true QBER of the frame (`initial_errors / n`).
    pub true_qber: f64,
    /// The QBER estimate given to the algorithm.
    pub estimated_qber: f64,
    /// Key-dependent bits disclosed, from the ledger (parities, syndromes, revealed bits, tags).
    pub disclosed_bits: u64,
    /// All payload bits exchanged, from the ledger.
    pub exchanged_bits: u64,
    /// Messages exchanged.
    pub messages: usize,
    /// Round trips.
    pub round_trips: usize,
    /// `disclosed / (n h(true QBER))`; `None` for an error-free frame.
    pub efficiency: Option<f64>,
    /// `disclosed / (n h(estimated QBER))`; `None` if the estimate is 0.
    pub efficiency_estimated: Option<f64>,
    /// True if both parties ended with success.
    pub success: bool,
    /// Bits in which the two outputs differ when both succeeded (0 is correct).
    pub residual_errors: usize,
    /// Both parties report success but their keys differ (an undetected error).
    pub undetected_error: bool,
    /// Bob's decoder iterations, for iterative decoders.
    pub iterations: Option<u32>,
}

/// Everything a [`DynReconciler::run_in_process`] execution produced.
#[derive(Debug)]
pub struct ReconciliationRun {
    /// Alice's outcome.
    pub alice: Outcome,
    /// Bob's outcome.
    pub bob: Outcome,
    /// Every message that crossed.
    pub ledger: LeakageLedger,
    /// Figures drawn from the ledger and the outcomes.
    pub report: ReconciliationReport,
}

/// The object-safe face of a [`Reconciler`], for swapping algorithms at run time.
pub trait DynReconciler: Send + Sync {
    /// The algorithm's name.
    fn name(&self) -> String;

    /// Runs both parties in this thread on one frame.
    ///
    /// The harness knows both keys (it is a simulation); it uses them only to measure the true
    /// QBER and the residual errors for the report. The roles see only their own key.
    ///
    /// # Errors
    /// [`ReconcileError`] for mismatched or empty keys, unsupported parameters, or a protocol error.
    fn run_in_process(
        &self,
        alice_key: BitBlock,
        bob_key: BitBlock,
        params: &ReconcileParams,
    ) -> Result<ReconciliationRun, ReconcileError>;
}

/// Checks the inputs every algorithm requires: equal, non-zero lengths.
///
/// # Errors
/// [`ReconcileError::LengthMismatch`] or [`ReconcileError::EmptyKey`].
pub fn validate_keys(alice: &BitBlock, bob: &BitBlock) -> Result<(), ReconcileError> {
    if alice.len() != bob.len() {
        return Err(ReconcileError::LengthMismatch {
            alice: alice.len(),
            bob: bob.len(),
        });
    }
    if alice.is_empty() {
        return Err(ReconcileError::EmptyKey);
    }
    Ok(())
}

impl<R> DynReconciler for R
where
    R: Reconciler + Send + Sync,
{
    fn name(&self) -> String {
        Reconciler::name(self)
    }

    fn run_in_process(
        &self,
        alice_key: BitBlock,
        bob_key: BitBlock,
        params: &ReconcileParams,
    ) -> Result<ReconciliationRun, ReconcileError> {
        validate_keys(&alice_key, &bob_key)?;
        let n = alice_key.len();
        let initial_errors = alice_key.hamming_distance(&bob_key)?;
        let alice = self.alice(alice_key, params)?;
        let bob = self.bob(bob_key, params)?;
        let run = run_pair(alice, bob)?;
        let mut report = report_from(
            n,
            initial_errors,
            params.estimated_qber,
            &run.ledger,
            &run.alice.outcome,
            &run.bob.outcome,
        )?;
        report.iterations = run.bob.iterations;
        Ok(ReconciliationRun {
            alice: run.alice.outcome,
            bob: run.bob.outcome,
            ledger: run.ledger,
            report,
        })
    }
}

/// Builds a report from a frame's ledger and outcomes.
///
/// # Errors
/// [`ReconcileError::Core`] if `n` is zero.
pub fn report_from(
    frame_bits: usize,
    initial_errors: usize,
    estimated_qber: Qber,
    ledger: &LeakageLedger,
    alice: &Outcome,
    bob: &Outcome,
) -> Result<ReconciliationReport, ReconcileError> {
    let true_qber = Qber::from_counts(initial_errors as u64, frame_bits as u64)?;
    let disclosed = ledger.disclosed_bits();
    let efficiency = crate::reconciliation_efficiency(disclosed, frame_bits, true_qber).ok();
    let efficiency_estimated =
        crate::reconciliation_efficiency(disclosed, frame_bits, estimated_qber).ok();
    let (success, residual_errors) = match (alice, bob) {
        (Outcome::Success(a), Outcome::Success(b)) => {
            (true, a.hamming_distance(b).unwrap_or(a.len().max(b.len())))
        }
        _ => (false, 0),
    };
    Ok(ReconciliationReport {
        frame_bits,
        initial_errors,
        true_qber: true_qber.value(),
        estimated_qber: estimated_qber.value(),
        disclosed_bits: disclosed,
        exchanged_bits: ledger.size_bits(),
        messages: ledger.messages(),
        round_trips: ledger.round_trips(),
        efficiency,
        efficiency_estimated,
        success,
        residual_errors,
        undetected_error: success && residual_errors != 0,
        iterations: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::{Message, Turn};

    /// A real (if naive) reconciler used to exercise the interface: Alice discloses her whole key,
    /// Bob copies it. Its efficiency is n / (n h(Q)), which the report must show exactly.
    struct RevealAll;
    struct RevealMsg(BitBlock);
    impl Message for RevealMsg {
        fn step(&self) -> &'static str {
            "reveal"
        }
        fn size_bits(&self) -> u64 {
            self.0.len() as u64
        }
    }
    struct A(Option<BitBlock>);
    struct B;
    impl Role for A {
        type Message = RevealMsg;
        type Output = ReconcileOutput;
        fn start(&mut self) -> Result<Turn<RevealMsg, ReconcileOutput>, ProtocolError> {
            let k = self.0.take().ok_or(ProtocolError::Deadlock)?;
            Ok(Turn::SendAndDone(
                RevealMsg(k.clone()),
                Outcome::Success(k).into(),
            ))
        }
        fn receive(
            &mut self,
            _: RevealMsg,
        ) -> Result<Turn<RevealMsg, ReconcileOutput>, ProtocolError> {
            Err(ProtocolError::AfterFinish {
                party: crate::Party::Alice,
            })
        }
    }
    impl Role for B {
        type Message = RevealMsg;
        type Output = ReconcileOutput;
        fn start(&mut self) -> Result<Turn<RevealMsg, ReconcileOutput>, ProtocolError> {
            Ok(Turn::Wait)
        }
        fn receive(
            &mut self,
            m: RevealMsg,
        ) -> Result<Turn<RevealMsg, ReconcileOutput>, ProtocolError> {
            Ok(Turn::Done(Outcome::Success(m.0).into()))
        }
    }
    impl Reconciler for RevealAll {
        type Message = RevealMsg;
        type Alice = A;
        type Bob = B;
        fn name(&self) -> String {
            "reveal-all".into()
        }
        fn alice(&self, key: BitBlock, _: &ReconcileParams) -> Result<A, ReconcileError> {
            Ok(A(Some(key)))
        }
        fn bob(&self, _: BitBlock, _: &ReconcileParams) -> Result<B, ReconcileError> {
            Ok(B)
        }
    }

    #[test]
    fn report_comes_from_the_ledger() {
        let mut rng = crate::sim_rng(5);
        let a = BitBlock::random(1000, &mut rng);
        let mut b = a.clone();
        for i in (0..1000).step_by(50) {
            b.flip(i).unwrap();
        }
        let algo: Box<dyn DynReconciler> = Box::new(RevealAll);
        let params = ReconcileParams::new(Qber::new(0.02).unwrap(), 1);
        let run = algo.run_in_process(a, b, &params).unwrap();
        let r = &run.report;
        assert_eq!(r.initial_errors, 20);
        assert_eq!(r.disclosed_bits, 1000);
        assert_eq!(r.messages, 1);
        assert!(r.success && !r.undetected_error);
        let f = r.efficiency.unwrap();
        assert!((f - 1.0 / crate::binary_entropy(0.02)).abs() < 1e-9);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let params = ReconcileParams::new(Qber::new(0.02).unwrap(), 1);
        let e = RevealAll
            .run_in_process(BitBlock::zeros(3), BitBlock::zeros(4), &params)
            .unwrap_err();
        assert!(matches!(e, ReconcileError::LengthMismatch { .. }));
        let e = RevealAll
            .run_in_process(BitBlock::new(), BitBlock::new(), &params)
            .unwrap_err();
        assert_eq!(e, ReconcileError::EmptyKey);
    }
}
