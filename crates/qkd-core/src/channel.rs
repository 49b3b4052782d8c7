//! The authenticated classical channel between Alice and Bob, and the leakage ledger it keeps.
//!
//! Every protocol step (sifting, estimation, reconciliation, confirmation) is written as two
//! [`Role`]s, one per party, that exchange typed [`Message`]s. The parties share nothing else. Each
//! message states its size on the wire and how many of those bits disclose information about the key
//! ([`Message::disclosed_bits`]); whoever moves messages between the roles records each one in a
//! [`LeakageLedger`]. Efficiency and the secret-key length are then computed from the ledger — what
//! actually crossed — never from a formula of what a protocol "should" disclose.
//!
//! Two ways to move messages:
//! - [`run_pair`]: both roles in one thread, messages handed over in memory. No threads, no locks:
//!   this is what benchmarks and simulations use (Cascade exchanges ~100 messages per frame).
//! - [`Endpoint::drive`]: one role over a [`Transport`] (a socket, a queue between threads). Each side
//!   records both what it sent and what it received, so each side holds the full ledger.
//!   [`mpsc_pair`] gives an in-process transport for two threads; a network transport implements the
//!   same trait.
//!
//! Why state machines: a role that blocks on a socket cannot run in the same thread as its peer, and
//! a thread hand-off per message (~10 µs) would dominate a Cascade frame. A role written as
//! `start` / `receive` runs either way.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::mpsc;

use thiserror::Error;

/// One of the two parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Party {
    /// The sender of the quantum states; holds the reference key.
    Alice,
    /// The receiver; corrects its key towards Alice's.
    Bob,
}

impl Party {
    /// The other party.
    #[must_use]
    pub fn peer(self) -> Self {
        match self {
            Party::Alice => Party::Bob,
            Party::Bob => Party::Alice,
        }
    }
}

/// A message of a two-party protocol.
pub trait Message: Send + 'static {
    /// The protocol step this message belongs to, e.g. `"cascade.pass"`, `"ldpc.syndrome"`.
    /// Ledger totals can be taken per step (by prefix).
    fn step(&self) -> &'static str;

    /// Size of the message's payload on the wire, in bits (indices, lengths, parities, ...).
    fn size_bits(&self) -> u64;

    /// How many of the payload bits are functions of the secret key (parities of key bits, syndrome
    /// bits, revealed key bits, confirmation tags). These count against the key. Indices and other
    /// key-independent data do not. Defaults to the whole payload.
    fn disclosed_bits(&self) -> u64 {
        self.size_bits()
    }
}

/// One message as recorded in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LedgerEntry {
    /// The step the message belongs to.
    pub step: Cow<'static, str>,
    /// Who sent it.
    pub from: Party,
    /// Payload size in bits.
    pub size_bits: u64,
    /// Key-dependent bits in the payload.
    pub disclosed_bits: u64,
}

/// The record of everything that crossed the classical channel.
///
/// ```
/// use qkd_core::{LeakageLedger, Party};
/// let mut ledger = LeakageLedger::new();
/// ledger.record("cascade.ask", Party::Bob, 120, 0);
/// ledger.record("cascade.parity", Party::Alice, 10, 10);
/// assert_eq!(ledger.disclosed_bits(), 10);
/// assert_eq!(ledger.messages(), 2);
/// assert_eq!(ledger.round_trips(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LeakageLedger {
    entries: Vec<LedgerEntry>,
}

impl LeakageLedger {
    /// An empty ledger.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one message.
    pub fn record(
        &mut self,
        step: impl Into<Cow<'static, str>>,
        from: Party,
        size_bits: u64,
        disclosed_bits: u64,
    ) {
        self.entries.push(LedgerEntry {
            step: step.into(),
            from,
            size_bits,
            disclosed_bits,
        });
    }

    /// Records a protocol message.
    pub fn record_message<M: Message>(&mut self, from: Party, message: &M) {
        self.record(
            message.step(),
            from,
            message.size_bits(),
            message.disclosed_bits(),
        );
    }

