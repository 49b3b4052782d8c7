//! Fiber routes: spans of fiber and the events along them, and the loss budget.
//!
//! A [`Route`] is what an operator knows about a link: a list of [`Span`]s laid end to end (each
//! with its attenuation in the O and C bands, group index, effective area and Rayleigh backscatter
//! coefficient) and a list of [`Event`]s at positions measured from the near end (connectors,
//! splices, bends, taps, a break or the far end). It loads from TOML (feature `serde`), so a route
//! is a config file (see `examples/metro_25km.toml`).
//!
//! Attenuation at an arbitrary wavelength interpolates the two band values with the Rayleigh law
//! `alpha(lambda) = a + b / lambda^4` through the 1310 nm and 1550 nm points, the dominant
//! wavelength dependence of silica between the water peak and the infrared edge (Keiser, *Optical
//! Fiber Communications*, ch. 3). It ignores the 1383 nm water peak (G.652.D fiber has none worth
//! modelling), so use it between 1260 nm and 1625 nm only.

use crate::error::{FiberError, check_range};

/// Speed of light in vacuum [m/s].
pub const SPEED_OF_LIGHT_M_PER_S: f64 = 299_792_458.0;

/// Two events closer than this are rejected as overlapping [km] (10 cm: below any OTDR's
/// resolution, so no trace could tell them apart).
pub const MIN_EVENT_SEPARATION_KM: f64 = 1e-4;

/// One stretch of uniform fiber.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Span {
    /// Length [km], > 0.
    pub length_km: f64,
    /// Attenuation at 1310 nm [dB/km] (G.652: 0.32-0.35).
    pub attenuation_1310_db_per_km: f64,
    /// Attenuation at 1550 nm [dB/km] (G.652: 0.18-0.22).
    pub attenuation_1550_db_per_km: f64,
    /// Group index (G.652 at 1550 nm: 1.4682).
    pub group_index: f64,
    /// Effective area [um^2] (G.652: 80; G.655: 55-72). Scales the Raman capture for spans that
    /// differ from the reference fiber of the cross-sections.
    pub effective_area_um2: f64,
    /// Rayleigh backscatter coefficient at 1550 nm for a 1 ns pulse [dB] (G.652: about -82).
    /// Spans with different values produce the apparent "gainer" at a splice between them.
    pub backscatter_1550_db: f64,
}

impl Default for Span {
    /// 1 km of G.652.D standard single-mode fiber.
    fn default() -> Self {
        Self {
            length_km: 1.0,
            attenuation_1310_db_per_km: 0.33,
            attenuation_1550_db_per_km: 0.19,
            group_index: 1.4682,
            effective_area_um2: 80.0,
            backscatter_1550_db: -82.0,
        }
    }
}

impl Span {
    /// A span of standard G.652.D fiber of `length_km`.
    #[must_use]
    pub fn standard(length_km: f64) -> Self {
        Self {
            length_km,
            ..Self::default()
        }
    }

    /// Attenuation at `wavelength_nm` [dB/km] by the Rayleigh fit `a + b / lambda^4` through the
    /// two band values (see the module docs), never below 0.
    #[must_use]
    pub fn attenuation_db_per_km(&self, wavelength_nm: f64) -> f64 {
        rayleigh_interp(
            wavelength_nm,
            self.attenuation_1310_db_per_km,
            self.attenuation_1550_db_per_km,
        )
        .max(0.0)
    }

    /// Backscatter coefficient at `wavelength_nm` for a 1 ns pulse [dB]: the 1550 nm value plus
    /// the typical O/C difference (-77 dB at 1310 nm vs -82 dB at 1550 nm, PHYSICS.md), linear in
    /// wavelength between the bands and held constant outside them.
    #[must_use]
    pub fn backscatter_db(&self, wavelength_nm: f64) -> f64 {
        let t = ((1550.0 - wavelength_nm) / 240.0).clamp(-0.3, 1.0);
        self.backscatter_1550_db + 5.0 * t
    }

