//! The canonical measurement record. Its SCALE encoding is what a dataset's Merkle tree commits
//! to, so it must never change meaning: add a new [`Reading`] variant rather than alter one.
//!
//! Values are fixed-point integers (no floats anywhere near consensus): the unit of each field
//! is in its name. Canonical order inside a dataset is ascending `(timestamp_us, sequence)`.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::certificate::DatasetId;

/// One certified observation of one device.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct MeasurementRecord {
	pub dataset: DatasetId,
	/// Device-side measurement time, Unix microseconds (PMUs are time-synchronised).
	pub timestamp_us: u64,
	/// Device sequence number, to order samples with equal timestamps.
	pub sequence: u32,
	pub reading: Reading,
}

impl MeasurementRecord {
	/// The bytes a Merkle leaf commits to.
	pub fn canonical_bytes(&self) -> Vec<u8> {
		self.encode()
	}

	/// Canonical order within a dataset.
	pub fn order_key(&self) -> (u64, u32) {
		(self.timestamp_us, self.sequence)
	}
}

#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum Reading {
	/// A synchrophasor sample (IEEE C37.118-style), typically 50 per second.
	Pmu(PmuSample),
	/// Superseded by [`Reading::MeterRead`]: one record for all of an interval's reading types,
	/// which filled the ones a document did not carry with 0. Kept so that records certified
	/// in this form still decode; ingest no longer writes it.
	Meter(MeterInterval),
	/// Any other sensor: one quantity, one value.
	Sensor(SensorValue),
	/// One smart-meter reading of one reading type (IEC 61968-9 MeterReadings): an interval
	/// delta or a register value, with its quality. A reading type a document does not carry
	/// has no record, never a 0.
	MeterRead(MeterRead),
}

/// One meter reading of one reading type.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct MeterRead {
	pub quantity: EnergyQuantity,
	pub accumulation: Accumulation,
	/// Wh (active) or varh (reactive).
	pub value: u64,
	pub quality: ReadingQuality,
}

impl MeterRead {
	/// The record's `sequence`: one per reading type, so that readings of several types at one
	/// time are distinct measurements, and a reading sent again is a duplicate of itself only.
	pub fn sequence(&self) -> u32 {
		let quantity = match self.quantity {
			EnergyQuantity::ActiveImportWh => 0,
			EnergyQuantity::ActiveExportWh => 1,
			EnergyQuantity::ReactiveImportVarh => 2,
			EnergyQuantity::ReactiveExportVarh => 3,
		};
		match self.accumulation {
			Accumulation::Register => quantity | 1 << 2,
			Accumulation::Delta { interval_s } => quantity | interval_s.saturating_mul(8),
		}
	}
}

/// The energy a [`MeterRead`] measures (CIM `ReadingType`: flow direction and unit).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum EnergyQuantity {
	ActiveImportWh,
	ActiveExportWh,
	ReactiveImportVarh,
	ReactiveExportVarh,
}

/// How a [`MeterRead`] accumulates (CIM `ReadingType` accumulation).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Accumulation {
	/// The energy of the interval of `interval_s` seconds ending at the record's time
	/// (`deltaData`).
	Delta { interval_s: u32 },
	/// The register's total at the record's time (`bulkQuantity`, `cumulative`, `summation`): the
	/// head-end's most common form; an interval's energy is the exact difference of two.
	Register,
}

/// What the head-end says of a reading (IEC 61968-9 `ReadingQualities`, worst flag wins).
/// Settlement must not take anything but `Valid` as good.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum ReadingQuality {
	Valid,
	/// Estimated, edited, derived or projected by the head-end or MDM, not measured.
	Estimated,
	/// Flagged by a validation, reasonability, tamper, diagnostics or power-quality check.
	Suspect,
	/// Marked as not usable (failed or missing data collection).
	Invalid,
}

/// One phase of a synchrophasor: magnitudes and angles.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Phasor {
	pub voltage_mv: u64,
	pub voltage_angle_urad: i32,
	pub current_ma: u64,
	pub current_angle_urad: i32,
}

#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct PmuSample {
	pub frequency_mhz: u32,
	/// Rate of change of frequency, mHz/s.
	pub rocof_mhz_per_s: i32,
	/// Phases L1, L2, L3.
	pub phases: [Phasor; 3],
}

#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct MeterInterval {
	/// Length of the interval that ends at the record's timestamp, seconds.
	pub interval_s: u32,
	pub active_import_wh: u64,
	pub active_export_wh: u64,
	pub reactive_import_varh: u64,
	pub reactive_export_varh: u64,
}

/// Physical quantity of a [`SensorValue`].
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Quantity {
	VoltageMv,
	CurrentMa,
	ActivePowerW,
	ReactivePowerVar,
	TemperatureMilliC,
	StateOfChargePermille,
}

#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct SensorValue {
	pub quantity: Quantity,
	pub value: i64,
}
