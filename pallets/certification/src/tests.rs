//! Unit tests of the certification pallet (issue #3; FR-BAP-DM-02, FR-MP-BC-01/02).

use frame_support::{assert_noop, assert_ok, BoundedVec};
use platone_primitives::{
	merkle::Hasher, AnchorKind, Blake2_256, DatasetRoot, MeasurementProof, MerkleTree, VerifyError,
	Window,
};
use sp_runtime::DispatchError;

use crate::{mock::*, BatchOf, Certificates, DatasetWindow, Error, Event, WindowCommitment};

const NOW: u64 = 1_795_564_800_000;

fn window(index_back: u64) -> Window {
	// The `index_back`-th closed window before NOW (1 = the one that just closed).
	Window {
		start_ms: NOW - index_back * u64::from(WINDOW_MS),
		duration_ms: WINDOW_MS,
	}
}

fn root_of(dataset: u64, salt: u8) -> DatasetRoot {
	let leaves: Vec<Vec<u8>> = (0..3u8).map(|i| vec![salt, i, dataset as u8]).collect();
	let tree = MerkleTree::from_leaves::<Blake2_256>(&leaves);
	DatasetRoot {
		dataset,
		leaf_count: tree.leaf_count(),
		root: tree.root::<Blake2_256>(),
	}
}

fn commitment(
	window: Window,
	datasets: &[u64],
	salt: u8,
) -> WindowCommitment<<Test as crate::Config>::MaxDatasetsPerWindow> {
	WindowCommitment {
		window,
		datasets: BoundedVec::truncate_from(datasets.iter().map(|d| root_of(*d, salt)).collect()),
	}
}

fn batch(
	items: Vec<WindowCommitment<<Test as crate::Config>::MaxDatasetsPerWindow>>,
) -> BatchOf<Test> {
	BoundedVec::truncate_from(items)
}

fn certify(
	who: u64,
	items: Vec<WindowCommitment<<Test as crate::Config>::MaxDatasetsPerWindow>>,
) -> frame_support::dispatch::DispatchResult {
	Certification::certify(RuntimeOrigin::signed(who), batch(items))
		.map(|_| ())
		.map_err(|e| e.error)
}

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event").event
}

#[test]
fn certifies_a_window_and_stores_one_root() {
	ExtBuilder::default().build_and_execute(|| {
		let c = commitment(window(1), &[3, 5, 8], 0);
		let expected = platone_primitives::window_root::<Blake2_256>(&c.datasets);
		assert_ok!(certify(GATEWAY, vec![c]));
		let cert = Certificates::<Test>::get(GATEWAY, window(1)).expect("stored");
		assert_eq!(cert.root, expected);
		assert_eq!((cert.datasets, cert.leaves, cert.certified_at), (3, 9, 1));
		assert_eq!(
			last_event(),
			Event::Certified {
				gateway: GATEWAY,
				window: window(1),
				root: expected,
				datasets: 3,
				leaves: 9
			}
			.into()
		);
		assert_eq!(DatasetWindow::<Test>::get(5), Some(WINDOW_MS));
	});
}

#[test]
fn state_per_window_is_independent_of_device_count() {
	ExtBuilder::default().build_and_execute(|| {
		let few: Vec<u64> = (0..2).collect();
		let many: Vec<u64> = (100..116).collect();
		assert_ok!(certify(
			GATEWAY,
			vec![
				commitment(window(2), &few, 0),
				commitment(window(1), &many, 0)
			]
		));
		let a = Certificates::<Test>::hashed_key_for(GATEWAY, window(2));
		let b = Certificates::<Test>::hashed_key_for(GATEWAY, window(1));
		let size = |k: &[u8]| sp_io::storage::get(k).map(|v| v.len()).unwrap();
		assert_eq!(size(&a), size(&b));
		// Root 32, datasets 4, leaves 8, block number (4 in the runtime, 8 in this mock).
		let block = core::mem::size_of::<frame_system::pallet_prelude::BlockNumberFor<Test>>();
		assert_eq!(size(&a), 44 + block);
		// 100 bytes with 32-byte runtime accounts.
		assert_eq!(
			a.len(),
			76,
			"prefix 32 + blake2_128concat(u64) 24 + twox64concat(window) 20"
		);
	});
}

