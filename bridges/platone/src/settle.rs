//! `platone settle --session N`: the settlement worker (FR-MP-SET-03/04, docs/settlement.md).
//!
//! At the chain's finalized head, for one market session:
//! 1. for each awarded PoD and slot that is over, whose baseline was declared and which has no
//!    valid metering on chain, it reads the declared meters' active-energy readings for the
//!    slot from the gateway's SCD, derives the slot's energy with the pallet's own code
//!    (`pallet_settlement::metering`, so that nothing the pallet would refuse is sent), proves
//!    each reading against the certified window that holds it (late data included) and submits
//!    them (`submit_metering`);
//!    For a PoD with a standard baseline it also submits the slot's history, as soon as the
//!    session is final and until the slot is first settled: the same slot on each candidate
//!    day that could still change the baseline (`submit_history`);
//! 2. it settles each award whose metering delay has passed, or whose unmetered outcome can now
//!    be settled on metering (`settle`);
//! 3. it makes final each outcome whose dispute window has passed, or that is unpaid
//!    (`finalize`).
//!
//! Every step reads the chain first, so the worker can be killed and run again at any time: it
//! does what is left. What it cannot do yet (data not certified, an incomplete slot) it reports
//! and leaves for the next run.

use std::collections::BTreeSet;

use anyhow::Context;
use pallet_market::AwardRef;
use pallet_settlement::{
	baseline::{self, Day},
	metering::slot_metering,
	BaselineMethod, Basis, ReadingQuality, Status,
};
use platone_chain::{market::AccountId, settlement::Work, Chain, Keypair};
use platone_primitives::{Accumulation, MeasurementRecord, Reading};
use platone_scd::{CertState, Store};

/// A PoD's slot to meter, or its history on an earlier day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotJob {
	pub pod: u32,
	pub slot: u16,
	/// `Some`: the slot moved back to this day, for the PoD's standard baseline.
	pub day: Option<Day>,
	/// The interval metered: the slot's, or the same time on `day`.
	pub start_ms: u64,
	pub end_ms: u64,
	/// The meters its baseline declaration recorded.
	pub meters: Vec<u64>,
}

/// What to do for a session now.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
	pub meter: Vec<SlotJob>,
	pub settle: Vec<AwardRef>,
	pub finalize: Vec<AwardRef>,
	/// Awards that are not final yet, and why nothing can be done for them now.
	pub waiting: Vec<String>,
	/// Awards already final.
	pub done: usize,
}