    /// Appends all entries of `other` (e.g. the sifting ledger followed by the reconciliation one).
    pub fn append(&mut self, other: &LeakageLedger) {
        self.entries.extend(other.entries.iter().cloned());
    }

    /// The entries in the order the messages were sent.
    #[must_use]
    pub fn entries(&self) -> &[LedgerEntry] {
        &self.entries
    }

    /// Number of messages.
    #[must_use]
    pub fn messages(&self) -> usize {
        self.entries.len()
    }

    /// Total payload bits of all messages.
    #[must_use]
    pub fn size_bits(&self) -> u64 {
        self.entries.iter().map(|e| e.size_bits).sum()
    }

    /// Total key-dependent bits disclosed by both parties: the leakage.
    #[must_use]
    pub fn disclosed_bits(&self) -> u64 {
        self.entries.iter().map(|e| e.disclosed_bits).sum()
    }

    /// Key-dependent bits disclosed by `party`.
    #[must_use]
    pub fn disclosed_bits_by(&self, party: Party) -> u64 {
        self.entries
            .iter()
            .filter(|e| e.from == party)
            .map(|e| e.disclosed_bits)
            .sum()
    }

    /// Key-dependent bits disclosed in steps whose name starts with `prefix`.
    #[must_use]
    pub fn disclosed_bits_in(&self, prefix: &str) -> u64 {
        self.entries
            .iter()
            .filter(|e| e.step.starts_with(prefix))
            .map(|e| e.disclosed_bits)
            .sum()
    }

    /// Round trips: runs of consecutive messages from the same sender, paired up (a run from one
    /// party answered by a run from the other is one round trip; a lone last run counts as one).
    #[must_use]
    pub fn round_trips(&self) -> usize {
        let mut runs = 0usize;
        let mut last = None;
        for e in &self.entries {
            if last != Some(e.from) {
                runs += 1;
                last = Some(e.from);
            }
        }
        runs.div_ceil(2)
    }
}

/// What a role does next.
#[derive(Debug)]
pub enum Turn<M, O> {
    /// Send this message and wait for the peer's next message.
    Send(M),
    /// Nothing to send; wait for the peer (the passive party's first turn).
    Wait,
    /// Finished, with this output; send nothing more.
    Done(O),
    /// Send this last message, then finish with this output.
    SendAndDone(M, O),
}

/// One party's side of a two-party protocol, as a state machine.
pub trait Role {
    /// The protocol's message type (both directions).
    type Message: Message;
    /// What the party has at the end.
    type Output;

    /// The party's first move.
    ///
    /// # Errors
    /// A [`ProtocolError`] if the party cannot start (e.g. invalid configuration).
    fn start(&mut self) -> Result<Turn<Self::Message, Self::Output>, ProtocolError>;

    /// Handles a message from the peer.
    ///
    /// # Errors
    /// A [`ProtocolError`] if the message is not valid in the current state.
    fn receive(
        &mut self,
        message: Self::Message,
    ) -> Result<Turn<Self::Message, Self::Output>, ProtocolError>;
}

/// A failure of the protocol machinery (not an expected outcome such as a decoding failure).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A message arrived that the receiving role cannot handle in its state.
    #[error("{party:?} got an unexpected message in step {step}: {reason}")]
    UnexpectedMessage {
        /// The receiving party.
        party: Party,
        /// The step of the message.
        step: &'static str,
        /// Why it was unexpected.
        reason: String,
    },
    /// A message arrived for a party that has already finished.
    #[error("{party:?} received a message after it finished")]
    AfterFinish {
        /// The receiving party.
        party: Party,
    },
    /// Both parties wait for each other.
    #[error("deadlock: both parties are waiting and no message is in flight")]
    Deadlock,
    /// A party finished while the other still expected a message.
    #[error("{party:?} is waiting but its peer has finished")]
    PeerFinished {
        /// The waiting party.
        party: Party,
    },
    /// The message limit was reached (a runaway protocol).
    #[error("more than {limit} messages exchanged")]
    TooManyMessages {
        /// The limit.
        limit: usize,
    },
    /// The transport failed (connection closed, I/O error).
    #[error("transport: {0}")]
    Transport(String),
    /// A role's input or configuration was invalid.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

