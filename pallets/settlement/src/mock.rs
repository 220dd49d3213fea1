//! Mock runtime: the settlement pallet with `pallet-balances` as its token, and the market,
//! registry, certificates, contracts and anchoring stood in by statics that tests change.
//!
//! - DSO operates area 1 with PoD 10 (AGG_A, meters 100 and 101) and PoD 11 (AGG_B, meter 110);
//!   PoD 12 (AGG_A) has no meter.
//! - Session 1 delivers four 15-minute slots from `DAY_D`; its awards are set per test.
//! - Certificates hold real window roots: readings are proven with the primitives' Merkle
//!   trees, so a changed reading fails as it would on chain.

use crate::{self as pallet_settlement, types::*};
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32, ConstU64, EnsureOrigin},
	weights::Weight,
	PalletId,
};
use frame_system::{EnsureRoot, EnsureSigned};
use pallet_market::{Phase, Pricing, SessionInfo, SessionKind, SettledAward};
use pallet_registry::{AreaId, ParticipantRegistry, PomId};
use platone_primitives::{
	merkle::MerkleTree, Accumulation, AnchorKind, Blake2_256, DatasetRoot, EnergyQuantity, Hash,
	MeasurementProof, MeasurementRecord, MeterRead, Reading, VerifyError, Window,
};
use sp_runtime::{BuildStorage, DispatchError, Permill};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Settlement: pallet_settlement,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u128>;
	type DbWeight = frame_support::weights::constants::RocksDbWeight;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = u128;
	type AccountStore = System;
}

pub const DSO: u64 = 1;
pub const TSO: u64 = 2;
pub const AGG_A: u64 = 4;
pub const AGG_B: u64 = 5;
pub const GATEWAY: u64 = 6;
pub const CUSTOMER: u64 = 7;
pub const STRANGER: u64 = 9;
/// A contract mechanism's address.
pub const CONTRACT: u64 = 50;

pub const MINUTE: u64 = 60_000;
pub const HOUR: u64 = 60 * MINUTE;
/// Tokens a dispute puts down.
pub const DISPUTE_DEPOSIT: u128 = 10;
pub const SLOT_MS: u64 = 15 * MINUTE;
/// 2026-12-02 00:00 UTC.
pub const DAY_D: u64 = 1_796_169_600_000;

parameter_types! {
	pub static NowMs: u64 = DAY_D - 3 * HOUR;
	pub static SessionTable: Vec<(SessionId, SessionInfo)> = vec![(1, session_info(Phase::Open, 0))];
	/// (session, offer, owner, pod, slots).
	pub static OfferTable: Vec<(SessionId, ItemId, u64, PodId, Vec<Slot>)> = vec![
		(1, 1, AGG_A, 10, vec![0, 1, 2, 3]),
		(1, 2, AGG_B, 11, vec![0, 1]),
	];
	pub static AwardTable: Vec<(SessionId, AwardRef, SettledAward<u64>)> = Vec::new();
	/// (PoD, area, aggregator, meters).
	pub static PodTable: Vec<(PodId, AreaId, Option<u64>, Vec<PomId>)> = vec![
		(10, 1, Some(AGG_A), vec![100, 101]),
		(11, 1, Some(AGG_B), vec![110]),
		(12, 1, Some(AGG_A), vec![]),
	];
	pub static AreaTable: Vec<(AreaId, u64)> = vec![(1, DSO)];
	pub static Aggregators: Vec<u64> = vec![AGG_A, AGG_B];
	pub static Operators: Vec<u64> = vec![DSO, TSO];
	/// (gateway, window, root).
	pub static CertTable: Vec<(u64, Window, Hash)> = Vec::new();
	/// What the contract answers; `None`: it traps.
	pub static ContractAnswer: Option<Split> = None;
	pub static ContractCalls: u32 = 0;
	pub static AnchorLog: Vec<(u64, AnchorKind, [u8; 32], Hash, u64)> = Vec::new();
	pub const SettlementPalletId: PalletId = PalletId(*b"plt/sttl");
	pub const MaxTolerance: Permill = Permill::from_percent(20);
	pub const DefaultSettlementTerms: Terms = Terms {
		tolerance: Permill::from_percent(10),
		penalty: Permill::from_percent(50),
		customer_share: Permill::zero(),
	};
}