/// The plan for `work` at chain time `now_ms`: a pure function of chain state.
pub fn plan(work: &Work, now_ms: u64) -> Plan {
	let r = &work.records;
	let mut plan = Plan::default();
	if work.phase != pallet_market::Phase::Final {
		plan.waiting
			.push(format!("the session is {:?}, not final yet", work.phase));
		return plan;
	}
	let mut metered_jobs = BTreeSet::new();
	let settled_slots: BTreeSet<(u32, u16)> = r
		.awards
		.iter()
		.filter(|(award, _)| r.outcomes.contains_key(award))
		.map(|(_, a)| (a.pod, a.slot))
		.collect();
	for (award, a) in &r.awards {
		let start_ms = r
			.delivery_start_ms
			.saturating_add(u64::from(a.slot).saturating_mul(r.slot_ms.into()));
		let end_ms = start_ms.saturating_add(r.slot_ms.into());
		let metered = r
			.meterings
			.get(&(a.pod, a.slot))
			.is_some_and(|m| m.quality == ReadingQuality::Valid);
		let declared = r.baselines.get(&a.pod);
		let history = |day| r.history.get(&(a.pod, a.slot, day)).copied();
		let outcome = r.outcomes.get(award);
		// Metering still helps an award not settled yet, or settled without it and open.
		let wants_metering = match outcome {
			None => true,
			Some(o) => {
				matches!(o.status, Status::Open { .. })
					&& matches!(o.record.basis, Basis::Unmetered | Basis::Flagged(_))
			}
		};
		let label = format!(
			"award {}/{} (PoD {}, slot {})",
			award.step, award.index, a.pod, a.slot
		);
		// Without a baseline (or meters) there is nothing to meter: it settles as such.
		let meters = declared.map(|d| &d.meters).filter(|m| !m.is_empty());
		if let Some(meters) = meters.filter(|_| metered_jobs.insert((a.pod, a.slot))) {
			let job = |day, (start_ms, end_ms)| SlotJob {
				pod: a.pod,
				slot: a.slot,
				day,
				start_ms,
				end_ms,
				meters: meters.clone(),
			};
			if wants_metering && !metered && now_ms >= end_ms {
				plan.meter.push(job(None, (start_ms, end_ms)));
			}
			// History closes when the slot is first settled; its days precede the slot, so
			// it goes on chain as soon as the session is final. Every candidate day that could
			// still change the baseline: any, while it is incomplete; afterwards those later
			// than the oldest day it takes (a missing later day would push that one out).
			if let (false, Some(BaselineMethod::WorkingDays(n))) = (
				settled_slots.contains(&(a.pod, a.slot)),
				declared.map(|d| d.method),
			) {
				let valid = |day| history(day).is_some_and(|m| m.quality == ReadingQuality::Valid);
				let candidates: Vec<Day> = baseline::candidate_days(start_ms, n).collect();
				let oldest_taken = candidates
					.iter()
					.filter(|d| valid(**d))
					.nth(usize::from(n).saturating_sub(1))
					.copied();
				for day in candidates {
					if valid(day) || oldest_taken.is_some_and(|oldest| day < oldest) {
						continue;
					}
					match baseline::on_day(start_ms, end_ms, day) {
						Some(span) if span.1 <= now_ms => plan.meter.push(job(Some(day), span)),
						_ => {}
					}
				}
			}
		}
		match outcome.map(|o| (o.status, &o.record.basis)) {
			None if now_ms >= end_ms.saturating_add(work.params.metering_delay_ms) => {
				plan.settle.push(*award)
			}
			None => plan.waiting.push(format!(
				"{label}: settles from {} ms",
				end_ms.saturating_add(work.params.metering_delay_ms)
			)),
			Some((Status::Open { .. }, Basis::Unmetered | Basis::Flagged(_))) if metered => {
				plan.settle.push(*award)
			}
			Some((Status::Open { until_ms }, _)) if now_ms >= until_ms => {
				plan.finalize.push(*award)
			}
			Some((Status::Open { until_ms }, _)) => plan
				.waiting
				.push(format!("{label}: disputable until {until_ms} ms")),
			Some((Status::Unpaid, _)) => plan.finalize.push(*award),
			Some((Status::Disputed, _)) => plan
				.waiting
				.push(format!("{label}: disputed, for governance to resolve")),
			Some((Status::Paid, _)) => plan.done += 1,
		}
	}
	plan
}

/// A slot's readings, as a settlement submission takes them: every active-energy reading of
/// the meters that belongs to `[start, end)` (deltas ending in `(start, end]`, registers at the
/// bounds), in canonical order.
pub async fn slot_readings<S: Store>(
	store: &S,
	job: &SlotJob,
) -> anyhow::Result<Vec<(platone_scd::Measurement, MeasurementRecord)>> {
	let (start_us, end_us) = (job.start_ms * 1_000, job.end_ms * 1_000);
	let mut readings = Vec::new();
	for meter in &job.meters {
		for m in store.between(*meter, start_us, end_us).await? {
			let record = m.decode().context("a stored measurement does not decode")?;
			let Reading::MeterRead(read) = &record.reading else {
				continue;
			};
			if !matches!(
				read.quantity,
				platone_primitives::EnergyQuantity::ActiveImportWh
					| platone_primitives::EnergyQuantity::ActiveExportWh
			) {
				continue;
			}
			let t = record.timestamp_us;
			let belongs = match read.accumulation {
				Accumulation::Delta { .. } => t > start_us,
				Accumulation::Register => t == start_us || t == end_us,
			};
			if belongs {
				readings.push((m, record));
			}
		}
	}
	Ok(readings)
}

/// What became of one run.
#[derive(Debug, Default)]
pub struct Report {
	pub metered: usize,
	pub settled: usize,
	pub finalized: usize,
	pub done: usize,
	/// Awards and slots left for a later run, with why.
	pub waiting: Vec<String>,
}

