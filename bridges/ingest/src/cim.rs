//! IEC 61968-9 `MeterReadings` as head-end systems send them: XML, bare or in the IEC 61968-100
//! `EventMessage` envelope (`Header` with `Verb`, `Noun`, `Source`, `MessageID`; `Payload`),
//! parsed with quick-xml's serde support. Elements match by local name, so any namespace prefix
//! works; elements the SCD does not need (`UsagePoint`, `valuesInterval`, …) are skipped.
//!
//! Every `MeterReading` is its meter's: several per document, each with any number of
//! `IntervalBlocks` (interval deltas) and `Readings` (register reads: `bulkQuantity`,
//! `cumulative`, `summation`). A reading type is named by its 18-part CIM code
//! (`ReadingType ref="…"`). Each reading becomes one [`MeterRead`] record of its own reading
//! type, with its quality (`ReadingQualities`, worst flag wins): a reading type the document
//! does not carry is absent, never 0, and a second document for the same interval with another
//! reading type adds to the first instead of conflicting with it. Times are RFC 3339 with any
//! offset (`+08:00`). Values are decimal, scaled to whole Wh or varh exactly (rounded half up
//! past the unit).

use platone_primitives::{
	Accumulation, DatasetId, EnergyQuantity, MeasurementRecord, MeterRead, Reading, ReadingQuality,
};
use platone_scd::Reason;
use serde::Deserialize;

use crate::payload::{check_time, rfc3339_us, Limits, Refusal};

/// A parsed document: its envelope, and per meter what became of each reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
	pub message_id: Option<String>,
	pub source: Option<String>,
	pub verb: Option<String>,
	pub meters: Vec<MeterReport>,
}

/// One `MeterReading` of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterReport {
	/// `Meter/mRID` (empty if the document names none).
	pub mrid: String,
	/// Refused as a whole (unknown meter, or not the sender's): nothing of it is stored.
	pub refused: Option<Refusal>,
	pub readings: Vec<ReadingOutcome>,
}

/// One reading, as given and as judged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadingOutcome {
	pub reading_type: String,
	pub time: String,
	pub result: Result<MeasurementRecord, Refusal>,
}

#[derive(Deserialize)]
struct Root {
	#[serde(rename = "Header")]
	header: Option<Header>,
	#[serde(rename = "Payload")]
	payload: Option<Payload>,
	/// A bare `MeterReadings` document.
	#[serde(rename = "MeterReading", default)]
	meter_reading: Vec<MeterReadingXml>,
}

#[derive(Deserialize)]
struct Header {
	#[serde(rename = "Verb")]
	verb: Option<String>,
	#[serde(rename = "Noun")]
	noun: Option<String>,
	#[serde(rename = "Source")]
	source: Option<String>,
	#[serde(rename = "MessageID")]
	message_id: Option<String>,
}

#[derive(Deserialize)]
struct Payload {
	#[serde(rename = "MeterReadings", default)]
	meter_readings: Vec<MeterReadings>,
}

#[derive(Deserialize)]
struct MeterReadings {
	#[serde(rename = "MeterReading", default)]
	meter_reading: Vec<MeterReadingXml>,
}

#[derive(Deserialize)]
struct MeterReadingXml {
	#[serde(rename = "Meter")]
	meter: Option<Identified>,
	#[serde(rename = "IntervalBlocks", default)]
	interval_blocks: Vec<IntervalBlock>,
	/// Register reads: a `Value` with its own `ReadingType`.
	#[serde(rename = "Readings", default)]
	readings: Vec<Value>,
}

#[derive(Deserialize)]
struct Identified {
	#[serde(rename = "mRID")]
	mrid: Option<String>,
}

/// A reference to a `ReadingType`: `ref="…"`, or a child `mRID`.
#[derive(Deserialize)]
struct Ref {
	#[serde(rename = "@ref")]
	reference: Option<String>,
	#[serde(rename = "mRID")]
	mrid: Option<String>,
}

impl Ref {
	fn code(&self) -> Option<&str> {
		self.reference.as_deref().or(self.mrid.as_deref())
	}
}

#[derive(Deserialize)]
struct IntervalBlock {
	#[serde(rename = "IntervalReadings", default)]
	interval_readings: Vec<Value>,
	#[serde(rename = "ReadingType")]
	reading_type: Option<Ref>,
}

#[derive(Deserialize)]
struct Value {
	#[serde(rename = "timeStamp")]
	time_stamp: Option<String>,
	value: Option<String>,
	#[serde(rename = "ReadingQualities", default)]
	qualities: Vec<Quality>,
	/// Only in `Readings`; an interval reading's type is its block's.
	#[serde(rename = "ReadingType")]
	reading_type: Option<Ref>,
}

