//! A PoD's energy over one slot from certified meter readings (FR-MP-SET-03), exactly, as pure
//! functions: the pallet and `platone audit settlement` compute it with the same code.
//!
//! For each of the PoD's meters, active import and active export must each cover the slot
//! `[start, end)` in one of two forms, as the ingest stores them (docs/ingest.md):
//! - **interval deltas** whose intervals `[t − interval, t)` tile the slot without gap or
//!   overlap; the energy is their sum;
//! - **two register reads**, at exactly the slot's start and end; the energy is their
//!   difference, and a register that went back is refused.
//!
//! A slot lacking any of these is incomplete and refused: a missing reading is never a zero.
//! Readings of other quantities, of other devices or outside the slot are refused too, so that
//! a submission carries only what it is charged for. The worst quality flag among the readings
//! is kept: anything but `Valid` does not settle (docs/settlement.md).

use crate::types::{DatasetId, Metering};
use alloc::{collections::BTreeMap, vec::Vec};
use platone_primitives::{
	Accumulation, EnergyQuantity, MeasurementRecord, MeterRead, Reading, ReadingQuality,
};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MeteringError {
	/// A record that is not an active-energy meter reading.
	NotActiveEnergy,
	/// A reading of a device that is not one of the PoD's meters.
	NotPodMeter,
	/// A reading that does not lie in the slot.
	OutsideSlot,
	/// The same reading twice.
	Duplicate,
	/// Deltas and register reads mixed for one meter and quantity.
	MixedForms,
	/// Deltas that leave a gap or overlap, or registers not at the slot's bounds.
	NotCovering,
	/// A register read lower at the slot's end than at its start.
	RegisterWentBack,
	/// A meter or quantity without readings for the slot.
	Incomplete,
	Overflow,
}

fn direction_of(quantity: EnergyQuantity) -> Option<usize> {
	match quantity {
		EnergyQuantity::ActiveImportWh => Some(0),
		EnergyQuantity::ActiveExportWh => Some(1),
		_ => None,
	}
}

/// The energy of one meter and quantity over `[start_us, end_us)` from its readings.
fn energy(
	mut reads: Vec<(u64, MeterRead)>,
	start_us: u64,
	end_us: u64,
) -> Result<u64, MeteringError> {
	reads.sort_by_key(|(t, _)| *t);
	let registers = reads
		.iter()
		.filter(|(_, r)| r.accumulation == Accumulation::Register)
		.count();
	if registers == reads.len() {
		let [(t0, r0), (t1, r1)] = reads.as_slice() else {
			return Err(MeteringError::NotCovering);
		};
		if *t0 != start_us || *t1 != end_us {
			return Err(MeteringError::NotCovering);
		}
		return r1
			.value
			.checked_sub(r0.value)
			.ok_or(MeteringError::RegisterWentBack);
	}
	if registers != 0 {
		return Err(MeteringError::MixedForms);
	}
	let mut at = start_us;
	let mut sum = 0u64;
	for (t, r) in &reads {
		let Accumulation::Delta { interval_s } = r.accumulation else {
			return Err(MeteringError::MixedForms);
		};
		let from = t
			.checked_sub(u64::from(interval_s).saturating_mul(1_000_000))
			.ok_or(MeteringError::NotCovering)?;
		if interval_s == 0 || from != at {
			return Err(MeteringError::NotCovering);
		}
		at = *t;
		sum = sum.checked_add(r.value).ok_or(MeteringError::Overflow)?;
	}
	if at != end_us {
		return Err(MeteringError::NotCovering);
	}
	Ok(sum)
}