impl Report {
	/// Every award is final and paid.
	pub fn complete(&self) -> bool {
		self.waiting.is_empty()
	}
}

/// One run for `session`: meters, then settles and finalizes on fresh state.
pub async fn run<S: Store>(
	chain: &Chain,
	store: &S,
	signer: &Keypair,
	gateway: &AccountId,
	session: u32,
	max_awards: usize,
	max_readings: usize,
) -> anyhow::Result<Report> {
	let mut report = Report::default();
	let (work, now_ms) = read(chain, session).await?;
	for job in plan(&work, now_ms).meter {
		let what = match job.day {
			None => format!("PoD {} slot {}", job.pod, job.slot),
			Some(day) => format!("PoD {} slot {} on day {day}", job.pod, job.slot),
		};
		let readings = slot_readings(store, &job).await?;
		let records: Vec<_> = readings.iter().map(|(_, r)| r.clone()).collect();
		let metering = match slot_metering(&job.meters, job.start_ms, job.end_ms, &records) {
			Ok(m) => m,
			Err(e) => {
				report.waiting.push(format!(
					"{what}: the SCD's readings do not meter it yet ({e:?})"
				));
				continue;
			}
		};
		// Flagged on chain and still flagged in the SCD: nothing to gain by sending it again.
		let on_chain = match job.day {
			None => work.records.meterings.get(&(job.pod, job.slot)),
			Some(day) => work.records.history.get(&(job.pod, job.slot, day)),
		};
		if on_chain == Some(&metering) {
			report.waiting.push(format!(
				"{what}: the SCD holds what the chain has ({:?})",
				metering.quality
			));
			continue;
		}
		if readings.len() > max_readings {
			report.waiting.push(format!(
				"{what}: {} readings, more than one submission takes ({max_readings})",
				readings.len()
			));
			continue;
		}
		let mut proofs = Vec::with_capacity(readings.len());
		for (m, _) in &readings {
			let proven = platone_scd::proof(store, m.dataset, m.timestamp_us, m.sequence)
				.await?
				.filter(|p| p.certificate.state == CertState::Certified);
			match proven {
				Some(p) => proofs.push((gateway.clone(), p.certificate.window, p.proof)),
				None => break,
			}
		}
		if proofs.len() < readings.len() {
			report
				.waiting
				.push(format!("{what}: a reading is not certified on chain yet"));
			continue;
		}
		let submitted = match job.day {
			None => {
				chain
					.submit_metering(signer, session, job.pod, job.slot, &proofs)
					.await
			}
			Some(day) => {
				chain
					.submit_history(signer, session, job.pod, job.slot, day, &proofs)
					.await
			}
		};
		match submitted {
			Ok(_) => {
				tracing::info!(
					session,
					pod = job.pod,
					slot = job.slot,
					day = job.day,
					readings = proofs.len(),
					"metering submitted"
				);
				report.metered += 1;
			}
			Err(e) => report
				.waiting
				.push(format!("{what}: metering refused: {e}")),
		}
	}
	let (work, now_ms) = read(chain, session).await?;
	let plan = plan(&work, now_ms);
	for awards in plan.settle.chunks(max_awards.max(1)) {
		match chain.settle(signer, session, awards).await {
			Ok(_) => report.settled += awards.len(),
			Err(e) => report.waiting.push(format!("settling {awards:?}: {e}")),
		}
	}
	for awards in plan.finalize.chunks(max_awards.max(1)) {
		match chain.finalize(signer, session, awards).await {
			Ok(_) => report.finalized += awards.len(),
			Err(e) => report.waiting.push(format!("finalizing {awards:?}: {e}")),
		}
	}
	report.done = plan.done + report.finalized;
	report.waiting.extend(plan.waiting);
	// Settled now, final later.
	if report.settled > 0 {
		report.waiting.push(format!(
			"{} awards settled, disputable before they are final",
			report.settled
		));
	}
	Ok(report)
}

/// The session's records at the finalized head, and the chain's time there.
async fn read(chain: &Chain, session: u32) -> anyhow::Result<(Work, u64)> {
	let (at, _) = chain.finalized().await?;
	let now_ms = chain
		.block_time_ms(at)
		.await?
		.context("the finalized block has no timestamp")?;
	let work = chain
		.settlement_work(session, at)
		.await?
		.with_context(|| format!("no market session {session} on chain"))?;
	if work.records.awards.is_empty() && work.records.outcomes.is_empty() {
		tracing::info!(session, "no final awards (yet)");
	}
	Ok((work, now_ms))
}