#[test]
fn identical_resubmission_is_a_harmless_no_op() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(certify(GATEWAY, vec![commitment(window(1), &[1, 2], 7)]));
		let before = Certificates::<Test>::get(GATEWAY, window(1));
		System::set_block_number(2);
		assert_ok!(certify(GATEWAY, vec![commitment(window(1), &[1, 2], 7)]));
		assert_eq!(
			Certificates::<Test>::get(GATEWAY, window(1)),
			before,
			"certified_at unchanged"
		);
		assert_eq!(
			last_event(),
			Event::AlreadyCertified {
				gateway: GATEWAY,
				window: window(1)
			}
			.into()
		);
	});
}

#[test]
fn different_root_is_refused_and_recorded_for_auditors() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(certify(GATEWAY, vec![commitment(window(1), &[1, 2], 7)]));
		let certified = Certificates::<Test>::get(GATEWAY, window(1)).unwrap().root;
		let tampered = commitment(window(1), &[1, 2], 8);
		let rejected = platone_primitives::window_root::<Blake2_256>(&tampered.datasets);
		// Another window in the same batch still goes through.
		assert_ok!(certify(
			GATEWAY,
			vec![tampered, commitment(window(2), &[1], 0)]
		));
		assert_eq!(
			Certificates::<Test>::get(GATEWAY, window(1)).unwrap().root,
			certified
		);
		assert!(Certificates::<Test>::contains_key(GATEWAY, window(2)));
		assert!(System::events().iter().any(|r| r.event
			== Event::Conflict {
				gateway: GATEWAY,
				window: window(1),
				certified,
				rejected
			}
			.into()));
	});
}

#[test]
fn gateways_have_separate_windows() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(certify(GATEWAY, vec![commitment(window(1), &[1], 0)]));
		assert_ok!(certify(
			OTHER_GATEWAY,
			vec![commitment(window(1), &[1001], 0)]
		));
		assert_eq!(Certificates::<Test>::iter().count(), 2);
	});
}

#[test]
fn refuses_unsigned_and_unauthorised_submitters() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Certification::certify(
				RuntimeOrigin::none(),
				batch(vec![commitment(window(1), &[1], 0)])
			),
			DispatchError::BadOrigin
		);
		assert_noop!(
			certify(OUTSIDER, vec![commitment(window(1), &[1], 0)]),
			Error::<Test>::DatasetNotAuthorized
		);
		// A gateway may not certify another gateway's dataset, even among its own.
		assert_noop!(
			certify(GATEWAY, vec![commitment(window(1), &[1, 1500], 0)]),
			Error::<Test>::DatasetNotAuthorized
		);
	});
}

#[test]
fn refuses_malformed_batches() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(certify(GATEWAY, vec![]), Error::<Test>::EmptyBatch);
		assert_noop!(
			certify(GATEWAY, vec![commitment(window(1), &[], 0)]),
			Error::<Test>::EmptyWindow
		);
		assert_noop!(
			certify(GATEWAY, vec![commitment(window(1), &[2, 1], 0)]),
			Error::<Test>::DatasetsNotSorted
		);
		assert_noop!(
			certify(GATEWAY, vec![commitment(window(1), &[2, 2], 0)]),
			Error::<Test>::DatasetsNotSorted
		);
		assert_noop!(
			certify(
				GATEWAY,
				vec![
					commitment(window(1), &[1], 0),
					commitment(window(1), &[2], 0)
				]
			),
			Error::<Test>::DuplicateWindow
		);
		let mut empty = commitment(window(1), &[1], 0);
		empty.datasets[0].leaf_count = 0;
		assert_noop!(certify(GATEWAY, vec![empty]), Error::<Test>::EmptyDataset);
	});
}

#[test]
fn refuses_bad_windows() {
	ExtBuilder::default().build_and_execute(|| {
		let short = Window {
			start_ms: NOW - 999,
			duration_ms: 999,
		};
		assert_noop!(
			certify(GATEWAY, vec![commitment(short, &[1], 0)]),
			Error::<Test>::InvalidWindowDuration
		);
		let long = Window {
			start_ms: 0,
			duration_ms: 3_600_001,
		};
		assert_noop!(
			certify(GATEWAY, vec![commitment(long, &[1], 0)]),
			Error::<Test>::InvalidWindowDuration
		);
		let misaligned = Window {
			start_ms: window(2).start_ms + 1,
			duration_ms: WINDOW_MS,
		};
		assert_noop!(
			certify(GATEWAY, vec![commitment(misaligned, &[1], 0)]),
			Error::<Test>::MisalignedWindow
		);
		// The current window has not closed; neither has any later one.
		assert_noop!(
			certify(GATEWAY, vec![commitment(window(0), &[1], 0)]),
			Error::<Test>::WindowInFuture
		);
		let overflow = Window {
			start_ms: u64::MAX - u64::MAX % 1000,
			duration_ms: 1000,
		};
		assert_noop!(
			certify(GATEWAY, vec![commitment(overflow, &[1], 0)]),
			Error::<Test>::Overflow
		);
	});
}

