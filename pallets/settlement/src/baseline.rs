//! The standard baseline (FR-MP-SET-04, docs/settlement.md "Baselines"): the NODES rule, the
//! mean net import of the same slot on the latest working days, from certified history. A pure
//! function of the history on chain, so the pallet, the settlement worker and the audit compute
//! the same value.
//!
//! Days are UTC calendar days, numbered from 1970-01-01 (a Thursday); working days are Monday to
//! Friday. The chain knows no public holidays: a holiday's metering is history like any other.

use crate::types::{Metering, Slot, WMS_PER_WH};

/// One day, ms.
pub const DAY_MS: u64 = 86_400_000;
/// Most working days a standard baseline averages (NODES uses five).
pub const MAX_HISTORY_DAYS: u8 = 10;

/// A UTC day: days since 1970-01-01.
pub type Day = u32;

/// The day that holds `ms` (the last day for times beyond the year 11 million).
pub fn day_of(ms: u64) -> Day {
	Day::try_from(ms / DAY_MS).unwrap_or(Day::MAX)
}

/// `[start, end)` of `slot` in a delivery period starting at `delivery_start_ms`, in ms; `None`
/// past `u64`. The one place the pallet, the worker and the audit take a slot's time from.
pub fn slot_span(delivery_start_ms: u64, slot_ms: u32, slot: Slot) -> Option<(u64, u64)> {
	let len = u64::from(slot_ms);
	let start = u64::from(slot)
		.checked_mul(len)?
		.checked_add(delivery_start_ms)?;
	Some((start, start.checked_add(len)?))
}

/// Monday to Friday. Day 0 was a Thursday.
pub fn is_working_day(day: Day) -> bool {
	(u64::from(day) + 3) % 7 < 5
}

/// The days a slot starting at `start_ms` draws its baseline from, latest first: the
/// `2 × days` working days before the slot's own day. Twice as many as it averages, so that up
/// to `days` days without valid certified metering are skipped.
pub fn candidate_days(start_ms: u64, days: u8) -> impl Iterator<Item = Day> {
	let own = day_of(start_ms);
	(1..own)
		.map(move |back| own - back)
		.filter(|d| is_working_day(*d))
		.take(usize::from(days) * 2)
}

/// The slot `[start_ms, end_ms)` moved back to `day`, same time of day.
pub fn on_day(start_ms: u64, end_ms: u64, day: Day) -> Option<(u64, u64)> {
	let back = u64::from(day_of(start_ms).checked_sub(day)?).checked_mul(DAY_MS)?;
	Some((start_ms.checked_sub(back)?, end_ms.checked_sub(back)?))
}