    fn validate(&self) -> Result<(), FiberError> {
        check_range(
            "length_km",
            self.length_km,
            1e-6,
            1e5,
            "must be > 0 and finite",
        )?;
        check_range(
            "attenuation_1310_db_per_km",
            self.attenuation_1310_db_per_km,
            0.0,
            10.0,
            "must be in [0, 10] dB/km",
        )?;
        check_range(
            "attenuation_1550_db_per_km",
            self.attenuation_1550_db_per_km,
            0.0,
            10.0,
            "must be in [0, 10] dB/km",
        )?;
        check_range(
            "group_index",
            self.group_index,
            1.0,
            2.0,
            "must be in [1, 2]",
        )?;
        check_range(
            "effective_area_um2",
            self.effective_area_um2,
            1.0,
            1000.0,
            "must be in [1, 1000] um^2",
        )?;
        check_range(
            "backscatter_1550_db",
            self.backscatter_1550_db,
            -120.0,
            -40.0,
            "must be in [-120, -40] dB",
        )
    }
}

/// `a + b / lambda^4` through (1310, v1310) and (1550, v1550), evaluated at `wavelength_nm`.
fn rayleigh_interp(wavelength_nm: f64, v1310: f64, v1550: f64) -> f64 {
    let x = |l: f64| (1000.0 / l).powi(4);
    let (x1, x2) = (x(1310.0), x(1550.0));
    let b = (v1310 - v1550) / (x1 - x2);
    let a = v1550 - b * x2;
    a + b * x(wavelength_nm)
}

/// What kind of event sits on the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum EventKind {
    /// A mated connector pair: 0.2-0.5 dB, reflectance -35 to -55 dB (UPC) or below -60 dB (APC).
    Connector,
    /// A fusion splice: 0.02-0.1 dB, non-reflective.
    Splice,
    /// A macro-bend: non-reflective, worse at 1550 nm than at 1310 nm.
    Bend,
    /// A clip-on or bend tap: an eavesdropper's coupler; 0.5-3 dB, non-reflective.
    Tap,
    /// A break: the fiber ends here (reflective or not); nothing after it is reachable.
    Break,
    /// The far end of the route (an open connector or a terminated port).
    End,
}

impl EventKind {
    /// Whether light stops at this event.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(self, EventKind::Break | EventKind::End)
    }

    /// Short lowercase name, as in route files and tables.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Connector => "connector",
            EventKind::Splice => "splice",
            EventKind::Bend => "bend",
            EventKind::Tap => "tap",
            EventKind::Break => "break",
            EventKind::End => "end",
        }
    }
}

/// One event on a route.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Event {
    /// Distance from the near end [km].
    pub position_km: f64,
    /// What it is.
    pub kind: EventKind,
    /// Insertion loss at 1550 nm [dB], >= 0 (ignored for terminal events).
    #[cfg_attr(feature = "serde", serde(default))]
    pub loss_db: f64,
    /// Insertion loss at 1310 nm [dB]; when absent, equal to `loss_db` except for bends and taps,
    /// whose 1310 nm loss defaults to half the 1550 nm loss (macro-bend loss grows with mode-field
    /// diameter, hence with wavelength).
    #[cfg_attr(feature = "serde", serde(default))]
    pub loss_1310_db: Option<f64>,
    /// Reflectance [dB] (negative; -14.7 dB is a clean glass/air cleave); `None` for a
    /// non-reflective event.
    #[cfg_attr(feature = "serde", serde(default))]
    pub reflectance_db: Option<f64>,
}

impl Event {
    /// A non-reflective event.
    #[must_use]
    pub fn new(position_km: f64, kind: EventKind, loss_db: f64) -> Self {
        Self {
            position_km,
            kind,
            loss_db,
            loss_1310_db: None,
            reflectance_db: None,
        }
    }

    /// The same event with a reflectance [dB].
    #[must_use]
    pub fn with_reflectance(mut self, reflectance_db: f64) -> Self {
        self.reflectance_db = Some(reflectance_db);
        self
    }