#[test]
fn clock_drift_is_tolerated_up_to_the_bound() {
	// 4 s before the current window closes: within the 5 s drift allowance.
	let closes = NOW + u64::from(WINDOW_MS);
	ExtBuilder::default()
		.now_ms(closes - 4_000)
		.build_and_execute(|| {
			assert_ok!(certify(GATEWAY, vec![commitment(window(0), &[1], 0)]));
		});
	ExtBuilder::default()
		.now_ms(closes - 6_000)
		.build_and_execute(|| {
			assert_noop!(
				certify(GATEWAY, vec![commitment(window(0), &[1], 0)]),
				Error::<Test>::WindowInFuture
			);
		});
}

#[test]
fn refuses_windows_that_overlap_a_datasets_earlier_ones() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(certify(GATEWAY, vec![commitment(window(2), &[1], 0)]));
		// Dataset 1 is certified in 180 s windows: a 360 s window would overlap two of them.
		let wide = Window {
			start_ms: window(2).start_ms - window(2).start_ms % 360_000,
			duration_ms: 360_000,
		};
		assert_noop!(
			certify(GATEWAY, vec![commitment(wide, &[1], 0)]),
			Error::<Test>::OverlappingWindow
		);
		// A new dataset may not get two durations in one batch either.
		assert_noop!(
			certify(
				GATEWAY,
				vec![commitment(window(1), &[2], 0), commitment(wide, &[2], 0)]
			),
			Error::<Test>::OverlappingWindow
		);
		// Another dataset may use other windows.
		assert_ok!(certify(GATEWAY, vec![commitment(wide, &[3], 0)]));
	});
}

#[test]
fn a_single_measurement_verifies_against_chain_state() {
	ExtBuilder::default().build_and_execute(|| {
		let records: Vec<Vec<Vec<u8>>> = (0..4u8)
			.map(|d| (0..10u8).map(|i| vec![d, i, 42]).collect())
			.collect();
		let trees: Vec<MerkleTree> = records
			.iter()
			.map(|r| MerkleTree::from_leaves::<Blake2_256>(r))
			.collect();
		let roots: Vec<DatasetRoot> = trees
			.iter()
			.enumerate()
			.map(|(d, t)| DatasetRoot {
				dataset: d as u64,
				leaf_count: t.leaf_count(),
				root: t.root::<Blake2_256>(),
			})
			.collect();
		assert_ok!(certify(
			GATEWAY,
			vec![WindowCommitment {
				window: window(1),
				datasets: BoundedVec::truncate_from(roots.clone())
			}]
		));
		let second = MerkleTree::from_leaf_hashes::<Blake2_256>(
			roots
				.iter()
				.map(DatasetRoot::leaf_hash::<Blake2_256>)
				.collect(),
		);
		let proof = MeasurementProof {
			leaf: records[2][7].clone(),
			leaf_proof: trees[2].proof(7).unwrap(),
			dataset: roots[2],
			dataset_proof: second.proof(2).unwrap(),
		};
		assert_eq!(Certification::verify(&GATEWAY, window(1), &proof), Ok(()));
		assert_eq!(
			Certification::verify(&GATEWAY, window(2), &proof),
			Err(VerifyError::NotCertified)
		);
		assert_eq!(
			Certification::verify(&OTHER_GATEWAY, window(1), &proof),
			Err(VerifyError::NotCertified)
		);
		let mut tampered = proof;
		tampered.leaf[2] ^= 1;
		assert!(Certification::verify(&GATEWAY, window(1), &tampered).is_err());
	});
}