#[derive(Deserialize)]
struct Quality {
	#[serde(rename = "ReadingQualityType")]
	quality_type: Option<Ref>,
}

/// Verbs that add readings; the SCD never deletes or cancels what it stored.
const VERBS: [&str; 6] = [
	"create", "created", "change", "changed", "reply", "executed",
];

/// Parses a document. `dataset_of` maps a meter's `mRID` to its dataset, or refuses it
/// (unknown, or not the sender's). A document that is not XML, or whose envelope is not a
/// `MeterReadings` message that adds data, is refused as a whole.
pub fn parse(
	bytes: &[u8],
	limits: &Limits,
	dataset_of: impl Fn(&str) -> Result<DatasetId, Refusal>,
) -> Result<Document, Refusal> {
	let malformed = |detail: String| Refusal::new(Reason::Malformed, detail);
	let text = std::str::from_utf8(bytes).map_err(|e| malformed(format!("not UTF-8: {e}")))?;
	let root: Root = quick_xml::de::from_str(text)
		.map_err(|e| malformed(format!("not MeterReadings XML: {e}")))?;
	let (verb, noun, source, message_id) = match root.header {
		Some(h) => (h.verb, h.noun, h.source, h.message_id),
		None => (None, None, None, None),
	};
	if let Some(noun) = &noun {
		if !noun.trim().eq_ignore_ascii_case("MeterReadings") {
			return Err(malformed(format!(
				"noun {noun:?}: only MeterReadings is taken"
			)));
		}
	}
	if let Some(verb) = &verb {
		if !VERBS.iter().any(|v| verb.trim().eq_ignore_ascii_case(v)) {
			return Err(malformed(format!(
				"verb {verb:?}: readings are only added (created, changed, reply)"
			)));
		}
	}
	let mut meter_readings = root.meter_reading;
	for readings in root.payload.map(|p| p.meter_readings).unwrap_or_default() {
		meter_readings.extend(readings.meter_reading);
	}
	if meter_readings.is_empty() {
		return Err(malformed("no MeterReading".into()));
	}
	let meters = meter_readings
		.into_iter()
		.map(|mr| meter(mr, limits, &dataset_of))
		.collect();
	Ok(Document {
		message_id,
		source,
		verb,
		meters,
	})
}

fn meter(
	mr: MeterReadingXml,
	limits: &Limits,
	dataset_of: &impl Fn(&str) -> Result<DatasetId, Refusal>,
) -> MeterReport {
	let mrid = mr.meter.and_then(|m| m.mrid).unwrap_or_default();
	let dataset = match dataset_of(mrid.trim()) {
		Ok(dataset) => dataset,
		Err(refusal) => {
			return MeterReport {
				mrid,
				refused: Some(refusal),
				readings: vec![],
			}
		}
	};
	let mut readings = Vec::new();
	for block in &mr.interval_blocks {
		let code = block
			.reading_type
			.as_ref()
			.and_then(Ref::code)
			.unwrap_or_default();
		for value in &block.interval_readings {
			readings.push(reading(dataset, code, value, limits));
		}
	}
	for r in &mr.readings {
		let code = r
			.reading_type
			.as_ref()
			.and_then(Ref::code)
			.unwrap_or_default();
		readings.push(reading(dataset, code, r, limits));
	}
	if readings.is_empty() {
		return MeterReport {
			mrid,
			refused: Some(Refusal::new(
				Reason::Malformed,
				"no IntervalReadings or Readings",
			)),
			readings,
		};
	}
	MeterReport {
		mrid,
		refused: None,
		readings,
	}
}

fn reading(dataset: DatasetId, code: &str, value: &Value, limits: &Limits) -> ReadingOutcome {
	let time = value.time_stamp.clone().unwrap_or_default();
	let result = (|| {
		let (quantity, accumulation, exponent) = reading_type(code)?;
		let ts = check_time(rfc3339_us(time.trim())?, limits)?;
		let given = value
			.value
			.as_deref()
			.ok_or_else(|| Refusal::new(Reason::Malformed, "a reading without a value"))?;
		let read = MeterRead {
			quantity,
			accumulation,
			value: scaled(given.trim(), exponent)?,
			quality: quality(&value.qualities),
		};
		Ok(MeasurementRecord {
			dataset,
			timestamp_us: ts,
			sequence: read.sequence(),
			reading: Reading::MeterRead(read),
		})
	})();
	ReadingOutcome {
		reading_type: code.to_string(),
		time,
		result,
	}
}