/// The outputs of both parties and the ledger of a [`run_pair`] execution.
#[derive(Debug)]
pub struct PairRun<OA, OB> {
    /// Alice's output.
    pub alice: OA,
    /// Bob's output.
    pub bob: OB,
    /// Every message that crossed, in order.
    pub ledger: LeakageLedger,
}

/// Default bound on the messages of one [`run_pair`] execution.
pub const DEFAULT_MESSAGE_LIMIT: usize = 1_000_000;

/// Runs Alice's and Bob's roles against each other in this thread, recording every message.
///
/// ```
/// use qkd_core::{run_pair, Message, ProtocolError, Role, Turn};
/// // Bob asks for the parity of Alice's 3-bit word; Alice answers.
/// enum Msg { Ask, Parity(bool) }
/// impl Message for Msg {
///     fn step(&self) -> &'static str { "demo" }
///     fn size_bits(&self) -> u64 { match self { Msg::Ask => 0, Msg::Parity(_) => 1 } }
/// }
/// struct Alice(u8);
/// struct Bob;
/// impl Role for Alice {
///     type Message = Msg; type Output = ();
///     fn start(&mut self) -> Result<Turn<Msg, ()>, ProtocolError> { Ok(Turn::Wait) }
///     fn receive(&mut self, _: Msg) -> Result<Turn<Msg, ()>, ProtocolError> {
///         Ok(Turn::SendAndDone(Msg::Parity(self.0.count_ones() % 2 == 1), ()))
///     }
/// }
/// impl Role for Bob {
///     type Message = Msg; type Output = bool;
///     fn start(&mut self) -> Result<Turn<Msg, bool>, ProtocolError> { Ok(Turn::Send(Msg::Ask)) }
///     fn receive(&mut self, m: Msg) -> Result<Turn<Msg, bool>, ProtocolError> {
///         match m { Msg::Parity(p) => Ok(Turn::Done(p)), Msg::Ask => Err(ProtocolError::Deadlock) }
///     }
/// }
/// let run = run_pair(Alice(0b101), Bob)?;
/// assert!(!run.bob);
/// assert_eq!(run.ledger.disclosed_bits(), 1);
/// assert_eq!(run.ledger.round_trips(), 1);
/// # Ok::<(), ProtocolError>(())
/// ```
///
/// # Errors
/// Any [`ProtocolError`] a role returns, [`ProtocolError::Deadlock`] if both wait,
/// [`ProtocolError::AfterFinish`] / [`ProtocolError::PeerFinished`] on mismatched endings, and
/// [`ProtocolError::TooManyMessages`] past [`DEFAULT_MESSAGE_LIMIT`].
pub fn run_pair<A, B, M>(alice: A, bob: B) -> Result<PairRun<A::Output, B::Output>, ProtocolError>
where
    M: Message,
    A: Role<Message = M>,
    B: Role<Message = M>,
{
    run_pair_with_limit(alice, bob, DEFAULT_MESSAGE_LIMIT)
}

