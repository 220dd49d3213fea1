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
//!    be settled on metering, the metering sent just before it (`settle`);
//! 3. it makes final each outcome whose dispute window has passed, or that is unpaid
//!    (`finalize`).
//!
//! All of it goes to the node as one lot of transactions, signed with consecutive nonces in
//! that order, and is awaited together: one finality wait per run, not one per transaction.
//! Each run plans from the finalized head, so the worker can be killed and run again at any
//! time: it does what is left (what a killed run sent and the chain took, it finds done). What
//! it cannot do yet (data not certified, an incomplete slot) it reports and leaves for the
//! next run.
//!
//! Without `--session` (and in `platone run` with `[settle] enabled`) it follows every session
//! ([`follow`]): each round it reads the stage of the sessions from the oldest one that may
//! still need it, runs the above for each final session not yet settled, and moves past those
//! that are settled or pruned. Each round it also prunes settled sessions past the market's
//! retention (`prune_session`), so that storage stays bounded without an operator.

use std::{
	collections::{BTreeMap, BTreeSet},
	time::Duration,
};

use anyhow::Context;
use pallet_market::AwardRef;
use pallet_settlement::{
	baseline::{self, Day},
	metering::slot_metering,
	BaselineMethod, Basis, Status,
};
use platone_chain::{
	market::AccountId,
	settlement::{SettlementTx, Stage, Work},
	Chain, Keypair,
};
use platone_primitives::{Accumulation, MeasurementRecord, Reading};
use platone_scd::{CertState, Store};
use prometheus_client::{
	metrics::{counter::Counter, gauge::Gauge},
	registry::Registry,
};

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
	/// Open outcomes settled without valid metering, whose slot this run meters: settled
	/// again right after it, in the same lot of transactions.
	pub resettle: Vec<Resettle>,
	pub finalize: Vec<AwardRef>,
	/// Awards that are not final yet, and why nothing can be done for them now.
	pub waiting: Vec<String>,
	/// Awards already final.
	pub done: usize,
}