/// The standard baseline of a slot, W of net import: the mean over the latest `days` candidate
/// days whose metering is on chain and valid, rounded down to a whole W. `None` while fewer
/// than `days` such days are known.
pub fn standard_baseline(
	start_ms: u64,
	slot_ms: u32,
	days: u8,
	history: impl Fn(Day) -> Option<Metering>,
) -> Option<i64> {
	if days == 0 || slot_ms == 0 {
		return None;
	}
	let mut sum_wh: i128 = 0;
	let mut found: u8 = 0;
	for day in candidate_days(start_ms, days) {
		if found == days {
			break;
		}
		if let Some(m) = history(day).filter(Metering::is_valid) {
			sum_wh = sum_wh.checked_add(i128::from(m.import_wh) - i128::from(m.export_wh))?;
			found += 1;
		}
	}
	if found < days {
		return None;
	}
	// mean W = Σ Wh × 3.6·10⁶ / (days × slot_ms), floored: |Σ Wh| < 2^68, so it fits.
	let wms = sum_wh.checked_mul(WMS_PER_WH)?;
	let w = wms.div_euclid(i128::from(days) * i128::from(slot_ms));
	i64::try_from(w).ok()
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::types::ReadingQuality;
	use alloc::{collections::BTreeMap, vec::Vec};
	use proptest::prelude::*;

	const MON_2026_11_30: Day = 20_787;

	fn valid(import_wh: u64, export_wh: u64) -> Metering {
		Metering {
			import_wh,
			export_wh,
			quality: ReadingQuality::Valid,
			readings: 2,
		}
	}

	#[test]
	fn slots_follow_the_delivery_start() {
		assert_eq!(slot_span(1_000, 900_000, 0), Some((1_000, 901_000)));
		assert_eq!(
			slot_span(1_000, 900_000, 95),
			Some((85_501_000, 86_401_000))
		);
		assert_eq!(
			slot_span(u64::MAX - 900_000, 900_000, 0),
			Some((u64::MAX - 900_000, u64::MAX))
		);
		assert_eq!(slot_span(u64::MAX - 900_000, 900_000, 1), None);
		assert_eq!(slot_span(u64::MAX, 1, 0), None, "the end is past u64");
	}

	#[test]
	fn working_days_follow_the_calendar() {
		assert!(is_working_day(0), "1970-01-01 was a Thursday");
		assert!(!is_working_day(2) && !is_working_day(3) && is_working_day(4));
		assert!(is_working_day(MON_2026_11_30));
		assert!(!is_working_day(MON_2026_11_30 - 1), "Sunday");
		assert!(!is_working_day(MON_2026_11_30 - 2), "Saturday");
		assert!(is_working_day(MON_2026_11_30 - 3), "Friday");
	}

	#[test]
	fn candidates_skip_weekends_and_the_slots_own_day() {
		// A slot on Tuesday 2026-12-01 at 10:00: Monday, then Friday to Tuesday before.
		let start = u64::from(MON_2026_11_30 + 1) * DAY_MS + 36_000_000;
		let days: Vec<Day> = candidate_days(start, 3).collect();
		let m = MON_2026_11_30;
		assert_eq!(days, vec![m, m - 3, m - 4, m - 5, m - 6, m - 7]);
		assert_eq!(
			on_day(start, start + 900_000, m - 3),
			Some((start - 4 * DAY_MS, start + 900_000 - 4 * DAY_MS))
		);
		assert_eq!(on_day(start, start + 900_000, m + 2), None, "no later day");
	}

	/// The NODES example: five days, one of them flagged and one missing, are replaced by the
	/// next earlier ones; the mean is floored to a W.
	#[test]
	fn the_mean_skips_gaps_and_floors() {
		let start = u64::from(MON_2026_11_30 + 1) * DAY_MS;
		let slot_ms = 900_000; // 15 min: 1 Wh is 4 W
		let m = MON_2026_11_30;
		let history = |d: Day| match m - d {
			0 => Some(valid(100, 0)),
			3 => Some(Metering {
				quality: ReadingQuality::Estimated,
				..valid(900, 0)
			}),
			4 => None,
			5 => Some(valid(101, 1)),
			6 => Some(valid(102, 0)),
			7 => Some(valid(0, 3)),
			10 => Some(valid(50, 0)),
			11 => Some(valid(7_000, 0)),
			_ => None,
		};
		// (100 + 100 + 102 − 3 + 50) Wh / 5 × 4 = 279.2 W → 279.
		assert_eq!(standard_baseline(start, slot_ms, 5, history), Some(279));
		// Six reach back to the 19th: (349 + 7,000) / 6 × 4 = 4,899.3 W.
		assert_eq!(standard_baseline(start, slot_ms, 6, history), Some(4_899));
		// Six valid days among all fourteen candidates: seven cannot be met.
		assert_eq!(standard_baseline(start, slot_ms, 7, history), None);
		// Negative means floor towards −∞.
		assert_eq!(
			standard_baseline(start, slot_ms, 1, |_| Some(valid(0, 1))),
			Some(-4)
		);
		assert_eq!(
			standard_baseline(start, 7, 1, |_| Some(valid(0, 1))),
			Some(-514_286)
		);
	}

	proptest! {
		/// Against an oracle that walks the calendar from a known Monday and keeps every day
		/// it sees: the same days, the same mean.
		#[test]
		fn the_baseline_is_the_mean_of_the_latest_valid_working_days(
			day in 19_000u32..21_000,
			time_ms in 0u64..DAY_MS,
			slot_ms in 1u32..=3_600_000,
			days in 1u8..=MAX_HISTORY_DAYS,
			history in proptest::collection::btree_map(
				1u32..40,
				(0u64..100_000, 0u64..100_000, 0u8..4),
				0..40,
			),
		) {
			let start = u64::from(day) * DAY_MS + time_ms;
			let quality = |q: u8| match q {
				0 => ReadingQuality::Estimated,
				1 => ReadingQuality::Suspect,
				2 => ReadingQuality::Invalid,
				_ => ReadingQuality::Valid,
			};
			let by_day: BTreeMap<Day, Metering> = history
				.iter()
				.map(|(back, (i, e, q))| {
					(day - back, Metering { quality: quality(*q), ..valid(*i, *e) })
				})
				.collect();
			let baseline = standard_baseline(start, slot_ms, days, |d| by_day.get(&d).copied());
			// The oracle: weekdays counted from Monday 2026-11-30.
			let weekday = |d: Day| (i64::from(d) - i64::from(MON_2026_11_30)).rem_euclid(7);
			let candidates: Vec<Day> = (1..=day)
				.map(|back| day - back)
				.filter(|d| weekday(*d) < 5)
				.take(2 * usize::from(days))
				.collect();
			let used: Vec<i128> = candidates
				.iter()
				.filter_map(|d| by_day.get(d))
				.filter(|m| m.quality == ReadingQuality::Valid)
				.take(usize::from(days))
				.map(|m| i128::from(m.import_wh) - i128::from(m.export_wh))
				.collect();
			let expected = (used.len() == usize::from(days)).then(|| {
				let wms: i128 = used.iter().sum::<i128>() * 3_600_000;
				let n = i128::from(days) * i128::from(slot_ms);
				// Floor, written without div_euclid.
				let q = wms / n;
				(if wms % n != 0 && wms < 0 { q - 1 } else { q }) as i64
			});
			prop_assert_eq!(baseline, expected);
			for d in candidate_days(start, days) {
				prop_assert!(candidates.contains(&d));
			}
		}
	}
}