/// [`run_pair`] with an explicit message limit.
///
/// # Errors
/// As [`run_pair`].
pub fn run_pair_with_limit<A, B, M>(
    mut alice: A,
    mut bob: B,
    limit: usize,
) -> Result<PairRun<A::Output, B::Output>, ProtocolError>
where
    M: Message,
    A: Role<Message = M>,
    B: Role<Message = M>,
{
    let mut ledger = LeakageLedger::new();
    let mut to_alice: VecDeque<M> = VecDeque::new();
    let mut to_bob: VecDeque<M> = VecDeque::new();
    let mut out_a = None;
    let mut out_b = None;

    let turn = alice.start()?;
    absorb(turn, Party::Alice, &mut ledger, &mut to_bob, &mut out_a);
    let turn = bob.start()?;
    absorb(turn, Party::Bob, &mut ledger, &mut to_alice, &mut out_b);

    loop {
        if ledger.messages() > limit {
            return Err(ProtocolError::TooManyMessages { limit });
        }
        // Deliver Bob's pending message first (Alice usually answers), then Alice's.
        if let Some(m) = to_alice.pop_front() {
            if out_a.is_some() {
                return Err(ProtocolError::AfterFinish {
                    party: Party::Alice,
                });
            }
            let turn = alice.receive(m)?;
            absorb(turn, Party::Alice, &mut ledger, &mut to_bob, &mut out_a);
        } else if let Some(m) = to_bob.pop_front() {
            if out_b.is_some() {
                return Err(ProtocolError::AfterFinish { party: Party::Bob });
            }
            let turn = bob.receive(m)?;
            absorb(turn, Party::Bob, &mut ledger, &mut to_alice, &mut out_b);
        } else {
            return match (out_a, out_b) {
                (Some(a), Some(b)) => Ok(PairRun {
                    alice: a,
                    bob: b,
                    ledger,
                }),
                (None, None) => Err(ProtocolError::Deadlock),
                (None, Some(_)) => Err(ProtocolError::PeerFinished {
                    party: Party::Alice,
                }),
                (Some(_), None) => Err(ProtocolError::PeerFinished { party: Party::Bob }),
            };
        }
    }
}

fn absorb<M: Message, O>(
    turn: Turn<M, O>,
    from: Party,
    ledger: &mut LeakageLedger,
    outbox: &mut VecDeque<M>,
    output: &mut Option<O>,
) {
    match turn {
        Turn::Send(m) => {
            ledger.record_message(from, &m);
            outbox.push_back(m);
        }
        Turn::Wait => {}
        Turn::Done(o) => *output = Some(o),
        Turn::SendAndDone(m, o) => {
            ledger.record_message(from, &m);
            outbox.push_back(m);
            *output = Some(o);
        }
    }
}

/// A bidirectional message transport for one party (a socket, a queue between threads).
///
/// Implementations are responsible for framing and (for a real network) authentication of the
/// classical channel; the ledger is kept by [`Endpoint`], not by the transport.
pub trait Transport<M> {
    /// Sends one message to the peer.
    ///
    /// # Errors
    /// [`ProtocolError::Transport`] if the message cannot be delivered.
    fn send(&mut self, message: M) -> Result<(), ProtocolError>;

    /// Blocks until the peer's next message arrives.
    ///
    /// # Errors
    /// [`ProtocolError::Transport`] if the connection is closed or broken.
    fn recv(&mut self) -> Result<M, ProtocolError>;
}

/// One party's end of the channel: a transport plus the ledger of what crossed it.
#[derive(Debug)]
pub struct Endpoint<T> {
    party: Party,
    transport: T,
    ledger: LeakageLedger,
}

impl<T> Endpoint<T> {
    /// The endpoint of `party` over `transport`.
    pub fn new(party: Party, transport: T) -> Self {
        Self {
            party,
            transport,
            ledger: LeakageLedger::new(),
        }
    }

    /// The party at this end.
    pub fn party(&self) -> Party {
        self.party
    }

    /// Everything sent and received so far.
    pub fn ledger(&self) -> &LeakageLedger {
        &self.ledger
    }

    /// Sends a message, recording it.
    ///
    /// # Errors
    /// The transport's error.
    pub fn send<M: Message>(&mut self, message: M) -> Result<(), ProtocolError>
    where
        T: Transport<M>,
    {
        self.ledger.record_message(self.party, &message);
        self.transport.send(message)
    }