/// Decodes the 18-part CIM `ReadingType` code of an energy reading: what it measures, how it
/// accumulates, and the power of ten from its unit to Wh or varh. Fields used (IEC 61968-9
/// Annex C): 2 measuring period, 3 accumulation, 4 flow direction, 6 measurement kind (12,
/// energy), 15 multiplier, 16 unit (72 Wh, 73 VArh).
pub fn reading_type(code: &str) -> Result<(EnergyQuantity, Accumulation, u32), Refusal> {
	let f: Vec<&str> = code.trim().split('.').collect();
	let bad = |why: &str| {
		Refusal::new(
			Reason::Malformed,
			format!("unsupported ReadingType {code:?}: {why}"),
		)
	};
	if code.trim().is_empty() {
		return Err(bad("none given"));
	}
	if f.len() != 18 {
		return Err(bad("not 18 fields"));
	}
	if f[6] != "12" {
		return Err(bad("not energy (measurement kind 12)"));
	}
	let accumulation = match f[3] {
		"4" => Accumulation::Delta {
			interval_s: match f[2] {
				"1" => 600,
				"2" => 900,
				"3" => 60,
				"4" => 86_400,
				"5" => 1_800,
				"6" => 300,
				"7" => 3_600,
				"10" => 120,
				"14" => 180,
				"31" => 1_200,
				_ => return Err(bad("interval data without a known measuring period")),
			},
		},
		"1" | "2" | "3" | "9" => Accumulation::Register,
		_ => return Err(bad("neither interval data nor a register")),
	};
	let exponent = match f[15] {
		"0" => 0,
		"3" => 3,
		"6" => 6,
		_ => return Err(bad("multiplier other than none, k or M")),
	};
	let quantity = match (f[4], f[16]) {
		("1", "72") => EnergyQuantity::ActiveImportWh,
		("19", "72") => EnergyQuantity::ActiveExportWh,
		("1", "73") => EnergyQuantity::ReactiveImportVarh,
		("19", "73") => EnergyQuantity::ReactiveExportVarh,
		_ => return Err(bad("not forward or reverse Wh or VArh")),
	};
	Ok((quantity, accumulation, exponent))
}

/// A non-negative decimal times 10^`exponent`, as a whole number: exact where the decimal has
/// at most `exponent` fraction digits, rounded half up beyond.
pub fn scaled(decimal: &str, exponent: u32) -> Result<u64, Refusal> {
	let bad = |why: &str| Refusal::new(Reason::OutOfRange, format!("value {decimal:?}: {why}"));
	let (whole, fraction) = decimal.split_once('.').unwrap_or((decimal, ""));
	let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
	if !digits(whole) || !(fraction.is_empty() || digits(fraction)) {
		return Err(bad("not a non-negative decimal"));
	}
	let overflow = || bad("too large");
	let mut value: u64 = 0;
	for b in whole.bytes() {
		value = value
			.checked_mul(10)
			.and_then(|v| v.checked_add(u64::from(b - b'0')))
			.ok_or_else(overflow)?;
	}
	let mut fraction = fraction.bytes();
	for _ in 0..exponent {
		let digit = fraction.next().map_or(0, |b| u64::from(b - b'0'));
		value = value
			.checked_mul(10)
			.and_then(|v| v.checked_add(digit))
			.ok_or_else(overflow)?;
	}
	if fraction.next().is_some_and(|b| b >= b'5') {
		value = value.checked_add(1).ok_or_else(overflow)?;
	}
	Ok(value)
}

/// The worst of a reading's quality flags (`ReadingQualityType ref="system.category.index"`,
/// IEC 61968-9 Annex D): category 0 valid; 7 edited, 8 estimated, 11 derived, 12 projected:
/// estimated; 4 data collection: invalid; any other, or a code that does not parse: suspect.
pub fn quality(flags: &[impl QualityFlag]) -> ReadingQuality {
	flags
		.iter()
		.map(
			|f| match f.code().and_then(|c| c.trim().split('.').nth(1)) {
				Some("0") => ReadingQuality::Valid,
				Some("7" | "8" | "11" | "12") => ReadingQuality::Estimated,
				Some("4") => ReadingQuality::Invalid,
				_ => ReadingQuality::Suspect,
			},
		)
		.max()
		.unwrap_or(ReadingQuality::Valid)
}

/// A `ReadingQualities` entry.
pub trait QualityFlag {
	fn code(&self) -> Option<&str>;
}

impl QualityFlag for Quality {
	fn code(&self) -> Option<&str> {
		self.quality_type.as_ref().and_then(Ref::code)
	}
}

impl QualityFlag for &str {
	fn code(&self) -> Option<&str> {
		Some(self)
	}
}
