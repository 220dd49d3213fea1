//! Device payloads and their validation into canonical [`MeasurementRecord`]s.
//!
//! Every refusal carries a dead-letter [`Reason`]; nothing here panics on any input. Floats
//! exist only at this edge: each value is range-checked and rounded once into the fixed-point
//! units of the record.
//!
//! - **PMU** (`pmu`): a synchrophasor sample, or an array of them:
//!   `{"ts_us": 1764064800020000, "seq": 1, "freq_hz": 50.01, "rocof_hz_s": -0.02,
//!     "phases": [{"v": 230.1, "v_ang": 0.0, "i": 12.5, "i_ang": -0.31}, …×3]}`
//!   (volts, amperes, radians; `ts_us` Unix microseconds, or `time` in RFC 3339).
//! - **Meter** (`meter`): IEC 61968-9 `MeterReadings` XML, bare or in an IEC 61968-100
//!   `EventMessage` ([`crate::cim`]).
//! - **Sensor** (`sensor`): `{"ts_us": …, "seq": 0, "quantity": "temperature_milli_c", "value": 21500}`.

use platone_primitives::{
	DatasetId, MeasurementRecord, Phasor, PmuSample, Quantity, Reading, SensorValue,
};
use platone_scd::Reason;
use serde::Deserialize;
use serde_json::Value;

/// Why a payload was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
	pub reason: Reason,
	pub detail: String,
}

impl Refusal {
	pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
		Refusal {
			reason,
			detail: detail.into(),
		}
	}
}

/// Device kinds, as they appear in topics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
	Pmu,
	Meter,
	Sensor,
}

impl Kind {
	pub fn as_str(self) -> &'static str {
		match self {
			Kind::Pmu => "pmu",
			Kind::Meter => "meter",
			Kind::Sensor => "sensor",
		}
	}

	pub fn parse(s: &str) -> Option<Kind> {
		[Kind::Pmu, Kind::Meter, Kind::Sensor]
			.into_iter()
			.find(|k| k.as_str() == s)
	}
}

/// Limits of plausible device data.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
	/// Receiver's clock, Unix µs.
	pub now_us: u64,
	/// How far device time may run ahead of the receiver's clock.
	pub max_future_us: u64,
}

pub(crate) fn check_time(ts_us: u64, limits: &Limits) -> Result<u64, Refusal> {
	if ts_us > limits.now_us.saturating_add(limits.max_future_us) {
		return Err(Refusal::new(
			Reason::FarFuture,
			format!(
				"device time {ts_us} µs is {} s ahead",
				(ts_us - limits.now_us) / 1_000_000
			),
		));
	}
	if platone_scd::too_old(ts_us, limits.now_us / 1_000) {
		return Err(Refusal::new(
			Reason::TooOld,
			format!(
				"device time {ts_us} µs is {} s old, past what the chain may still certify",
				limits.now_us.saturating_sub(ts_us) / 1_000_000
			),
		));
	}
	Ok(ts_us)
}

/// `value × scale`, rounded, within `min..=max` (in scaled units).
fn fixed(value: f64, scale: f64, min: f64, max: f64, what: &str) -> Result<i64, Refusal> {
	if !value.is_finite() {
		return Err(Refusal::new(
			Reason::NotANumber,
			format!("{what} is {value}"),
		));
	}
	let scaled = (value * scale).round();
	if !(min..=max).contains(&scaled) {
		return Err(Refusal::new(
			Reason::OutOfRange,
			format!("{what} = {value} out of range"),
		));
	}
	// In range of i64 by the check above (callers' bounds are well inside it).
	Ok(scaled as i64)
}

fn unsigned(value: f64, scale: f64, max: f64, what: &str) -> Result<u64, Refusal> {
	fixed(value, scale, 0.0, max, what).map(|v| v.unsigned_abs())
}

/// JSON numbers NaN/Infinity are not JSON; devices that send them as strings are read here.
fn number(v: &Value, what: &str) -> Result<f64, Refusal> {
	match v {
		Value::Number(n) => n
			.as_f64()
			.ok_or_else(|| Refusal::new(Reason::Malformed, format!("{what} is not a number"))),
		Value::String(s) => s
			.trim()
			.parse::<f64>()
			.map_err(|_| Refusal::new(Reason::Malformed, format!("{what} {s:?} is not a number"))),
		_ => Err(Refusal::new(
			Reason::Malformed,
			format!("{what} is not a number"),
		)),
	}
}

fn timestamp(obj: &Value, limits: &Limits) -> Result<u64, Refusal> {
	let ts = if let Some(ts) = obj.get("ts_us") {
		ts.as_u64()
			.ok_or_else(|| Refusal::new(Reason::Malformed, "ts_us is not an unsigned integer"))?
	} else if let Some(time) = obj.get("time").and_then(Value::as_str) {
		rfc3339_us(time)?
	} else {
		return Err(Refusal::new(Reason::Malformed, "no ts_us or time"));
	};
	check_time(ts, limits)
}

pub(crate) fn rfc3339_us(s: &str) -> Result<u64, Refusal> {
	let t = chrono::DateTime::parse_from_rfc3339(s)
		.map_err(|e| Refusal::new(Reason::Malformed, format!("time {s:?}: {e}")))?;
	u64::try_from(t.timestamp_micros())
		.map_err(|_| Refusal::new(Reason::OutOfRange, format!("time {s:?} before 1970")))
}

fn sequence(obj: &Value) -> Result<u32, Refusal> {
	match obj.get("seq") {
		None => Ok(0),
		Some(v) => v
			.as_u64()
			.and_then(|s| u32::try_from(s).ok())
			.ok_or_else(|| Refusal::new(Reason::OutOfRange, "seq is not a u32")),
	}
}