    /// Receives a message, recording it.
    ///
    /// # Errors
    /// The transport's error.
    pub fn recv<M: Message>(&mut self) -> Result<M, ProtocolError>
    where
        T: Transport<M>,
    {
        let m = self.transport.recv()?;
        self.ledger.record_message(self.party.peer(), &m);
        Ok(m)
    }

    /// Runs `role` to completion over this endpoint.
    ///
    /// # Errors
    /// The role's or the transport's error.
    pub fn drive<R>(&mut self, mut role: R) -> Result<R::Output, ProtocolError>
    where
        R: Role,
        T: Transport<R::Message>,
    {
        let mut turn = role.start()?;
        loop {
            match turn {
                Turn::Send(m) => {
                    self.send(m)?;
                    turn = role.receive(self.recv()?)?;
                }
                Turn::Wait => turn = role.receive(self.recv()?)?,
                Turn::Done(o) => return Ok(o),
                Turn::SendAndDone(m, o) => {
                    self.send(m)?;
                    return Ok(o);
                }
            }
        }
    }

    /// Takes the transport and ledger back.
    pub fn into_parts(self) -> (T, LeakageLedger) {
        (self.transport, self.ledger)
    }
}

/// An in-process transport over `std::sync::mpsc`, for running the two parties in two threads.
#[derive(Debug)]
pub struct MpscTransport<M> {
    tx: mpsc::Sender<M>,
    rx: mpsc::Receiver<M>,
}

/// Two connected in-process transports (give one to each thread).
#[must_use]
pub fn mpsc_pair<M>() -> (MpscTransport<M>, MpscTransport<M>) {
    let (tx_a, rx_b) = mpsc::channel();
    let (tx_b, rx_a) = mpsc::channel();
    (
        MpscTransport { tx: tx_a, rx: rx_a },
        MpscTransport { tx: tx_b, rx: rx_b },
    )
}

impl<M> Transport<M> for MpscTransport<M> {
    fn send(&mut self, message: M) -> Result<(), ProtocolError> {
        self.tx
            .send(message)
            .map_err(|_| ProtocolError::Transport("peer hung up".into()))
    }