/// Session 1's record in `phase`, with `awards` awards.
pub fn session_info(phase: Phase, awards: u32) -> SessionInfo {
	let schedule = pallet_market::Schedule {
		period_ms: HOUR,
		slot_ms: SLOT_MS as u32,
		open_lead_ms: 3 * HOUR,
		gate_lead_ms: HOUR,
		validation_ms: 30 * MINUTE,
	};
	let mut info = SessionInfo::opened(
		SessionKind::DayAhead,
		DAY_D,
		&schedule,
		4,
		Pricing::PayAsBid,
		4,
	);
	info.phase = phase;
	info.awards = awards;
	info
}

pub struct MockMarket;
impl pallet_market::MarketView<u64> for MockMarket {
	fn session(session: SessionId) -> Option<SessionInfo> {
		SessionTable::get()
			.into_iter()
			.find(|(s, _)| *s == session)
			.map(|(_, i)| i)
	}
	fn offer(session: SessionId, offer: ItemId) -> Option<(u64, PodId, Vec<Slot>)> {
		OfferTable::get()
			.into_iter()
			.find(|o| o.0 == session && o.1 == offer)
			.map(|o| (o.2, o.3, o.4))
	}
	fn final_award(session: SessionId, award: AwardRef) -> Option<SettledAward<u64>> {
		Self::session(session).filter(|i| i.phase == Phase::Final)?;
		AwardTable::get()
			.into_iter()
			.find(|a| a.0 == session && a.1 == award)
			.map(|a| a.2)
	}
	fn final_award_weight() -> frame_support::weights::Weight {
		frame_support::weights::Weight::from_parts(1_000_000, 0)
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn bench_session(
		session: SessionId,
		awards: Vec<SettledAward<u64>>,
		start: u64,
		is_final: bool,
	) {
		let phase = if is_final { Phase::Final } else { Phase::Open };
		let mut info = session_info(phase, if is_final { awards.len() as u32 } else { 0 });
		info.delivery_start_ms = start;
		SessionTable::mutate(|t| {
			t.retain(|e| e.0 != session);
			t.push((session, info))
		});
		OfferTable::mutate(|t| t.retain(|e| e.0 != session));
		AwardTable::mutate(|t| t.retain(|e| e.0 != session));
		for (index, a) in awards.into_iter().enumerate() {
			OfferTable::mutate(|t| t.push((session, a.offer, a.aggregator, a.pod, vec![a.slot])));
			if is_final {
				let step = pallet_market::step_of(a.slot, a.direction).unwrap_or_default();
				let at = AwardRef {
					step,
					index: index as u32,
				};
				AwardTable::mutate(|t| t.push((session, at, a)));
			}
		}
	}
}

pub struct MockRegistry;
impl ParticipantRegistry<u64> for MockRegistry {
	fn has_role(_: &u64, _: u8) -> bool {
		true
	}
	fn pod_aggregator(pod: PodId) -> Option<u64> {
		PodTable::get()
			.iter()
			.find(|p| p.0 == pod)
			.and_then(|p| p.2)
	}
	fn pod_area(pod: PodId) -> Option<AreaId> {
		PodTable::get().iter().find(|p| p.0 == pod).map(|p| p.1)
	}
	fn area_owner(area: AreaId) -> Option<u64> {
		AreaTable::get().iter().find(|a| a.0 == area).map(|a| a.1)
	}
	fn area_within(area: AreaId, ancestor: AreaId) -> bool {
		area == ancestor
	}
	fn pom_pod(pom: PomId) -> Option<PodId> {
		PodTable::get()
			.iter()
			.find(|p| p.3.contains(&pom))
			.map(|p| p.0)
	}
	fn area_path(area: AreaId) -> Vec<AreaId> {
		vec![area]
	}
	fn pod_meters(pod: PodId) -> Vec<PomId> {
		PodTable::get()
			.into_iter()
			.find(|p| p.0 == pod)
			.map(|p| p.3)
			.unwrap_or_default()
	}
}

pub struct MockCertificates;
impl MeasurementVerifier<u64> for MockCertificates {
	fn verify(
		gateway: &u64,
		window: Window,
		proof: &MeasurementProof,
	) -> Result<MeasurementRecord, VerifyError> {
		let root = CertTable::get()
			.into_iter()
			.find(|c| c.0 == *gateway && c.1 == window)
			.map(|c| c.2)
			.ok_or(VerifyError::NotCertified)?;
		platone_primitives::verify_record::<Blake2_256>(&root, &window, 0, proof).map(|(r, _)| r)
	}
}

pub struct MockContracts;
impl ContractMechanism<u64> for MockContracts {
	fn exists(contract: &u64) -> bool {
		*contract == CONTRACT
	}
	fn evaluate(contract: &u64, _: &MechanismInput, _: u64) -> Option<Split> {
		ContractCalls::mutate(|c| *c += 1);
		if *contract == CONTRACT {
			ContractAnswer::get()
		} else {
			None
		}
	}
	/// A call uses half its gas.
	fn evaluate_metered(
		contract: &u64,
		input: &MechanismInput,
		gas: u64,
	) -> (Option<Split>, Weight) {
		(
			Self::evaluate(contract, input, gas),
			Weight::from_parts(gas / 2, 0),
		)
	}
}

pub struct MockAnchoring;
impl pallet_certification::Anchoring<u64> for MockAnchoring {
	fn anchor(
		by: u64,
		kind: AnchorKind,
		subject: [u8; 32],
		digest: Hash,
		leaf_count: u64,
	) -> Result<(), DispatchError> {
		AnchorLog::mutate(|l| l.push((by, kind, subject, digest, leaf_count)));
		Ok(())
	}
}

/// Signed accounts in a static list.
pub struct EnsureIn<L>(core::marker::PhantomData<L>);
impl<L: frame_support::traits::Get<Vec<u64>>> EnsureOrigin<RuntimeOrigin> for EnsureIn<L> {
	type Success = u64;
	fn try_origin(o: RuntimeOrigin) -> Result<u64, RuntimeOrigin> {
		match EnsureSigned::<u64>::try_origin(o.clone()) {
			Ok(who) if L::get().contains(&who) => Ok(who),
			_ => Err(o),
		}
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn try_successful_origin() -> Result<RuntimeOrigin, ()> {
		L::get()
			.first()
			.map(|w| RuntimeOrigin::signed(*w))
			.ok_or(())
	}
}

impl pallet_settlement::Config for Test {
	type Market = MockMarket;
	type Registry = MockRegistry;
	type Certificates = MockCertificates;
	type Anchoring = MockAnchoring;
	type Token = Balances;
	type Contracts = MockContracts;
	type AggregatorOrigin = EnsureIn<Aggregators>;
	type OperatorOrigin = EnsureIn<Operators>;
	type ParticipantOrigin = EnsureSigned<u64>;
	type AdminOrigin = EnsureRoot<u64>;
	type UnixTime = MockTime;
	type PalletId = SettlementPalletId;
	type DefaultTerms = DefaultSettlementTerms;
	type MaxTolerance = MaxTolerance;
	type MaxMeters = ConstU32<4>;
	type MaxSlots = ConstU32<96>;
	type MaxReadings = ConstU32<64>;
	type MaxAwardsPerCall = ConstU32<16>;
	type MaxContractGas = ConstU64<1_000_000_000>;
	type MeteringDelayMs = ConstU64<{ HOUR }>;
	type DisputeMs = ConstU64<{ 2 * HOUR }>;
	type DisputeDeposit = ConstU128<DISPUTE_DEPOSIT>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockHelper;
}

pub struct MockTime;
impl frame_support::traits::UnixTime for MockTime {
	fn now() -> core::time::Duration {
		core::time::Duration::from_millis(NowMs::get())
	}
}

#[cfg(feature = "runtime-benchmarks")]
pub struct MockHelper;
#[cfg(feature = "runtime-benchmarks")]
impl BenchmarkHelper<u64> for MockHelper {
	fn participant(seed: u32, _roles: u8) -> u64 {
		let who = 1_000 + u64::from(seed);
		Aggregators::mutate(|a| a.push(who));
		Operators::mutate(|a| a.push(who));
		who
	}
	fn pod_with_meters(
		operator: &u64,
		aggregator: &u64,
		_: &u64,
		meters: u32,
	) -> (PodId, Vec<PomId>) {
		let area = AreaTable::get().iter().map(|a| a.0).max().unwrap_or(0) + 1;
		AreaTable::mutate(|t| t.push((area, *operator)));
		let pod = PodTable::get().iter().map(|p| p.0).max().unwrap_or(0) + 1;
		let poms: Vec<PomId> = (0..u64::from(meters))
			.map(|i| 10_000 + u64::from(pod) * 100 + i)
			.collect();
		PodTable::mutate(|t| t.push((pod, area, Some(*aggregator), poms.clone())));
		(pod, poms)
	}
	fn certify(gateway: &u64, window: Window, root: Hash) {
		// A benchmark runs its set-up once per component value: the last certificate counts,
		// as the runtime's storage would keep it.
		CertTable::mutate(|t| {
			t.retain(|c| (c.0, c.1) != (*gateway, window));
			t.push((*gateway, window, root))
		});
	}
	fn set_now_ms(ms: u64) {
		NowMs::set(ms);
	}
}

/// A meter reading record: a 5-minute delta ending at `t_ms`, or a register read at it.
pub fn reading(
	dataset: PomId,
	t_ms: u64,
	q: EnergyQuantity,
	acc: Accumulation,
	value: u64,
) -> MeasurementRecord {
	let read = MeterRead {
		quantity: q,
		accumulation: acc,
		value,
		quality: platone_primitives::ReadingQuality::Valid,
	};
	MeasurementRecord {
		dataset,
		timestamp_us: t_ms * 1_000,
		sequence: read.sequence(),
		reading: Reading::MeterRead(read),
	}
}

/// Certifies `records` in `gateway`'s window (datasets in ascending order, records in
/// canonical order) and returns each record's proof, in the order given.
pub fn certify(
	gateway: u64,
	window: Window,
	records: &[MeasurementRecord],
) -> Vec<(u64, Window, MeasurementProof)> {
	let mut datasets: Vec<PomId> = records.iter().map(|r| r.dataset).collect();
	datasets.sort_unstable();
	datasets.dedup();
	let mut roots = Vec::new();
	let mut trees = Vec::new();
	for d in &datasets {
		let mut ds: Vec<&MeasurementRecord> = records.iter().filter(|r| r.dataset == *d).collect();
		ds.sort_by_key(|r| r.order_key());
		let bytes: Vec<Vec<u8>> = ds.iter().map(|r| r.canonical_bytes()).collect();
		let tree = MerkleTree::from_leaves::<Blake2_256>(&bytes);
		roots.push(DatasetRoot {
			dataset: *d,
			leaf_count: tree.leaf_count(),
			root: tree.root::<Blake2_256>(),
		});
		trees.push((bytes, tree));
	}
	let top = MerkleTree::from_leaf_hashes::<Blake2_256>(
		roots.iter().map(|r| r.leaf_hash::<Blake2_256>()).collect(),
	);
	// A test that certifies a window again replaces it (the chain would refuse).
	CertTable::mutate(|t| {
		t.retain(|c| (c.0, c.1) != (gateway, window));
		t.push((gateway, window, top.root::<Blake2_256>()))
	});
	records
		.iter()
		.map(|r| {
			let di = datasets
				.iter()
				.position(|d| *d == r.dataset)
				.expect("listed");
			let (bytes, tree) = &trees[di];
			let li = bytes
				.iter()
				.position(|b| *b == r.canonical_bytes())
				.expect("listed");
			(
				gateway,
				window,
				MeasurementProof {
					leaf: bytes[li].clone(),
					leaf_proof: tree.proof(li as u64).expect("in the tree"),
					dataset: roots[di],
					dataset_proof: top.proof(di as u64).expect("in the tree"),
				},
			)
		})
		.collect()
}

#[derive(Default)]
pub struct ExtBuilder {
	balances: Vec<(u64, u128)>,
}

impl ExtBuilder {
	/// Mints `amount` to `who` through the pallet, so that issuance stays as minted.
	pub fn funded(mut self, who: u64, amount: u128) -> Self {
		self.balances.push((who, amount));
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		// The statics are per thread: a test that builds twice starts afresh each time.
		NowMs::set(DAY_D - 3 * HOUR);
		SessionTable::set(vec![(1, session_info(Phase::Open, 0))]);
		AwardTable::set(Vec::new());
		CertTable::set(Vec::new());
		ContractAnswer::set(None);
		ContractCalls::set(0);
		AnchorLog::set(Vec::new());
		let storage = frame_system::GenesisConfig::<Test>::default()
			.build_storage()
			.expect("mock genesis builds");
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| {
			System::set_block_number(1);
			for (who, amount) in &self.balances {
				crate::Pallet::<Test>::do_mint(*who, *amount).expect("mints");
			}
		});
		ext
	}
}