    /// Insertion loss at `wavelength_nm` [dB]: linear in wavelength between the 1310 and 1550 nm
    /// values, held at the nearer band value outside.
    #[must_use]
    pub fn loss_at_db(&self, wavelength_nm: f64) -> f64 {
        if self.kind.is_terminal() {
            return 0.0;
        }
        let l1310 = self.loss_1310_db.unwrap_or(match self.kind {
            EventKind::Bend | EventKind::Tap => 0.5 * self.loss_db,
            _ => self.loss_db,
        });
        let t = ((wavelength_nm - 1310.0) / 240.0).clamp(0.0, 1.0);
        l1310 + t * (self.loss_db - l1310)
    }

    fn validate(&self, index: usize, length_km: f64) -> Result<(), FiberError> {
        if !self.position_km.is_finite()
            || self.position_km < 0.0
            || self.position_km > length_km + 1e-9
        {
            return Err(FiberError::EventOutsideRoute {
                index,
                position_km: self.position_km,
                length_km,
            });
        }
        check_range("loss_db", self.loss_db, 0.0, 60.0, "must be in [0, 60] dB")?;
        if let Some(l) = self.loss_1310_db {
            check_range("loss_1310_db", l, 0.0, 60.0, "must be in [0, 60] dB")?;
        }
        if let Some(r) = self.reflectance_db {
            check_range(
                "reflectance_db",
                r,
                -100.0,
                -10.0,
                "must be in [-100, -10] dB",
            )?;
        }
        Ok(())
    }
}

/// The serialized form of a route (what a TOML file holds), validated into a [`Route`].
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct RouteFile {
    /// A name for tables and file headers.
    #[cfg_attr(feature = "serde", serde(default))]
    pub name: String,
    /// Spans from the near end.
    pub spans: Vec<Span>,
    /// Events, any order (sorted on validation).
    #[cfg_attr(feature = "serde", serde(default))]
    pub events: Vec<Event>,
}

/// A validated fiber route: spans end to end and sorted, non-overlapping events inside it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RouteFile", into = "RouteFile"))]
pub struct Route {
    name: String,
    spans: Vec<Span>,
    events: Vec<Event>,
    /// Cumulative start of each span [km], plus the total length at the end.
    boundaries_km: Vec<f64>,
}

impl TryFrom<RouteFile> for Route {
    type Error = FiberError;
    fn try_from(f: RouteFile) -> Result<Self, FiberError> {
        Route::new(f.name, f.spans, f.events)
    }
}

impl From<Route> for RouteFile {
    fn from(r: Route) -> Self {
        RouteFile {
            name: r.name,
            spans: r.spans,
            events: r.events,
        }
    }
}

impl Route {
    /// Validates and builds a route.
    ///
    /// # Errors
    /// [`FiberError::Empty`] without spans; [`FiberError::InvalidParameter`] for a negative or
    /// non-finite length, loss or index; [`FiberError::EventOutsideRoute`],
    /// [`FiberError::OverlappingEvents`] (closer than [`MIN_EVENT_SEPARATION_KM`]) and
    /// [`FiberError::EventAfterEnd`] for misplaced events.
    pub fn new(
        name: impl Into<String>,
        spans: Vec<Span>,
        mut events: Vec<Event>,
    ) -> Result<Self, FiberError> {
        if spans.is_empty() {
            return Err(FiberError::Empty("a route needs at least one span"));
        }
        let mut boundaries_km = Vec::with_capacity(spans.len() + 1);
        let mut z = 0.0;
        for s in &spans {
            s.validate()?;
            boundaries_km.push(z);
            z += s.length_km;
        }
        boundaries_km.push(z);
        for (i, e) in events.iter().enumerate() {
            e.validate(i, z)?;
        }
        // Stable sort keeps the user's indices meaningful in errors about ties.
        let mut order: Vec<usize> = (0..events.len()).collect();
        order.sort_by(|&a, &b| events[a].position_km.total_cmp(&events[b].position_km));
        for w in order.windows(2) {
            let (a, b) = (&events[w[0]], &events[w[1]]);
            if b.position_km - a.position_km < MIN_EVENT_SEPARATION_KM {
                return Err(FiberError::OverlappingEvents {
                    first: w[0],
                    second: w[1],
                    first_km: a.position_km,
                    second_km: b.position_km,
                });
            }
            if a.kind.is_terminal() {
                return Err(FiberError::EventAfterEnd {
                    index: w[1],
                    position_km: b.position_km,
                });
            }
        }
        events.sort_by(|a, b| a.position_km.total_cmp(&b.position_km));
        Ok(Self {
            name: name.into(),
            spans,
            events,
            boundaries_km,
        })
    }