    fn recv(&mut self) -> Result<M, ProtocolError> {
        self.rx
            .recv()
            .map_err(|_| ProtocolError::Transport("peer hung up".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A toy exchange with variable sizes to check the bookkeeping: Bob sends `n` requests of given
    /// sizes, Alice answers each with `disclosed` bits.
    #[derive(Debug, Clone)]
    enum Msg {
        Req(u64),
        Resp(u64),
    }
    impl Message for Msg {
        fn step(&self) -> &'static str {
            match self {
                Msg::Req(_) => "test.req",
                Msg::Resp(_) => "test.resp",
            }
        }
        fn size_bits(&self) -> u64 {
            match self {
                Msg::Req(s) | Msg::Resp(s) => *s + 8,
            }
        }
        fn disclosed_bits(&self) -> u64 {
            match self {
                Msg::Req(_) => 0,
                Msg::Resp(s) => *s,
            }
        }
    }
    struct Server;
    impl Role for Server {
        type Message = Msg;
        type Output = usize;
        fn start(&mut self) -> Result<Turn<Msg, usize>, ProtocolError> {
            Ok(Turn::Wait)
        }
        fn receive(&mut self, m: Msg) -> Result<Turn<Msg, usize>, ProtocolError> {
            match m {
                Msg::Req(0) => Ok(Turn::Done(0)),
                Msg::Req(s) => Ok(Turn::Send(Msg::Resp(s))),
                Msg::Resp(_) => Err(ProtocolError::UnexpectedMessage {
                    party: Party::Alice,
                    step: "test.resp",
                    reason: "server never gets responses".into(),
                }),
            }
        }
    }
    struct Client(Vec<u64>);
    impl Role for Client {
        type Message = Msg;
        type Output = ();
        fn start(&mut self) -> Result<Turn<Msg, ()>, ProtocolError> {
            Ok(self.next())
        }
        fn receive(&mut self, _: Msg) -> Result<Turn<Msg, ()>, ProtocolError> {
            Ok(self.next())
        }
    }
    impl Client {
        fn next(&mut self) -> Turn<Msg, ()> {
            match self.0.pop() {
                Some(s) => Turn::Send(Msg::Req(s)),
                None => Turn::SendAndDone(Msg::Req(0), ()),
            }
        }
    }

    proptest! {
        #[test]
        fn ledger_totals_equal_the_sum_of_message_sizes(sizes in proptest::collection::vec(1u64..1000, 0..40)) {
            let run = run_pair(Server, Client(sizes.clone())).unwrap();
            let l = &run.ledger;
            let sum: u64 = sizes.iter().sum();
            prop_assert_eq!(l.disclosed_bits(), sum);
            prop_assert_eq!(l.disclosed_bits_by(Party::Alice), sum);
            prop_assert_eq!(l.disclosed_bits_in("test.resp"), sum);
            prop_assert_eq!(l.size_bits(), 2 * sum + 8 * (2 * sizes.len() as u64 + 1));
            prop_assert_eq!(l.messages(), 2 * sizes.len() + 1);
            prop_assert_eq!(l.round_trips(), sizes.len() + 1);
            prop_assert_eq!(l.entries().iter().map(|e| e.size_bits).sum::<u64>(), l.size_bits());
        }

        #[test]
        fn threads_and_single_thread_record_the_same_ledger(sizes in proptest::collection::vec(1u64..1000, 0..20)) {
            let single = run_pair(Server, Client(sizes.clone())).unwrap().ledger;
            let (ta, tb) = mpsc_pair::<Msg>();
            let h = std::thread::spawn(move || {
                let mut e = Endpoint::new(Party::Alice, ta);
                e.drive(Server).map(|_| e.into_parts().1)
            });
            let mut eb = Endpoint::new(Party::Bob, tb);
            eb.drive(Client(sizes)).unwrap();
            let alice_ledger = h.join().unwrap().unwrap();
            prop_assert_eq!(&alice_ledger, &single);
            prop_assert_eq!(eb.ledger(), &single);
        }
    }

    #[test]
    fn deadlock_and_errors_are_values() {
        struct Waiter;
        impl Role for Waiter {
            type Message = Msg;
            type Output = ();
            fn start(&mut self) -> Result<Turn<Msg, ()>, ProtocolError> {
                Ok(Turn::Wait)
            }
            fn receive(&mut self, _: Msg) -> Result<Turn<Msg, ()>, ProtocolError> {
                Ok(Turn::Wait)
            }
        }
        assert_eq!(
            run_pair(Waiter, Waiter).unwrap_err(),
            ProtocolError::Deadlock
        );
        // The client sends a response, which the server rejects.
        struct Bad;
        impl Role for Bad {
            type Message = Msg;
            type Output = ();
            fn start(&mut self) -> Result<Turn<Msg, ()>, ProtocolError> {
                Ok(Turn::Send(Msg::Resp(1)))
            }
            fn receive(&mut self, _: Msg) -> Result<Turn<Msg, ()>, ProtocolError> {
                Ok(Turn::Wait)
            }
        }
        assert!(matches!(
            run_pair(Server, Bad),
            Err(ProtocolError::UnexpectedMessage { .. })
        ));
        // A ping-pong that never ends hits the limit.
        struct Echo;
        impl Role for Echo {
            type Message = Msg;
            type Output = ();
            fn start(&mut self) -> Result<Turn<Msg, ()>, ProtocolError> {
                Ok(Turn::Send(Msg::Req(1)))
            }
            fn receive(&mut self, _: Msg) -> Result<Turn<Msg, ()>, ProtocolError> {
                Ok(Turn::Send(Msg::Req(1)))
            }
        }
        assert!(matches!(
            run_pair_with_limit(Server, Echo, 100),
            Err(ProtocolError::TooManyMessages { limit: 100 })
        ));
    }
}