#[test]
fn anchors_market_data_and_verifies_records() {
	ExtBuilder::default().build_and_execute(|| {
		let records: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 40]).collect();
		let tree = MerkleTree::from_leaves::<Blake2_256>(&records);
		let (kind, subject, digest) = (
			AnchorKind::MarketOutcome,
			[7u8; 32],
			tree.root::<Blake2_256>(),
		);
		assert_ok!(Certification::anchor(
			RuntimeOrigin::signed(5),
			kind,
			subject,
			digest,
			5
		));
		assert_eq!(
			last_event(),
			Event::Anchored {
				kind,
				subject,
				digest,
				leaf_count: 5,
				by: 5
			}
			.into()
		);
		assert_eq!(
			Certification::verify_anchored(kind, subject, &records[3], &tree.proof(3).unwrap()),
			Ok(())
		);
		assert!(Certification::verify_anchored(
			kind,
			subject,
			&records[2],
			&tree.proof(3).unwrap()
		)
		.is_err());
		assert_eq!(
			Certification::verify_anchored(
				AnchorKind::Settlement,
				subject,
				&records[3],
				&tree.proof(3).unwrap()
			),
			Err(VerifyError::NotCertified)
		);

		assert_ok!(Certification::anchor(
			RuntimeOrigin::signed(5),
			kind,
			subject,
			digest,
			5
		));
		assert_eq!(
			last_event(),
			Event::AlreadyAnchored { kind, subject }.into()
		);

		let other = Blake2_256::hash(b"other");
		assert_ok!(Certification::anchor(
			RuntimeOrigin::signed(6),
			kind,
			subject,
			other,
			5
		));
		assert_eq!(
			last_event(),
			Event::AnchorConflict {
				kind,
				subject,
				anchored: digest,
				rejected: other,
				by: 6
			}
			.into()
		);
		assert_eq!(
			crate::Anchors::<Test>::get(kind, subject).unwrap().digest,
			digest
		);
	});
}

#[test]
fn anchor_refusals() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Certification::anchor(
				RuntimeOrigin::none(),
				AnchorKind::Settlement,
				[0; 32],
				[1; 32],
				1
			),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Certification::anchor(
				RuntimeOrigin::signed(5),
				AnchorKind::Settlement,
				[0; 32],
				[1; 32],
				0
			),
			Error::<Test>::EmptyAnchor
		);
	});
}

#[test]
fn prunes_only_old_certificates_and_keeps_their_roots_in_events() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(certify(
			GATEWAY,
			vec![
				commitment(window(1), &[1], 0),
				commitment(window(2), &[1], 0)
			]
		));
		let root = Certificates::<Test>::get(GATEWAY, window(2)).unwrap().root;
		let list = |w: Vec<Window>| BoundedVec::truncate_from(w);

		assert_noop!(
			Certification::prune(
				RuntimeOrigin::signed(GATEWAY),
				GATEWAY,
				list(vec![window(2)])
			),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Certification::prune(RuntimeOrigin::root(), GATEWAY, list(vec![window(2)])),
			Error::<Test>::WithinRetention
		);
		assert_noop!(
			Certification::prune(RuntimeOrigin::root(), GATEWAY, list(vec![window(3)])),
			Error::<Test>::UnknownCertificate
		);

		// Once window(2) is older than the retention period, it may go; window(1) not yet.
		NowMs::set(window(2).end_ms().unwrap() + RETENTION_MS);
		assert_noop!(
			Certification::prune(
				RuntimeOrigin::root(),
				GATEWAY,
				list(vec![window(2), window(1)])
			),
			Error::<Test>::WithinRetention
		);
		assert_ok!(Certification::prune(
			RuntimeOrigin::root(),
			GATEWAY,
			list(vec![window(2)])
		));
		assert!(!Certificates::<Test>::contains_key(GATEWAY, window(2)));
		assert!(Certificates::<Test>::contains_key(GATEWAY, window(1)));
		assert_eq!(
			last_event(),
			Event::Pruned {
				gateway: GATEWAY,
				window: window(2),
				root,
				certified_at: 1
			}
			.into()
		);
	});
}

#[test]
fn try_state_catches_a_corrupt_certificate() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(certify(GATEWAY, vec![commitment(window(1), &[1], 0)]));
		assert_ok!(Certification::do_try_state());
		Certificates::<Test>::mutate(GATEWAY, window(1), |c| c.as_mut().unwrap().datasets = 0);
		assert!(Certification::do_try_state().is_err());
	});
}

#[test]
fn known_datasets_are_refunded_their_write() {
	use crate::weights::WeightInfo;
	ExtBuilder::default().build_and_execute(|| {
		let declared = <() as WeightInfo>::certify(1, 3);
		let first = Certification::certify(
			RuntimeOrigin::signed(GATEWAY),
			batch(vec![commitment(window(2), &[1, 2, 3], 0)]),
		)
		.expect("certified");
		assert_eq!(
			first.actual_weight,
			Some(declared),
			"new datasets: nothing to refund"
		);
		let second = Certification::certify(
			RuntimeOrigin::signed(GATEWAY),
			batch(vec![commitment(window(1), &[1, 2, 3], 0)]),
		)
		.expect("certified");
		let refund = <Test as frame_system::Config>::DbWeight::get().writes(3);
		assert!(refund.ref_time() > 0);
		assert_eq!(second.actual_weight, Some(declared.saturating_sub(refund)));
	});
}