    /// Parses and validates a TOML route file (see `examples/metro_25km.toml`).
    ///
    /// # Errors
    /// [`FiberError::Toml`] for malformed TOML or unknown fields, and every error of [`Route::new`].
    #[cfg(feature = "serde")]
    pub fn from_toml_str(text: &str) -> Result<Self, FiberError> {
        let file: RouteFile = toml::from_str(text).map_err(|e| FiberError::Toml(e.to_string()))?;
        Route::try_from(file)
    }

    /// The route as TOML text.
    ///
    /// # Errors
    /// [`FiberError::Toml`] if serialization fails (it does not for a valid route).
    #[cfg(feature = "serde")]
    pub fn to_toml_string(&self) -> Result<String, FiberError> {
        toml::to_string_pretty(&RouteFile::from(self.clone()))
            .map_err(|e| FiberError::Toml(e.to_string()))
    }

    /// The route's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The spans, from the near end.
    #[must_use]
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// The events, sorted by position.
    #[must_use]
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Total fiber length [km] (sum of spans).
    #[must_use]
    pub fn length_km(&self) -> f64 {
        self.boundaries_km.last().copied().unwrap_or(0.0)
    }

    /// Where light stops [km]: the first break or end event, else the end of the last span.
    #[must_use]
    pub fn reach_km(&self) -> f64 {
        self.events
            .iter()
            .find(|e| e.kind.is_terminal())
            .map_or(self.length_km(), |e| e.position_km)
    }

    /// A copy of the route with one more event (e.g. a tap for a tamper scenario).
    ///
    /// # Errors
    /// As [`Route::new`] (event outside the route, overlapping another event, after the end).
    pub fn with_event(&self, event: Event) -> Result<Self, FiberError> {
        let mut events = self.events.clone();
        events.push(event);
        Route::new(self.name.clone(), self.spans.clone(), events)
    }

    /// The span containing `position_km` (the last span for the far end).
    #[must_use]
    pub fn span_at(&self, position_km: f64) -> &Span {
        let i = self
            .boundaries_km
            .partition_point(|&b| b <= position_km)
            .saturating_sub(1)
            .min(self.spans.len() - 1);
        &self.spans[i]
    }

    /// The first span boundary strictly after `position_km` (infinity past the last one).
    #[must_use]
    pub fn next_boundary_km(&self, position_km: f64) -> f64 {
        self.boundaries_km
            .iter()
            .copied()
            .find(|&b| b > position_km)
            .unwrap_or(f64::INFINITY)
    }

    /// Fiber attenuation integrated from the near end to `position_km` [dB] (events excluded).
    #[must_use]
    pub fn fiber_loss_to_db(&self, position_km: f64, wavelength_nm: f64) -> f64 {
        let mut loss = 0.0;
        for (s, &start) in self.spans.iter().zip(&self.boundaries_km) {
            if position_km <= start {
                break;
            }
            let len = (position_km - start).min(s.length_km);
            loss += len * s.attenuation_db_per_km(wavelength_nm);
        }
        loss
    }

    /// One-way loss from the near end to `position_km` [dB]: fiber plus every event strictly
    /// before the position.
    #[must_use]
    pub fn loss_to_db(&self, position_km: f64, wavelength_nm: f64) -> f64 {
        self.fiber_loss_to_db(position_km, wavelength_nm)
            + self
                .events
                .iter()
                .take_while(|e| e.position_km < position_km)
                .map(|e| e.loss_at_db(wavelength_nm))
                .sum::<f64>()
    }

    /// End-to-end link loss at `wavelength_nm` [dB]: fiber and all events up to the reach.
    /// A broken route has infinite loss.
    #[must_use]
    pub fn total_loss_db(&self, wavelength_nm: f64) -> f64 {
        if self.events.iter().any(|e| e.kind == EventKind::Break) {
            return f64::INFINITY;
        }
        let end = self.length_km();
        self.fiber_loss_to_db(end, wavelength_nm)
            + self
                .events
                .iter()
                .map(|e| e.loss_at_db(wavelength_nm))
                .sum::<f64>()
    }