#[cfg(test)]
mod tests {
	use std::collections::BTreeMap;

	use pallet_market::{Direction, Phase, SettledAward};
	use pallet_settlement::{
		audit::Records, Declared, MechanismInput, Metering, Outcome, Params, Record, Split,
	};

	use super::*;

	const START: u64 = 1_000_000;
	const SLOT: u32 = 15_000;
	const END: u64 = START + SLOT as u64;

	fn acc(b: u8) -> AccountId {
		AccountId::new([b; 32])
	}

	fn at(index: u32) -> AwardRef {
		AwardRef { step: 0, index }
	}

	fn award(pod: u32) -> SettledAward<AccountId> {
		SettledAward {
			requester: acc(1),
			aggregator: acc(2),
			validator: acc(1),
			offer: pod,
			pod,
			slot: 0,
			direction: Direction::Up,
			quantity: 3_000,
			price: 80,
			pod_before: 0,
		}
	}

	fn outcome(pod: u32, basis: Basis, status: Status) -> Outcome<AccountId> {
		let a = award(pod);
		Outcome {
			record: Record {
				requester: a.requester,
				aggregator: a.aggregator,
				validator: a.validator,
				pod,
				slot: 0,
				direction: a.direction,
				quantity: a.quantity,
				price: a.price,
				mechanism: None,
				baseline_w: Some(10_000),
				metering: None,
				input: MechanismInput {
					awarded_wms: 0,
					delivered_wms: 0,
					price: 80,
					award_value: 0,
					max_payment: 0,
				},
				split: Split::default(),
				basis,
				customer: None,
			},
			status,
			leaf: None,
		}
	}

	/// PoD 1 (award 0) declared a baseline with meter 11; PoD 3 (award 1) did not.
	fn work(phase: Phase) -> Work {
		Work {
			records: Records {
				slot_ms: SLOT,
				delivery_start_ms: START,
				awards: vec![(at(0), award(1)), (at(1), award(3))],
				baselines: BTreeMap::from([(
					1,
					Declared {
						baseline: vec![(0, 10_000)],
						meters: vec![11],
						method: BaselineMethod::Declared,
					},
				)]),
				meterings: BTreeMap::new(),
				history: BTreeMap::new(),
				mechanisms: BTreeMap::new(),
				outcomes: BTreeMap::new(),
				tally: None,
				anchor: None,
			},
			params: Params {
				metering_delay_ms: 60_000,
				dispute_ms: 12_000,
			},
			phase,
		}
	}

	fn valid() -> Metering {
		Metering {
			import_wh: 30,
			export_wh: 3,
			quality: ReadingQuality::Valid,
			readings: 4,
		}
	}

	#[test]
	fn nothing_is_done_before_the_session_is_final_or_the_slot_is_over() {
		let p = plan(&work(Phase::Validated), END);
		assert_eq!((p.meter.len(), p.settle.len(), p.waiting.len()), (0, 0, 1));
		let p = plan(&work(Phase::Final), END - 1);
		assert!(p.meter.is_empty() && p.settle.is_empty());
		assert_eq!(p.waiting.len(), 2);
	}

	#[test]
	fn a_slot_over_is_metered_and_its_awards_settle_after_the_delay() {
		let p = plan(&work(Phase::Final), END);
		// Only the PoD with a baseline has meters to read; nothing settles before the delay.
		assert_eq!(
			p.meter,
			vec![SlotJob {
				pod: 1,
				slot: 0,
				day: None,
				start_ms: START,
				end_ms: END,
				meters: vec![11],
			}]
		);
		assert!(p.settle.is_empty());
		let p = plan(&work(Phase::Final), END + 60_000);
		assert_eq!(p.settle, vec![at(0), at(1)]);
		// Metered already: not read again.
		let mut w = work(Phase::Final);
		w.records.meterings.insert((1, 0), valid());
		assert!(plan(&w, END).meter.is_empty());
		// Flagged metering may be replaced.
		w.records.meterings.insert(
			(1, 0),
			Metering {
				quality: ReadingQuality::Estimated,
				..valid()
			},
		);
		assert_eq!(plan(&w, END).meter.len(), 1);
	}