/// The metering of a PoD with meters `meters` over the slot `[start_ms, end_ms)` from
/// `records`, each already proven certified.
pub fn slot_metering(
	meters: &[DatasetId],
	start_ms: u64,
	end_ms: u64,
	records: &[MeasurementRecord],
) -> Result<Metering, MeteringError> {
	let start_us = start_ms.checked_mul(1_000).ok_or(MeteringError::Overflow)?;
	let end_us = end_ms.checked_mul(1_000).ok_or(MeteringError::Overflow)?;
	let mut series: BTreeMap<(DatasetId, usize), Vec<(u64, MeterRead)>> = BTreeMap::new();
	let mut seen = BTreeMap::new();
	let mut quality = ReadingQuality::Valid;
	for record in records {
		let Reading::MeterRead(read) = record.reading else {
			return Err(MeteringError::NotActiveEnergy);
		};
		let dir = direction_of(read.quantity).ok_or(MeteringError::NotActiveEnergy)?;
		if !meters.contains(&record.dataset) {
			return Err(MeteringError::NotPodMeter);
		}
		let t = record.timestamp_us;
		// A register read may sit on the slot's end; a delta ends at most there.
		let inside = match read.accumulation {
			Accumulation::Register => t >= start_us && t <= end_us,
			Accumulation::Delta { .. } => t > start_us && t <= end_us,
		};
		if !inside {
			return Err(MeteringError::OutsideSlot);
		}
		if seen
			.insert((record.dataset, t, record.sequence), ())
			.is_some()
		{
			return Err(MeteringError::Duplicate);
		}
		quality = quality.max(read.quality);
		series
			.entry((record.dataset, dir))
			.or_default()
			.push((t, read));
	}
	let mut flows = [0u64; 2];
	for meter in meters {
		for (dir, flow) in flows.iter_mut().enumerate() {
			let reads = series
				.remove(&(*meter, dir))
				.ok_or(MeteringError::Incomplete)?;
			let e = energy(reads, start_us, end_us)?;
			*flow = flow.checked_add(e).ok_or(MeteringError::Overflow)?;
		}
	}
	if meters.is_empty() {
		return Err(MeteringError::Incomplete);
	}
	Ok(Metering {
		import_wh: flows[0],
		export_wh: flows[1],
		quality,
		readings: u32::try_from(records.len()).map_err(|_| MeteringError::Overflow)?,
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	const S: u64 = 1_796_169_600_000;
	const E: u64 = S + 900_000;

	fn rec(
		dataset: DatasetId,
		t_ms: u64,
		q: EnergyQuantity,
		acc: Accumulation,
		v: u64,
	) -> MeasurementRecord {
		let read = MeterRead {
			quantity: q,
			accumulation: acc,
			value: v,
			quality: ReadingQuality::Valid,
		};
		MeasurementRecord {
			dataset,
			timestamp_us: t_ms * 1_000,
			sequence: read.sequence(),
			reading: Reading::MeterRead(read),
		}
	}

	fn delta(dataset: DatasetId, t_ms: u64, q: EnergyQuantity, v: u64) -> MeasurementRecord {
		rec(dataset, t_ms, q, Accumulation::Delta { interval_s: 300 }, v)
	}

	use EnergyQuantity::{ActiveExportWh as Exp, ActiveImportWh as Imp};

	#[test]
	fn deltas_tiling_the_slot_sum_up() {
		let mut records = Vec::new();
		for (i, v) in [10u64, 20, 30].iter().enumerate() {
			records.push(delta(7, S + 300_000 * (i as u64 + 1), Imp, *v));
			records.push(delta(7, S + 300_000 * (i as u64 + 1), Exp, 1));
		}
		let m = slot_metering(&[7], S, E, &records).unwrap();
		assert_eq!((m.import_wh, m.export_wh, m.readings), (60, 3, 6));
		assert_eq!(m.net_import_wms(), 57 * 3_600_000);
	}

	#[test]
	fn registers_at_the_bounds_give_their_difference() {
		let records = [
			rec(7, S, Imp, Accumulation::Register, 1_000),
			rec(7, E, Imp, Accumulation::Register, 1_250),
			rec(7, S, Exp, Accumulation::Register, 5),
			rec(7, E, Exp, Accumulation::Register, 5),
		];
		let m = slot_metering(&[7], S, E, &records).unwrap();
		assert_eq!((m.import_wh, m.export_wh), (250, 0));
	}

	#[test]
	fn every_gap_or_stray_is_refused() {
		let full = |skip: usize| -> Vec<MeasurementRecord> {
			(1..=3)
				.flat_map(|i| {
					[
						delta(7, S + 300_000 * i, Imp, 1),
						delta(7, S + 300_000 * i, Exp, 1),
					]
				})
				.enumerate()
				.filter(|(n, _)| *n != skip)
				.map(|(_, r)| r)
				.collect()
		};
		assert_eq!(
			slot_metering(&[7], S, E, &full(2)),
			Err(MeteringError::NotCovering)
		);
		assert_eq!(
			slot_metering(&[7, 8], S, E, &full(99)),
			Err(MeteringError::Incomplete)
		);
		assert_eq!(
			slot_metering(&[8], S, E, &full(99)),
			Err(MeteringError::NotPodMeter)
		);
		let mut dup = full(99);
		dup.push(dup[0].clone());
		assert_eq!(
			slot_metering(&[7], S, E, &dup),
			Err(MeteringError::Duplicate)
		);
		let mut late = full(99);
		late.push(delta(7, E + 300_000, Imp, 1));
		assert_eq!(
			slot_metering(&[7], S, E, &late),
			Err(MeteringError::OutsideSlot)
		);
		let mut mixed = full(99);
		mixed.push(rec(7, S, Imp, Accumulation::Register, 1));
		assert_eq!(
			slot_metering(&[7], S, E, &mixed),
			Err(MeteringError::MixedForms)
		);
		let back = [
			rec(7, S, Imp, Accumulation::Register, 9),
			rec(7, E, Imp, Accumulation::Register, 8),
			rec(7, S, Exp, Accumulation::Register, 0),
			rec(7, E, Exp, Accumulation::Register, 0),
		];
		assert_eq!(
			slot_metering(&[7], S, E, &back),
			Err(MeteringError::RegisterWentBack)
		);
		assert_eq!(
			slot_metering(&[], S, E, &[]),
			Err(MeteringError::Incomplete)
		);
	}

	#[test]
	fn the_worst_quality_is_kept() {
		let mut records: Vec<_> = (1..=3)
			.flat_map(|i| {
				[
					delta(7, S + 300_000 * i, Imp, 1),
					delta(7, S + 300_000 * i, Exp, 0),
				]
			})
			.collect();
		if let Reading::MeterRead(ref mut r) = records[3].reading {
			r.quality = ReadingQuality::Estimated;
		}
		let m = slot_metering(&[7], S, E, &records).unwrap();
		assert_eq!(m.quality, ReadingQuality::Estimated);
	}
}
