//! Telcordia SR-4731 issue 2 ("Bellcore SOR", version 2.00) writer and reader.
//!
//! Layout (all integers little-endian, strings NUL-terminated): a `Map` block listing every block
//! with its version and size, then `GenParams` (cable/fiber ids, fiber type, wavelength, build
//! condition), `SupParams` (supplier, mainframe, module, software), `FxdParams` (acquisition:
//! date, units, wavelength in 0.1 nm, pulse width, data spacing as the time for 10 000 points in
//! 100 ps, group index x 1e5, backscatter coefficient in -0.1 dB, averages, thresholds),
//! `KeyEvents` (per event: one-way time of travel in 0.1 ns, slope, loss, reflectance, the
//! 8-character event code/technique, five marker times, comment; then the summary: end-to-end
//! loss and ORL), `DataPts` (one trace of u16 points in -0.001 dB), and `Cksum`: CRC-16/CCITT
//! (polynomial 0x1021, initial 0xFFFF, no reflection; "CCITT-FALSE") over every byte before the
//! checksum value.
//!
//! The reader checks the map against the file (sizes add up, every header matches its map entry),
//! the checksum, and every field it turns into a [`Trace`]; anything wrong is a typed
//! [`SorError`], never a panic. Unknown blocks (vendor blocks, `LnkParams`) are skipped.

use crate::error::{FiberError, SorError};
use crate::otdr::{DetectedEvent, DetectedKind, Trace};
use crate::route::SPEED_OF_LIGHT_M_PER_S;

const CRC16: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_IBM_3740);
const VERSION: u16 = 200;

/// Descriptive fields of a SOR file (GenParams and SupParams).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SorMeta {
    /// Cable identifier.
    pub cable_id: String,
    /// Fiber identifier.
    pub fiber_id: String,
    /// ITU-T fiber type (652 for G.652).
    pub fiber_type: u16,
    /// Originating location.
    pub location_a: String,
    /// Terminating location.
    pub location_b: String,
    /// Operator.
    pub operator: String,
    /// Free comment.
    pub comment: String,
    /// Supplier name.
    pub supplier: String,
    /// OTDR mainframe id.
    pub otdr: String,
    /// Software that wrote the file.
    pub software: String,
    /// Acquisition time [Unix seconds].
    pub timestamp_s: u32,
}

impl Default for SorMeta {
    fn default() -> Self {
        Self {
            cable_id: String::new(),
            fiber_id: String::new(),
            fiber_type: 652,
            location_a: String::new(),
            location_b: String::new(),
            operator: String::new(),
            comment: String::new(),
            supplier: "qkd-rs".into(),
            otdr: "qkd-fiber simulated OTDR".into(),
            software: concat!("qkd-fiber ", env!("CARGO_PKG_VERSION")).into(),
            timestamp_s: 0,
        }
    }
}

/// One key event as stored in a SOR file.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SorEvent {
    /// Position [m] (from the one-way time of travel and the group index).
    pub position_m: f64,
    /// Loss [dB] (0.001 dB resolution).
    pub loss_db: f64,
    /// Reflectance [dB] (0 when non-reflective, as the format stores it).
    pub reflectance_db: f64,
    /// Slope of the fiber before the event [dB/km].
    pub slope_db_per_km: f64,
    /// The 6-character event code + 2-character technique, e.g. `1F9999LS`.
    pub code: String,
    /// Comment.
    pub comment: String,
}

impl SorEvent {
    /// Whether the code marks a reflective event.
    #[must_use]
    pub fn is_reflective(&self) -> bool {
        matches!(self.code.as_bytes().first(), Some(b'1' | b'2'))
    }

    /// Whether the code marks the end of the fiber.
    #[must_use]
    pub fn is_end(&self) -> bool {
        self.code.as_bytes().get(1) == Some(&b'E')
    }
}

/// A parsed SOR file.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SorFile {
    /// Descriptive fields.
    pub meta: SorMeta,
    /// The trace (levels at 0.001 dB resolution).
    pub trace: Trace,
    /// Key events.
    pub events: Vec<SorEvent>,
    /// End-to-end loss from the KeyEvents summary [dB].
    pub total_loss_db: f64,
}

// ---------------------------------------------------------------- writing

struct W(Vec<u8>);