	#[test]
	fn an_unmetered_outcome_settles_again_once_metered_rather_than_finalize() {
		let mut w = work(Phase::Final);
		let open = Status::Open { until_ms: END };
		w.records
			.outcomes
			.insert(at(0), outcome(1, Basis::Unmetered, open));
		w.records
			.outcomes
			.insert(at(1), outcome(3, Basis::NoBaseline, open));
		// Past its dispute window and unmetered: its meters are read first.
		let p = plan(&w, END + 1);
		assert_eq!(p.meter.len(), 1);
		assert_eq!(p.finalize, vec![at(0), at(1)]);
		// Metered now: settled again, not made final unmetered.
		w.records.meterings.insert((1, 0), valid());
		let p = plan(&w, END + 1);
		assert_eq!((p.settle, p.finalize), (vec![at(0)], vec![at(1)]));
	}

	#[test]
	fn outcomes_wait_for_their_window_and_governance_and_unpaid_ones_are_retried() {
		let mut w = work(Phase::Final);
		w.records.outcomes.insert(
			at(0),
			outcome(1, Basis::Measured, Status::Open { until_ms: END + 5 }),
		);
		w.records
			.outcomes
			.insert(at(1), outcome(3, Basis::NoBaseline, Status::Disputed));
		let p = plan(&w, END);
		assert!(p.settle.is_empty() && p.finalize.is_empty() && p.meter.is_empty());
		assert_eq!(p.waiting.len(), 2);
		w.records
			.outcomes
			.insert(at(0), outcome(1, Basis::Measured, Status::Paid));
		w.records
			.outcomes
			.insert(at(1), outcome(3, Basis::NoBaseline, Status::Unpaid));
		let p = plan(&w, END);
		assert_eq!((p.done, p.finalize), (1, vec![at(1)]));
	}

	/// A standard baseline of two days for PoD 1, delivering on Wednesday 2026-12-02: its
	/// history is read, as soon as the session is final, for every candidate day that could
	/// change the baseline, and no more once the slot is settled.
	#[test]
	fn a_standard_baseline_has_its_history_read_until_the_slot_settles() {
		const WED: u64 = 1_796_169_600_000;
		let day = baseline::DAY_MS;
		let tue = baseline::day_of(WED) - 1;
		let mut w = work(Phase::Final);
		w.records.delivery_start_ms = WED;
		if let Some(d) = w.records.baselines.get_mut(&1) {
			d.method = BaselineMethod::WorkingDays(2);
		}
		w.records.history.insert(
			(1, 0, tue),
			Metering {
				quality: ReadingQuality::Suspect,
				..valid()
			},
		);
		w.records.history.insert((1, 0, tue - 1), valid());
		let now = WED + u64::from(SLOT);
		let jobs = |w: &Work, now| -> Vec<(Option<Day>, u64)> {
			plan(w, now)
				.meter
				.iter()
				.map(|j| (j.day, j.start_ms))
				.collect()
		};
		// Tuesday (flagged), Friday and Thursday; Monday is valid already.
		let history = vec![
			(Some(tue), WED - day),
			(Some(tue - 4), WED - 5 * day),
			(Some(tue - 5), WED - 6 * day),
		];
		assert_eq!(jobs(&w, WED - 1), history, "before the slot: history only");
		let mut all = vec![(None, WED)];
		all.extend(history);
		assert_eq!(jobs(&w, now), all);
		// Friday valid too: complete, but a valid Tuesday would still replace Friday.
		w.records.history.insert((1, 0, tue - 4), valid());
		assert_eq!(jobs(&w, now), vec![(None, WED), (Some(tue), WED - day)]);
		// Settled: the slot's history is closed, and a NoHistory outcome stands.
		let open = Status::Open { until_ms: now + 1 };
		w.records
			.outcomes
			.insert(at(0), outcome(1, Basis::NoHistory, open));
		w.records.meterings.insert((1, 0), valid());
		let p = plan(&w, now);
		assert!(p.meter.is_empty() && p.settle.is_empty(), "{p:?}");
	}
}