    /// End-to-end transmittance at `wavelength_nm` (0 for a broken route): `10^(-loss/10)`.
    #[must_use]
    pub fn transmittance(&self, wavelength_nm: f64) -> f64 {
        10f64.powf(-self.total_loss_db(wavelength_nm) / 10.0)
    }

    /// A loss budget line per span and event, for reports.
    #[must_use]
    pub fn loss_budget(&self, wavelength_nm: f64) -> LossBudget {
        let fiber_db = self.fiber_loss_to_db(self.length_km(), wavelength_nm);
        let events_db: f64 = self
            .events
            .iter()
            .map(|e| e.loss_at_db(wavelength_nm))
            .sum();
        let total_db = self.total_loss_db(wavelength_nm);
        LossBudget {
            wavelength_nm,
            length_km: self.length_km(),
            fiber_db,
            events_db,
            total_db,
            transmittance: 10f64.powf(-total_db / 10.0),
        }
    }
}

/// The loss budget of a route at one wavelength.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LossBudget {
    /// Wavelength [nm].
    pub wavelength_nm: f64,
    /// Route length [km].
    pub length_km: f64,
    /// Fiber attenuation [dB].
    pub fiber_db: f64,
    /// Sum of event insertion losses [dB].
    pub events_db: f64,
    /// Total [dB] (infinite for a broken route).
    pub total_db: f64,
    /// `10^(-total/10)`.
    pub transmittance: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attenuation_interpolates_band_values() {
        let s = Span::default();
        assert!((s.attenuation_db_per_km(1310.0) - 0.33).abs() < 1e-12);
        assert!((s.attenuation_db_per_km(1550.0) - 0.19).abs() < 1e-12);
        let mid = s.attenuation_db_per_km(1430.0);
        assert!(mid < 0.33 && mid > 0.19);
    }

    #[test]
    fn loss_budget_adds_up() {
        let r = Route::new(
            "t",
            vec![Span::standard(10.0), Span::standard(15.0)],
            vec![
                Event::new(0.0, EventKind::Connector, 0.3).with_reflectance(-50.0),
                Event::new(10.0, EventKind::Splice, 0.05),
                Event::new(25.0, EventKind::End, 0.0).with_reflectance(-14.7),
            ],
        )
        .unwrap();
        let b = r.loss_budget(1550.0);
        assert!((b.fiber_db - 25.0 * 0.19).abs() < 1e-9);
        assert!((b.events_db - 0.35).abs() < 1e-12);
        assert!((b.total_db - (4.75 + 0.35)).abs() < 1e-9);
        assert!((r.loss_to_db(12.0, 1550.0) - (12.0 * 0.19 + 0.35)).abs() < 1e-9);
    }

    #[test]
    fn bad_routes_are_typed_errors() {
        let s = vec![Span::standard(5.0)];
        assert!(matches!(
            Route::new(
                "x",
                s.clone(),
                vec![Event::new(6.0, EventKind::Splice, 0.1)]
            ),
            Err(FiberError::EventOutsideRoute { .. })
        ));
        assert!(matches!(
            Route::new("x", vec![Span::standard(-1.0)], vec![]),
            Err(FiberError::InvalidParameter { .. })
        ));
        assert!(matches!(
            Route::new(
                "x",
                s.clone(),
                vec![
                    Event::new(1.0, EventKind::Splice, 0.1),
                    Event::new(1.0, EventKind::Bend, 0.1)
                ]
            ),
            Err(FiberError::OverlappingEvents { .. })
        ));
        assert!(matches!(
            Route::new(
                "x",
                s,
                vec![
                    Event::new(1.0, EventKind::Break, 0.0),
                    Event::new(2.0, EventKind::Splice, 0.1)
                ]
            ),
            Err(FiberError::EventAfterEnd { .. })
        ));
        assert!(matches!(
            Route::new("x", vec![], vec![]),
            Err(FiberError::Empty(_))
        ));
    }
}