fn parse_json(bytes: &[u8]) -> Result<Value, Refusal> {
	serde_json::from_slice(bytes).map_err(|e| Refusal::new(Reason::Malformed, e.to_string()))
}

/// Objects of a payload that is one object or an array of them.
fn objects(value: Value) -> Result<Vec<Value>, Refusal> {
	match value {
		Value::Array(items) if !items.is_empty() => Ok(items),
		Value::Array(_) => Err(Refusal::new(Reason::Malformed, "empty array")),
		obj @ Value::Object(_) => Ok(vec![obj]),
		_ => Err(Refusal::new(
			Reason::Malformed,
			"expected an object or an array",
		)),
	}
}

/// Parses a PMU payload for `dataset`. All samples or none: one bad sample refuses the message.
pub fn pmu(
	bytes: &[u8],
	dataset: DatasetId,
	limits: &Limits,
) -> Result<Vec<MeasurementRecord>, Refusal> {
	objects(parse_json(bytes)?)?
		.iter()
		.map(|s| {
			let phases = s
				.get("phases")
				.and_then(Value::as_array)
				.filter(|p| p.len() == 3)
				.ok_or_else(|| Refusal::new(Reason::Malformed, "phases must be an array of 3"))?;
			let mut out = [Phasor::default(); 3];
			for (p, o) in phases.iter().zip(out.iter_mut()) {
				let field = |k: &str| {
					p.get(k)
						.ok_or_else(|| Refusal::new(Reason::Malformed, format!("phase lacks {k}")))
						.and_then(|v| number(v, k))
				};
				// Up to 1 MV and 100 kA; angles within ±2π.
				o.voltage_mv = unsigned(field("v")?, 1e3, 1e9, "voltage")?;
				o.voltage_angle_urad =
					fixed(field("v_ang")?, 1e6, -6.3e6, 6.3e6, "voltage angle")? as i32;
				o.current_ma = unsigned(field("i")?, 1e3, 1e8, "current")?;
				o.current_angle_urad =
					fixed(field("i_ang")?, 1e6, -6.3e6, 6.3e6, "current angle")? as i32;
			}
			let get = |k: &str| {
				s.get(k)
					.ok_or_else(|| Refusal::new(Reason::Malformed, format!("no {k}")))
					.and_then(|v| number(v, k))
			};
			Ok(MeasurementRecord {
				dataset,
				timestamp_us: timestamp(s, limits)?,
				sequence: sequence(s)?,
				reading: Reading::Pmu(PmuSample {
					// 40–70 Hz covers 50 and 60 Hz systems in any disturbance a PMU reports.
					frequency_mhz: fixed(get("freq_hz")?, 1e3, 40e3, 70e3, "frequency")? as u32,
					rocof_mhz_per_s: fixed(get("rocof_hz_s")?, 1e3, -100e3, 100e3, "ROCOF")? as i32,
					phases: out,
				}),
			})
		})
		.collect()
}

/// Parses a sensor payload for `dataset`.
pub fn sensor(
	bytes: &[u8],
	dataset: DatasetId,
	limits: &Limits,
) -> Result<Vec<MeasurementRecord>, Refusal> {
	objects(parse_json(bytes)?)?
		.iter()
		.map(|s| {
			let quantity = match s.get("quantity").and_then(Value::as_str) {
				Some("voltage_mv") => Quantity::VoltageMv,
				Some("current_ma") => Quantity::CurrentMa,
				Some("active_power_w") => Quantity::ActivePowerW,
				Some("reactive_power_var") => Quantity::ReactivePowerVar,
				Some("temperature_milli_c") => Quantity::TemperatureMilliC,
				Some("state_of_charge_permille") => Quantity::StateOfChargePermille,
				other => {
					return Err(Refusal::new(
						Reason::Malformed,
						format!("unknown quantity {other:?}"),
					))
				}
			};
			let value = number(s.get("value").unwrap_or(&Value::Null), "value")?;
			Ok(MeasurementRecord {
				dataset,
				timestamp_us: timestamp(s, limits)?,
				sequence: sequence(s)?,
				reading: Reading::Sensor(SensorValue {
					quantity,
					value: fixed(value, 1.0, -1e15, 1e15, "value")?,
				}),
			})
		})
		.collect()
}

/// A device topic: `platone/v1/{gateway}/{kind}/{device}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topic<'a> {
	pub gateway: &'a str,
	pub kind: Kind,
	pub device: &'a str,
}

impl<'a> Topic<'a> {
	pub fn parse(topic: &'a str) -> Result<Self, Refusal> {
		let mut parts = topic.split('/');
		match (
			parts.next(),
			parts.next(),
			parts.next(),
			parts.next(),
			parts.next(),
			parts.next(),
		) {
			(Some("platone"), Some("v1"), Some(gateway), Some(kind), Some(device), None)
				if !gateway.is_empty() && !device.is_empty() =>
			{
				Ok(Topic {
					gateway,
					kind: Kind::parse(kind).ok_or_else(|| {
						Refusal::new(Reason::Malformed, format!("unknown device kind {kind:?}"))
					})?,
					device,
				})
			}
			_ => Err(Refusal::new(
				Reason::Malformed,
				format!("topic {topic:?} is not platone/v1/<gateway>/<kind>/<device>"),
			)),
		}
	}

	pub fn format(gateway: &str, kind: Kind, device: &str) -> String {
		format!("platone/v1/{gateway}/{}/{device}", kind.as_str())
	}
}