/// An outcome to settle again once its slot's metering is sent.
#[derive(Debug, PartialEq, Eq)]
pub struct Resettle {
	pub award: AwardRef,
	pub pod: u32,
	pub slot: u16,
	/// Its dispute window is over: made final instead if no metering can be sent.
	pub or_finalize: bool,
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
	// Slots whose own metering (not history) this plan sends.
	let mut metering_sent = BTreeSet::new();
	let settled_slots: BTreeSet<(u32, u16)> = r
		.awards
		.iter()
		.filter(|(award, _)| r.outcomes.contains_key(award))
		.map(|(_, a)| (a.pod, a.slot))
		.collect();
	for (award, a) in &r.awards {
		let label = format!(
			"award {}/{} (PoD {}, slot {})",
			award.step, award.index, a.pod, a.slot
		);
		let Some((start_ms, end_ms)) = baseline::slot_span(r.delivery_start_ms, r.slot_ms, a.slot)
		else {
			plan.waiting.push(format!(
				"{label}: the slot's time is past what a u64 of ms holds"
			));
			continue;
		};
		let metered = r
			.meterings
			.get(&(a.pod, a.slot))
			.is_some_and(|m| m.is_valid());
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
				metering_sent.insert((a.pod, a.slot));
			}
			// History closes when the slot is first settled; its days precede the slot, so
			// it goes on chain as soon as the session is final. Every candidate day that could
			// still change the baseline: any, while it is incomplete; afterwards those later
			// than the oldest day it takes (a missing later day would push that one out).
			if let (false, Some(BaselineMethod::WorkingDays(n))) = (
				settled_slots.contains(&(a.pod, a.slot)),
				declared.map(|d| d.method),
			) {
				let valid = |day| history(day).is_some_and(|m| m.is_valid());
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
			Some((Status::Open { until_ms }, Basis::Unmetered | Basis::Flagged(_)))
				if metering_sent.contains(&(a.pod, a.slot)) =>
			{
				plan.resettle.push(Resettle {
					award: *award,
					pod: a.pod,
					slot: a.slot,
					or_finalize: now_ms >= until_ms,
				})
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

/// The SCD's side of `platone audit settlement --with-scd`: each metering on chain, and each day of
/// history, derived again from the readings of the declared meters that the SCD holds
/// certified, with the pallet's own code. Yields how many were checked and one line per slot
/// the SCD meters differently, or cannot meter: readings left out of or added to a submission
/// that the chain's proofs alone would not reveal.
pub async fn scd_differences<S: Store>(
	store: &S,
	r: &pallet_settlement::audit::Records<AccountId>,
) -> anyhow::Result<(usize, Vec<String>)> {
	let metered = r
		.meterings
		.iter()
		.map(|(&(pod, slot), m)| (pod, slot, None, *m));
	let history = r
		.history
		.iter()
		.map(|(&(pod, slot, day), m)| (pod, slot, Some(day), *m));
	let mut checked = 0;
	let mut differences = Vec::new();
	for (pod, slot, day, on_chain) in metered.chain(history) {
		let what = match day {
			None => format!("PoD {pod} slot {slot}"),
			Some(day) => format!("PoD {pod} slot {slot} on day {day}"),
		};
		let span =
			baseline::slot_span(r.delivery_start_ms, r.slot_ms, slot).and_then(|(start, end)| {
				match day {
					None => Some((start, end)),
					Some(day) => baseline::on_day(start, end, day),
				}
			});
		let (Some(declared), Some((start_ms, end_ms))) = (r.baselines.get(&pod), span) else {
			differences.push(format!(
				"{what}: metered on chain without a declaration or time"
			));
			continue;
		};
		let job = SlotJob {
			pod,
			slot,
			day,
			start_ms,
			end_ms,
			meters: declared.meters.clone(),
		};
		let mut certified = Vec::new();
		for (m, record) in slot_readings(store, &job).await? {
			let proven = platone_scd::proof(store, m.dataset, m.timestamp_us, m.sequence).await?;
			if proven.is_some_and(|p| p.certificate.state == CertState::Certified) {
				certified.push(record);
			}
		}
		checked += 1;
		match slot_metering(&job.meters, start_ms, end_ms, &certified) {
			Ok(scd) if scd == on_chain => {}
			Ok(scd) => differences.push(format!(
				"{what}: the chain holds {on_chain:?}, the SCD's certified readings give {scd:?}"
			)),
			Err(e) => differences.push(format!(
				"{what}: the chain holds {on_chain:?}, the SCD's certified readings do not meter \
				 it ({e:?})"
			)),
		}
	}
	Ok((checked, differences))
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

	/// One line: what the run did, and how many awards are final.
	pub fn summary(&self, session: u32) -> String {
		format!(
			"session {session}: {} slots metered, {} awards settled, {} finalized, {} final",
			self.metered, self.settled, self.finalized, self.done
		)
	}
}

/// What one transaction of a run does, for its report.
enum Sent {
	Metered(String),
	Settled(Vec<AwardRef>),
	Finalized(Vec<AwardRef>),
}

/// One run for `session`: its metering, settlements and finalizations, sent as one lot of
/// transactions (metering first, so that a settlement after it in the lot is measured) and
/// awaited together: one finality wait rather than one per transaction.
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
	let plan = plan(&work, now_ms);
	let mut txs = Vec::new();
	let mut sent = Vec::new();
	let mut metering_sent = BTreeSet::new();
	for job in &plan.meter {
		let what = match job.day {
			None => format!("PoD {} slot {}", job.pod, job.slot),
			Some(day) => format!("PoD {} slot {} on day {day}", job.pod, job.slot),
		};
		let readings = slot_readings(store, job).await?;
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
		let (pod, slot) = (job.pod, job.slot);
		txs.push(match job.day {
			None => {
				metering_sent.insert((pod, slot));
				SettlementTx::Metering {
					session,
					pod,
					slot,
					readings: proofs,
				}
			}
			Some(day) => SettlementTx::History {
				session,
				pod,
				slot,
				day,
				readings: proofs,
			},
		});
		sent.push(Sent::Metered(what));
	}
	let chunk = max_awards.max(1);
	let mut settle: Vec<Vec<AwardRef>> = plan.settle.chunks(chunk).map(<[_]>::to_vec).collect();
	let mut finalize = plan.finalize.clone();
	// Settled again in a transaction per slot, after that slot's metering: if the metering
	// fails, only that settlement fails with it.
	let mut again: BTreeMap<(u32, u16), Vec<AwardRef>> = BTreeMap::new();
	for r in &plan.resettle {
		if metering_sent.contains(&(r.pod, r.slot)) {
			again.entry((r.pod, r.slot)).or_default().push(r.award);
		} else if r.or_finalize {
			finalize.push(r.award);
		} else {
			report.waiting.push(format!(
				"award {}/{}: open unmetered, its metering not sent yet",
				r.award.step, r.award.index
			));
		}
	}
	for awards in again.into_values() {
		settle.extend(awards.chunks(chunk).map(<[_]>::to_vec));
	}
	for awards in settle {
		txs.push(SettlementTx::Settle {
			session,
			awards: awards.clone(),
		});
		sent.push(Sent::Settled(awards));
	}
	for awards in finalize.chunks(chunk) {
		txs.push(SettlementTx::Finalize {
			session,
			awards: awards.to_vec(),
		});
		sent.push(Sent::Finalized(awards.to_vec()));
	}
	let pending = if txs.is_empty() {
		Vec::new()
	} else {
		chain.send_settlement(signer, &txs).await?
	};
	for (what, pending) in sent.into_iter().zip(pending) {
		let done = match pending {
			Ok(pending) => pending.await,
			Err(e) => Err(e),
		};
		match (what, done) {
			(Sent::Metered(what), Ok(_)) => {
				tracing::info!(session, "{what}: metering submitted");
				report.metered += 1;
			}
			(Sent::Metered(what), Err(e)) => report
				.waiting
				.push(format!("{what}: metering refused: {e}")),
			(Sent::Settled(awards), Ok(_)) => report.settled += awards.len(),
			(Sent::Settled(awards), Err(e)) => {
				report.waiting.push(format!("settling {awards:?}: {e}"))
			}
			(Sent::Finalized(awards), Ok(_)) => report.finalized += awards.len(),
			(Sent::Finalized(awards), Err(e)) => {
				report.waiting.push(format!("finalizing {awards:?}: {e}"))
			}
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

/// The sessions a round runs (final, not settled), and the first session the next round
/// starts from: the oldest that may still need the worker, past any settled or pruned ones.
pub fn due(stages: &[(u32, Stage)], from: u32) -> (Vec<u32>, u32) {
	let run = stages
		.iter()
		.filter(|(_, s)| *s == Stage::Settling)
		.map(|(id, _)| *id)
		.collect();
	let next = stages
		.iter()
		.find(|(_, s)| matches!(s, Stage::Trading | Stage::Settling))
		.or(stages.last())
		.map_or(from, |(id, stage)| match stage {
			Stage::Trading | Stage::Settling => *id,
			Stage::Gone | Stage::Settled => id.saturating_add(1),
		});
	(run, next)
}

/// What [`follow`] needs besides the chain.
pub struct Worker<'a, S> {
	pub store: &'a S,
	pub signer: &'a Keypair,
	/// The gateway whose SCD `store` is: its certificates prove the readings.
	pub gateway: &'a AccountId,
	pub max_awards: usize,
	pub max_readings: usize,
	pub metrics: &'a Metrics,
}

/// The following worker's Prometheus metrics (`platone_settle_*`; in `platone run`, at the SCD
/// API's `/metrics`). Alert on `last_round_unix_ms` going stale, on `failures` rising, and on
/// `sessions_settling` or `awards_waiting` staying up past the dispute window.
pub struct Metrics {
	registry: Registry,
	pub rounds: Counter,
	pub failures: Counter,
	pub metered: Counter,
	pub settled: Counter,
	pub finalized: Counter,
	pub pruned: Counter,
	pub sessions_settling: Gauge,
	pub awards_waiting: Gauge,
	pub last_round_unix_ms: Gauge,
}

impl Default for Metrics {
	fn default() -> Self {
		let m = Metrics {
			registry: Registry::default(),
			rounds: Counter::default(),
			failures: Counter::default(),
			metered: Counter::default(),
			settled: Counter::default(),
			finalized: Counter::default(),
			pruned: Counter::default(),
			sessions_settling: Gauge::default(),
			awards_waiting: Gauge::default(),
			last_round_unix_ms: Gauge::default(),
		};
		let mut r = Registry::with_prefix("platone_settle");
		for (name, help, counter) in [
			("rounds", "Rounds over the sessions completed", &m.rounds),
			(
				"failures",
				"Rounds or session runs that failed (retried next round)",
				&m.failures,
			),
			("metered", "Metering and history submissions", &m.metered),
			("settled", "Awards settled", &m.settled),
			("finalized", "Outcomes made final", &m.finalized),
			(
				"pruned",
				"prune_session calls for sessions past retention",
				&m.pruned,
			),
		] {
			r.register(name, help, counter.clone());
		}
		for (name, help, gauge) in [
			(
				"sessions_settling",
				"Final sessions not yet settled, last round",
				&m.sessions_settling,
			),
			(
				"awards_waiting",
				"Awards or slots waiting (data, windows, disputes), last round",
				&m.awards_waiting,
			),
			(
				"last_round_unix_ms",
				"When the last round completed",
				&m.last_round_unix_ms,
			),
		] {
			r.register(name, help, gauge.clone());
		}
		Metrics { registry: r, ..m }
	}
}

impl Metrics {
	/// The OpenMetrics text exposition, without its closing `# EOF` line when `last` is false
	/// (for another registry's exposition to follow).
	pub fn render(&self, last: bool) -> String {
		let mut out = String::new();
		// Writing into a String cannot fail.
		let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
		if !last {
			strip_eof(&mut out);
		}
		out
	}
}

/// Drops an OpenMetrics exposition's closing `# EOF` line, so that two registries can be
/// served as one.
pub fn strip_eof(exposition: &mut String) {
	if let Some(body) = exposition.strip_suffix("# EOF\n") {
		exposition.truncate(body.len());
	}
}

fn gauge(v: u64) -> i64 {
	i64::try_from(v).unwrap_or(i64::MAX)
}

/// Follows every market session until `stop` turns true: each round, every final session not
/// yet settled, from the oldest that may still need it. A round that fails (the chain
/// unreachable, a node that went away) is logged and the next one starts afresh.
pub async fn follow<S: Store>(
	rpc: &str,
	insecure: bool,
	worker: Worker<'_, S>,
	every: Duration,
	mut stop: tokio::sync::watch::Receiver<bool>,
) {
	let mut chain = None;
	let mut from = 1;
	let mut prune_from = 1;
	while !*stop.borrow() {
		if chain.is_none() {
			match Chain::connect(rpc, insecure).await {
				Ok(c) => chain = Some(c),
				Err(e) => {
					tracing::warn!(rpc, "settlement: chain unreachable: {e}");
					worker.metrics.failures.inc();
				}
			}
		}
		if let Some(c) = &chain {
			match round(c, &worker, (from, prune_from), &stop).await {
				Ok(next) => (from, prune_from) = next,
				Err(e) => {
					tracing::warn!("settlement round failed, retrying: {e:#}");
					worker.metrics.failures.inc();
					chain = None;
				}
			}
		}
		tokio::select! {
			_ = tokio::time::sleep(every) => {}
			_ = stop.wait_for(|stop| *stop) => {}
		}
	}
	tracing::info!("settlement worker stopped");
}

/// Sessions looked at for pruning per round, from the oldest left: retention passes in the
/// order sessions were opened, give or take a day-ahead session's lead.
const PRUNE_LOOK: u32 = 16;

/// One round of [`follow`] from session `from` (and, for pruning, `prune_from`); yields where
/// the next one starts.
async fn round<S: Store>(
	chain: &Chain,
	w: &Worker<'_, S>,
	(from, prune_from): (u32, u32),
	stop: &tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<(u32, u32)> {
	let (at, _) = chain.finalized().await?;
	let stages = chain.settlement_stages(from, at).await?;
	let (sessions, next) = due(&stages, from);
	w.metrics
		.sessions_settling
		.set(gauge(sessions.len() as u64));
	let mut waiting = 0;
	for session in sessions {
		if *stop.borrow() {
			break;
		}
		// One session's failure (say, a stored reading that does not decode) must not hold
		// up the others: it is logged and tried again next round.
		let report = match run(
			chain,
			w.store,
			w.signer,
			w.gateway,
			session,
			w.max_awards,
			w.max_readings,
		)
		.await
		{
			Ok(report) => report,
			Err(e) => {
				tracing::warn!(session, "settlement run failed: {e:#}");
				w.metrics.failures.inc();
				continue;
			}
		};
		w.metrics.metered.inc_by(report.metered as u64);
		w.metrics.settled.inc_by(report.settled as u64);
		w.metrics.finalized.inc_by(report.finalized as u64);
		waiting += report.waiting.len() as u64;
		for why in &report.waiting {
			tracing::debug!(session, "waiting: {why}");
		}
		tracing::info!(
			session,
			metered = report.metered,
			settled = report.settled,
			finalized = report.finalized,
			r#final = report.done,
			waiting = report.waiting.len(),
			"{}",
			report.summary(session)
		);
	}
	w.metrics.awards_waiting.set(gauge(waiting));
	// Storage stays bounded without an operator: each settled session past the market's
	// retention is pruned, a call's share per round (anyone may; docs/market.md).
	let (prune, prune_next) = chain.prunable_sessions(prune_from, PRUNE_LOOK, at).await?;
	if !prune.is_empty() {
		let txs: Vec<_> = prune
			.iter()
			.map(|&session| SettlementTx::Prune { session })
			.collect();
		for (session, sent) in prune
			.iter()
			.zip(chain.send_settlement(w.signer, &txs).await?)
		{
			match async { sent?.await }.await {
				Ok(_) => {
					w.metrics.pruned.inc();
				}
				Err(e) => tracing::warn!(session, "pruning refused: {e}"),
			}
		}
	}
	w.metrics.rounds.inc();
	let now_ms = std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map_or(0, |d| d.as_millis() as u64);
	w.metrics.last_round_unix_ms.set(gauge(now_ms));
	Ok((next, prune_next.unwrap_or(prune_from)))
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
		audit::Records, Declared, MechanismInput, Metering, Outcome, Params, ReadingQuality,
		Record, Split,
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
	fn following_runs_final_unsettled_sessions_and_moves_past_done_ones() {
		use Stage::*;
		// Pruned and settled sessions before the first that may still change are passed for
		// good; a day-ahead session still trading holds the start while a later real-time one
		// is settled around it.
		let stages = [
			(3, Gone),
			(4, Settled),
			(5, Settling),
			(6, Trading),
			(7, Settling),
			(8, Settled),
		];
		assert_eq!(due(&stages, 3), (vec![5, 7], 5));
		assert_eq!(due(&stages[2..], 5), (vec![5, 7], 5));
		assert_eq!(due(&[(5, Settled), (6, Trading)], 5), (vec![], 6));
		assert_eq!(due(&[(5, Settled), (6, Gone)], 5), (vec![], 7));
		assert_eq!(due(&[], 9), (vec![], 9), "no session yet");
	}

	#[test]
	fn the_workers_metrics_join_another_exposition() {
		let m = Metrics::default();
		m.settled.inc_by(2);
		m.sessions_settling.set(1);
		let mut first = m.render(false);
		assert!(!first.contains("# EOF"), "{first}");
		first.push_str(&m.render(true));
		assert_eq!(first.matches("# EOF").count(), 1, "{first}");
		assert!(first.ends_with("# EOF\n"), "{first}");
		assert!(first.contains("platone_settle_settled_total 2"), "{first}");
		assert!(
			first.contains("platone_settle_sessions_settling 1"),
			"{first}"
		);
	}

	#[test]
	fn a_session_is_settling_from_final_until_its_outcomes_are_anchored() {
		use platone_chain::settlement::stage;
		let schedule = pallet_market::Schedule {
			period_ms: 86_400_000,
			slot_ms: SLOT,
			open_lead_ms: 0,
			gate_lead_ms: 0,
			validation_ms: 0,
		};
		let info = |phase, awards| pallet_market::SessionInfo {
			phase,
			awards,
			..pallet_market::SessionInfo::opened(
				pallet_market::SessionKind::DayAhead,
				START,
				&schedule,
				1,
				pallet_market::Pricing::PayAsBid,
				4,
			)
		};
		let tally = |root| pallet_settlement::Tally {
			awards: 2,
			settled: 2,
			fixed: 2,
			peaks: Default::default(),
			root,
		};
		assert_eq!(stage(None, None), Stage::Gone);
		assert_eq!(stage(Some(&info(Phase::Pruning, 2)), None), Stage::Gone);
		assert_eq!(
			stage(Some(&info(Phase::Validated, 2)), None),
			Stage::Trading
		);
		assert_eq!(stage(Some(&info(Phase::Final, 2)), None), Stage::Settling);
		assert_eq!(
			stage(Some(&info(Phase::Final, 2)), Some(&tally(None))),
			Stage::Settling
		);
		assert_eq!(
			stage(Some(&info(Phase::Final, 2)), Some(&tally(Some([1; 32])))),
			Stage::Settled
		);
		assert_eq!(stage(Some(&info(Phase::Final, 0)), None), Stage::Settled);
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
		// Past its dispute window and unmetered: its meters are read, and it is settled again
		// after them in the same lot (made final only if they cannot be sent).
		let p = plan(&w, END + 1);
		assert_eq!(p.meter.len(), 1);
		assert_eq!(
			p.resettle,
			vec![Resettle {
				award: at(0),
				pod: 1,
				slot: 0,
				or_finalize: true
			}]
		);
		assert_eq!(p.finalize, vec![at(1)]);
		// Still in its window: settled again after the metering, never made final.
		let open_on = Status::Open { until_ms: END + 5 };
		let mut w2 = work(Phase::Final);
		w2.records
			.outcomes
			.insert(at(0), outcome(1, Basis::Unmetered, open_on));
		let p = plan(&w2, END + 1);
		assert_eq!(p.meter.len(), 1);
		assert_eq!(p.resettle.len(), 1);
		assert!(!p.resettle[0].or_finalize && p.finalize.is_empty(), "{p:?}");
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