impl W {
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i16(&mut self, v: i16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn fixed(&mut self, s: &str) {
        self.0.extend_from_slice(s.as_bytes());
    }
    fn string(&mut self, s: &str) {
        // NUL would end the field early; the format has no escape, so drop it.
        self.0.extend(s.bytes().filter(|&b| b != 0));
        self.0.push(0);
    }
}

fn to_int<T: TryFrom<i64>>(v: f64, what: &'static str) -> Result<T, SorError> {
    if !v.is_finite() {
        return Err(SorError::OutOfRange(what));
    }
    #[allow(clippy::cast_possible_truncation)] // range-checked by try_from below
    let r = v.round() as i64;
    T::try_from(r).map_err(|_| SorError::OutOfRange(what))
}

/// Writes `trace` with `events` as a SOR version 2 file.
///
/// Levels are stored at 0.001 dB resolution in `[0, -65.535]` dB (lower levels clip, as in every
/// OTDR's file); events' positions as one-way time in 0.1 ns (2 cm).
///
/// # Errors
/// [`FiberError::Sor`] with [`SorError::OutOfRange`] when a value does not fit its field (a trace
/// of more than 2^32 points, a spacing beyond the u32 time field, a loss beyond +-32 dB).
pub fn write_sor(
    trace: &Trace,
    events: &[DetectedEvent],
    meta: &SorMeta,
) -> Result<Vec<u8>, FiberError> {
    let n = trace.group_index;
    let c = SPEED_OF_LIGHT_M_PER_S;
    let time_01ns = |m: f64| to_int::<u32>(m * n / c * 1e10, "event time");
    let npts = u32::try_from(trace.len()).map_err(|_| SorError::OutOfRange("data points"))?;

    let mut genp = W(Vec::new());
    genp.string("GenParams");
    genp.fixed("EN");
    genp.string(&meta.cable_id);
    genp.string(&meta.fiber_id);
    genp.u16(meta.fiber_type);
    genp.u16(to_int(trace.wavelength_nm, "wavelength")?);
    genp.string(&meta.location_a);
    genp.string(&meta.location_b);
    genp.string("");
    genp.fixed("BC");
    genp.i32(0);
    genp.i32(0);
    genp.string(&meta.operator);
    genp.string(&meta.comment);

    let mut sup = W(Vec::new());
    sup.string("SupParams");
    for s in [&meta.supplier, &meta.otdr, "", "", "", &meta.software, ""] {
        sup.string(s);
    }

    let mut fxd = W(Vec::new());
    fxd.string("FxdParams");
    fxd.u32(meta.timestamp_s);
    fxd.fixed("mt");
    fxd.u16(to_int(trace.wavelength_nm * 10.0, "wavelength")?);
    fxd.i32(0);
    fxd.i32(0);
    fxd.u16(1);
    fxd.u16(to_int(trace.pulse_width_ns, "pulse width")?);
    // Time for 10 000 points in 100 ps = per-point one-way time in 10 fs.
    fxd.u32(to_int(
        trace.sample_spacing_m * n / c * 1e14,
        "data spacing",
    )?);
    fxd.u32(npts);
    fxd.u32(to_int(n * 1e5, "group index")?);
    fxd.u16(to_int(
        -trace.backscatter_db * 10.0,
        "backscatter coefficient",
    )?);
    fxd.u32(trace.averages);
    fxd.u16(0);
    // Acquisition range as round-trip time in 100 ps.
    fxd.u32(to_int(trace.range_m() * n / c * 2e10, "acquisition range")?);
    fxd.i32(0);
    fxd.i32(0);
    fxd.u16(0);
    fxd.i16(0);
    fxd.u16(0);
    fxd.u16(30); // loss threshold 0.030 dB
    fxd.u16(65_000); // reflectance threshold -65 dB
    fxd.u16(3000); // end-of-fiber threshold 3 dB
    fxd.fixed("ST");
    for _ in 0..4 {
        fxd.i32(0);
    }

    let mut key = W(Vec::new());
    key.string("KeyEvents");
    key.u16(u16::try_from(events.len()).map_err(|_| SorError::OutOfRange("event count"))?);
    let mut total_loss = 0.0;
    let res_m = trace.resolution_m();
    for (i, e) in events.iter().enumerate() {
        key.u16(u16::try_from(i + 1).map_err(|_| SorError::OutOfRange("event number"))?);
        key.u32(time_01ns(e.position_m)?);
        key.i16(to_int(
            e.attenuation_before_db_per_km.unwrap_or(0.0) * 1000.0,
            "slope",
        )?);
        let loss = e.loss_db.unwrap_or(0.0);
        total_loss += loss.max(0.0);
        key.i16(to_int(loss * 1000.0, "event loss")?);
        key.i32(to_int(
            e.reflectance_db.unwrap_or(0.0) * 1000.0,
            "reflectance",
        )?);
        let kind = match (e.reflectance_db.is_some(), e.saturated) {
            (false, _) => '0',
            (true, false) => '1',
            (true, true) => '2',
        };
        let mode = if e.kind == DetectedKind::End {
            'E'
        } else {
            'F'
        };
        key.fixed(&format!("{kind}{mode}9999LS"));
        let start = time_01ns(e.position_m)?;
        let end = time_01ns(e.position_m + res_m)?;
        for v in [start, start, end, end, start] {
            key.u32(v);
        }
        key.string(e.kind.name());
    }
    let end_m = events
        .iter()
        .find(|e| e.kind == DetectedKind::End)
        .map_or(trace.range_m(), |e| e.position_m);
    let fiber_loss = events
        .iter()
        .filter_map(|e| e.attenuation_before_db_per_km)
        .next()
        .unwrap_or(0.0)
        * end_m
        * 1e-3;
    key.i32(to_int((total_loss + fiber_loss) * 1000.0, "total loss")?);
    key.i32(0);
    key.u32(time_01ns(end_m)?);
    key.u16(0);
    key.i32(0);
    key.u32(time_01ns(end_m)?);

    let mut data = W(Vec::with_capacity(trace.len() * 2 + 32));
    data.string("DataPts");
    data.u32(npts);
    data.u16(1);
    data.u32(npts);
    data.u16(1000);
    for &v in &trace.levels_db {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        // clamped to [0, 65535] first, so the conversion is exact
        let p = (-v * 1000.0).round().clamp(0.0, 65_535.0) as u16;
        data.u16(p);
    }

    let blocks: [(&str, &[u8]); 5] = [
        ("GenParams", &genp.0),
        ("SupParams", &sup.0),
        ("FxdParams", &fxd.0),
        ("KeyEvents", &key.0),
        ("DataPts", &data.0),
    ];
    let cksum_len = "Cksum".len() + 1 + 2;
    let mut map_len = 4 + 2 + 4 + 2;
    for (name, _) in &blocks {
        map_len += name.len() + 1 + 2 + 4;
    }
    map_len += "Cksum".len() + 1 + 2 + 4;
    let mut out = W(Vec::with_capacity(
        map_len + blocks.iter().map(|b| b.1.len()).sum::<usize>() + 8,
    ));
    out.string("Map");
    out.u16(VERSION);
    out.u32(u32::try_from(map_len).map_err(|_| SorError::OutOfRange("map size"))?);
    out.u16(7);
    for (name, body) in &blocks {
        out.string(name);
        out.u16(VERSION);
        out.u32(u32::try_from(body.len()).map_err(|_| SorError::OutOfRange("block size"))?);
    }
    out.string("Cksum");
    out.u16(VERSION);
    out.u32(u32::try_from(cksum_len).map_err(|_| SorError::OutOfRange("block size"))?);
    for (_, body) in &blocks {
        out.0.extend_from_slice(body);
    }
    out.string("Cksum");
    let crc = CRC16.checksum(&out.0);
    out.u16(crc);
    Ok(out.0)
}

// ---------------------------------------------------------------- reading

struct R<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> R<'a> {
    fn take(&mut self, k: usize, what: &'static str) -> Result<&'a [u8], SorError> {
        if self.pos + k > self.end {
            return Err(SorError::Truncated {
                offset: self.pos,
                what,
            });
        }
        let s = &self.buf[self.pos..self.pos + k];
        self.pos += k;
        Ok(s)
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, SorError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn i16(&mut self, what: &'static str) -> Result<i16, SorError> {
        let b = self.take(2, what)?;
        Ok(i16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, SorError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i32(&mut self, what: &'static str) -> Result<i32, SorError> {
        let b = self.take(4, what)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn fixed(&mut self, k: usize, what: &'static str) -> Result<String, SorError> {
        Ok(String::from_utf8_lossy(self.take(k, what)?).into_owned())
    }
    fn string(&mut self, what: &'static str) -> Result<String, SorError> {
        let rest = &self.buf[self.pos..self.end];
        let Some(z) = rest.iter().position(|&b| b == 0) else {
            return Err(SorError::Truncated {
                offset: self.end,
                what,
            });
        };
        let s = String::from_utf8_lossy(&rest[..z]).into_owned();
        self.pos += z + 1;
        Ok(s)
    }
}

/// Reads a SOR version 2 file.
///
/// # Errors
/// [`FiberError::Sor`]: [`SorError::NotVersion2`] without a version-2 map, [`SorError::Truncated`]
/// when the file or a block ends early, [`SorError::BadLayout`] when block sizes do not add up to
/// the file or a header does not match, [`SorError::MissingBlock`], [`SorError::Checksum`], and
/// [`SorError::BadField`] for values that make no trace (zero group index or spacing, several
/// pulse widths, point counts that disagree).
pub fn read_sor(bytes: &[u8]) -> Result<SorFile, FiberError> {
    Ok(read_inner(bytes)?)
}

fn read_inner(bytes: &[u8]) -> Result<SorFile, SorError> {
    let mut r = R {
        buf: bytes,
        pos: 0,
        end: bytes.len(),
    };
    let head = r.take(4, "map header")?;
    if head != b"Map\0" {
        return Err(SorError::NotVersion2(0));
    }
    let version = r.u16("map version")?;
    if !(200..300).contains(&version) {
        return Err(SorError::NotVersion2(version));
    }
    let map_size = r.u32("map size")? as usize;
    let nblocks = r.u16("block count")?;
    if nblocks == 0 {
        return Err(SorError::BadLayout("block count 0".into()));
    }
    if map_size > bytes.len() {
        return Err(SorError::Truncated {
            offset: bytes.len(),
            what: "map block",
        });
    }
    r.end = map_size;
    let mut blocks = Vec::new();
    let mut pos = map_size;
    for _ in 1..nblocks {
        let name = r.string("block name")?;
        let _v = r.u16("block version")?;
        let size = r.u32("block size")? as usize;
        if size > bytes.len() || pos + size > bytes.len() {
            return Err(SorError::Truncated {
                offset: bytes.len(),
                what: "a block listed in the map",
            });
        }
        blocks.push((name, pos, size));
        pos += size;
    }
    if pos != bytes.len() {
        return Err(SorError::BadLayout(format!(
            "blocks end at byte {pos}, file has {}",
            bytes.len()
        )));
    }
    let find = |name: &'static str| {
        blocks
            .iter()
            .find(|b| b.0 == name)
            .map(|&(_, p, s)| (p, s))
            .ok_or(SorError::MissingBlock(name))
    };
    let open = |name: &'static str| -> Result<R<'_>, SorError> {
        let (p, s) = find(name)?;
        let mut b = R {
            buf: bytes,
            pos: p,
            end: p + s,
        };
        let h = b.take(name.len() + 1, "block header")?;
        if &h[..name.len()] != name.as_bytes() || h[name.len()] != 0 {
            return Err(SorError::BadLayout(format!("block at {p} is not {name}")));
        }
        Ok(b)
    };

    // Checksum first: a corrupt file is reported as such before any field is trusted.
    let mut ck = open("Cksum")?;
    let stored = ck.u16("checksum")?;
    let computed = CRC16.checksum(&bytes[..ck.pos - 2]);
    if stored != computed {
        return Err(SorError::Checksum { stored, computed });
    }

    let mut meta = SorMeta::default();
    let mut g = open("GenParams")?;
    g.fixed(2, "language")?;
    meta.cable_id = g.string("cable id")?;
    meta.fiber_id = g.string("fiber id")?;
    meta.fiber_type = g.u16("fiber type")?;
    let _wl_nm = g.u16("nominal wavelength")?;
    meta.location_a = g.string("location A")?;
    meta.location_b = g.string("location B")?;
    g.string("cable code")?;
    g.fixed(2, "build condition")?;
    g.i32("user offset")?;
    g.i32("user offset distance")?;
    meta.operator = g.string("operator")?;
    meta.comment = g.string("comment")?;

    let mut s = open("SupParams")?;
    meta.supplier = s.string("supplier")?;
    meta.otdr = s.string("OTDR")?;
    for what in ["OTDR s/n", "module", "module s/n"] {
        s.string(what)?;
    }
    meta.software = s.string("software")?;

    let mut f = open("FxdParams")?;
    meta.timestamp_s = f.u32("date")?;
    f.fixed(2, "distance units")?;
    let wl = f64::from(f.u16("wavelength")?) / 10.0;
    f.i32("acquisition offset")?;
    f.i32("acquisition offset distance")?;
    let npulse = f.u16("pulse width count")?;
    if npulse != 1 {
        return Err(SorError::BadField {
            field: "number of pulse widths",
            reason: format!("{npulse}; only single-pulse traces are supported"),
        });
    }
    let pulse = f64::from(f.u16("pulse width")?);
    let spacing = f64::from(f.u32("data spacing")?);
    let npts = f.u32("number of points")? as usize;
    let index = f64::from(f.u32("group index")?) / 1e5;
    let bsc = -f64::from(f.u16("backscatter coefficient")?) / 10.0;
    let averages = f.u32("averages")?;
    if !(1.0..=2.0).contains(&index) {
        return Err(SorError::BadField {
            field: "group index",
            reason: format!("{index} is outside [1, 2]"),
        });
    }
    if spacing <= 0.0 {
        return Err(SorError::BadField {
            field: "data spacing",
            reason: "zero".into(),
        });
    }
    if pulse <= 0.0 {
        return Err(SorError::BadField {
            field: "pulse width",
            reason: "zero".into(),
        });
    }
    let c = SPEED_OF_LIGHT_M_PER_S;
    let dx = spacing * 1e-14 * c / index;

    let mut k = open("KeyEvents")?;
    let nev = k.u16("event count")?;
    let mut events = Vec::with_capacity(usize::from(nev).min(4096));
    for _ in 0..nev {
        k.u16("event number")?;
        let t = f64::from(k.u32("event time")?);
        let slope = f64::from(k.i16("slope")?) / 1000.0;
        let loss = f64::from(k.i16("event loss")?) / 1000.0;
        let refl = f64::from(k.i32("reflectance")?) / 1000.0;
        let code = k.fixed(8, "event code")?;
        for _ in 0..5 {
            k.u32("event markers")?;
        }
        let comment = k.string("event comment")?;
        events.push(SorEvent {
            position_m: t * 1e-10 * c / index,
            loss_db: loss,
            reflectance_db: refl,
            slope_db_per_km: slope,
            code,
            comment,
        });
    }
    let total_loss_db = f64::from(k.i32("total loss")?) / 1000.0;

    let mut d = open("DataPts")?;
    let n1 = d.u32("number of points")? as usize;
    let ntr = d.u16("number of traces")?;
    if ntr != 1 {
        return Err(SorError::BadField {
            field: "number of traces",
            reason: format!("{ntr}; expected 1"),
        });
    }
    let n2 = d.u32("points in trace")? as usize;
    let scale = f64::from(d.u16("scale factor")?) / 1000.0;
    if n1 != npts || n2 != npts {
        return Err(SorError::BadField {
            field: "number of points",
            reason: format!("FxdParams says {npts}, DataPts says {n1} and {n2}"),
        });
    }
    if scale <= 0.0 {
        return Err(SorError::BadField {
            field: "scale factor",
            reason: "zero".into(),
        });
    }
    let raw = d.take(npts * 2, "data points")?;
    let levels_db = raw
        .chunks_exact(2)
        .map(|b| -f64::from(u16::from_le_bytes([b[0], b[1]])) * 0.001 * scale)
        .collect();
    let trace = Trace {
        sample_spacing_m: dx,
        levels_db,
        pulse_width_ns: pulse,
        wavelength_nm: wl,
        group_index: index,
        averages,
        backscatter_db: bsc,
        saturation_db: 0.0,
    };
    Ok(SorFile {
        meta,
        trace,
        events,
        total_loss_db,
    })
}
