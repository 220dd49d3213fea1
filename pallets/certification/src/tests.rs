//! Unit tests of the certification pallet (issue #3; FR-BAP-DM-02, FR-MP-BC-01/02).

use frame_support::{assert_noop, assert_ok, BoundedVec};
use platone_primitives::{
	merkle::Hasher, AnchorKind, Blake2_256, DatasetRoot, MeasurementProof, MerkleTree, VerifyError,
	Window,
};
use sp_runtime::DispatchError;

use codec::Encode;
use platone_primitives::{MeasurementRecord, Placement, Quantity, Reading, SensorValue};

use crate::{
	mock::*, Anchoring, BatchOf, Certificates, DatasetCursor, DatasetWindow, Error, Event,
	WindowCommitment,
};

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
		assert_eq!(
			DatasetWindow::<Test>::get(5).map(|c| c.duration_ms),
			Some(WINDOW_MS)
		);
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
			vec![tampered, commitment(window(2), &[3], 0)]
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

/// A sensor record of `dataset` at `time_ms`.
fn record(dataset: u64, time_ms: u64, value: i64) -> Vec<u8> {
	MeasurementRecord {
		dataset,
		timestamp_us: time_ms * 1_000,
		sequence: 0,
		reading: Reading::Sensor(SensorValue {
			quantity: Quantity::VoltageMv,
			value,
		}),
	}
	.encode()
}

/// Certifies `window` for datasets 0..leaves.len() with those leaves, and returns a proof of
/// leaf `i` of dataset `d`.
fn certify_leaves(
	window: Window,
	leaves: Vec<Vec<Vec<u8>>>,
	d: usize,
	i: usize,
) -> MeasurementProof {
	let trees: Vec<MerkleTree> = leaves
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
			window,
			datasets: BoundedVec::truncate_from(roots.clone())
		}]
	));
	let second = MerkleTree::from_leaf_hashes::<Blake2_256>(
		roots
			.iter()
			.map(DatasetRoot::leaf_hash::<Blake2_256>)
			.collect(),
	);
	MeasurementProof {
		leaf: leaves[d][i].clone(),
		leaf_proof: trees[d].proof(i as u64).unwrap(),
		dataset: roots[d],
		dataset_proof: second.proof(d as u64).unwrap(),
	}
}

#[test]
fn a_single_measurement_verifies_against_chain_state() {
	ExtBuilder::default().build_and_execute(|| {
		let w = window(1);
		let leaves: Vec<Vec<Vec<u8>>> = (0..4u64)
			.map(|d| {
				(0..10)
					.map(|i| record(d, w.start_ms + i * 1_000, 42))
					.collect()
			})
			.collect();
		let proof = certify_leaves(w, leaves, 2, 7);
		assert_eq!(Certification::verify(&GATEWAY, w, &proof), Ok(()));
		let (rec, placement) = Certification::verify_record(&GATEWAY, w, &proof).unwrap();
		assert_eq!((rec.dataset, placement), (2, Placement::InWindow));
		assert_eq!(
			Certification::verify(&GATEWAY, window(2), &proof),
			Err(VerifyError::NotCertified)
		);
		assert_eq!(
			Certification::verify(&OTHER_GATEWAY, w, &proof),
			Err(VerifyError::NotCertified)
		);
		let mut tampered = proof;
		let last = tampered.leaf.len() - 1;
		tampered.leaf[last] ^= 1;
		assert!(Certification::verify(&GATEWAY, w, &tampered).is_err());
	});
}

/// Issue #11: the runtime's check decodes the leaf, as `platone verify` does, so a gateway
/// cannot pass one device's records off as another's, nor records from outside the window.
#[test]
fn the_runtime_check_refuses_misattributed_and_out_of_window_records() {
	ExtBuilder::default().build_and_execute(|| {
		let w = window(1);
		let late = w.start_ms - LATENESS_MS;
		let dataset0 = vec![
			record(0, late, 1),                   // late data, at the bound
			record(0, w.start_ms, 2),             // in the window
			record(1, w.start_ms + 1, 3),         // dataset 1's record in dataset 0's tree
			record(0, w.end_ms().unwrap(), 4),    // after the window
			record(0, late - 1, 5),               // later than late data may be
			b"not a measurement record".to_vec(), // no record at all
		];
		let dataset1 = vec![record(1, w.start_ms + 2, 6)];
		let tree = [dataset0.clone(), dataset1];
		// The first call certifies; later ones are identical retries that only build proofs.
		let proof = |i| certify_leaves(w, tree.to_vec(), 0, i);
		let check = |i| Certification::verify_record(&GATEWAY, w, &proof(i)).map(|(_, p)| p);
		assert_eq!(check(0), Ok(Placement::Late));
		assert_eq!(check(1), Ok(Placement::InWindow));
		assert_eq!(check(2), Err(VerifyError::DatasetMismatch));
		assert_eq!(check(3), Err(VerifyError::OutsideWindow));
		assert_eq!(check(4), Err(VerifyError::OutsideWindow));
		assert_eq!(check(5), Err(VerifyError::MalformedRecord));
		// The same Merkle proofs pass the bare root check: the record check is what refuses.
		assert_eq!(
			platone_primitives::verify_measurement::<Blake2_256>(
				&Certificates::<Test>::get(GATEWAY, w).unwrap().root,
				&proof(2)
			),
			Ok(())
		);
	});
}

#[test]
fn anchors_market_data_and_verifies_records() {
	ExtBuilder::default().build_and_execute(|| {
		let records: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 40]).collect();
		let tree = MerkleTree::from_leaves::<Blake2_256>(&records);
		let (kind, subject, digest) = (
			AnchorKind::TechnicalValidation,
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
				AnchorKind::TechnicalValidation,
				[0; 32],
				[1; 32],
				0
			),
			Error::<Test>::EmptyAnchor
		);
	});
}

/// Issue #11: anchors belong to whoever may write them. The pallet-owned kinds admit no
/// participant's extrinsic, so nobody can pre-empt a market session's outcome; the owning
/// pallet writes it through `Anchoring`.
#[test]
fn pallet_owned_anchor_kinds_cannot_be_written_by_extrinsic() {
	ExtBuilder::default().build_and_execute(|| {
		for kind in [
			AnchorKind::MarketOutcome,
			AnchorKind::ClearingInputs,
			AnchorKind::Settlement,
		] {
			assert_noop!(
				Certification::anchor(RuntimeOrigin::signed(5), kind, [3; 32], [1; 32], 1),
				DispatchError::BadOrigin
			);
			assert_ok!(<Certification as Anchoring<u64>>::anchor(
				77, kind, [3; 32], [1; 32], 1
			));
			assert_eq!(
				crate::Anchors::<Test>::get(kind, [3; 32])
					.unwrap()
					.submitter,
				77
			);
		}
	});
}

#[test]
fn governance_voids_a_wrong_anchor_and_the_event_keeps_it() {
	ExtBuilder::default().build_and_execute(|| {
		let (kind, subject) = (AnchorKind::TechnicalValidation, [4u8; 32]);
		assert_ok!(Certification::anchor(
			RuntimeOrigin::signed(5),
			kind,
			subject,
			[1; 32],
			2
		));
		assert_noop!(
			Certification::void_anchor(RuntimeOrigin::signed(5), kind, subject),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Certification::void_anchor(RuntimeOrigin::root(), kind, [9; 32]),
			Error::<Test>::UnknownAnchor
		);
		assert_ok!(Certification::void_anchor(
			RuntimeOrigin::root(),
			kind,
			subject
		));
		assert_eq!(
			last_event(),
			Event::AnchorVoided {
				kind,
				subject,
				digest: [1; 32],
				leaf_count: 2,
				submitter: 5
			}
			.into()
		);
		// The right digest can now be anchored.
		assert_ok!(Certification::anchor(
			RuntimeOrigin::signed(6),
			kind,
			subject,
			[2; 32],
			2
		));
		assert_eq!(
			crate::Anchors::<Test>::get(kind, subject).unwrap().digest,
			[2; 32]
		);
	});
}

#[test]
fn old_anchors_are_pruned_by_governance_only() {
	ExtBuilder::default().build_and_execute(|| {
		let kind = AnchorKind::TechnicalValidation;
		assert_ok!(Certification::anchor(
			RuntimeOrigin::signed(5),
			kind,
			[1; 32],
			[1; 32],
			1
		));
		System::set_block_number(2);
		assert_ok!(Certification::anchor(
			RuntimeOrigin::signed(5),
			kind,
			[2; 32],
			[1; 32],
			1
		));
		let list =
			|s: &[[u8; 32]]| BoundedVec::truncate_from(s.iter().map(|s| (kind, *s)).collect());
		System::set_block_number(1 + ANCHOR_RETENTION);
		assert_noop!(
			Certification::prune_anchors(RuntimeOrigin::signed(5), list(&[[1; 32]])),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Certification::prune_anchors(RuntimeOrigin::root(), list(&[[1; 32], [2; 32]])),
			Error::<Test>::AnchorWithinRetention
		);
		assert_noop!(
			Certification::prune_anchors(RuntimeOrigin::root(), list(&[[3; 32]])),
			Error::<Test>::UnknownAnchor
		);
		assert_ok!(Certification::prune_anchors(
			RuntimeOrigin::root(),
			list(&[[1; 32]])
		));
		assert_eq!(
			last_event(),
			Event::AnchorPruned {
				kind,
				subject: [1; 32],
				digest: [1; 32],
				anchored_at: 1
			}
			.into()
		);
		assert!(crate::Anchors::<Test>::contains_key(kind, [2; 32]));
	});
}

#[test]
fn prunes_only_old_certificates_and_keeps_their_roots_in_events() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(certify(
			GATEWAY,
			vec![
				commitment(window(2), &[1], 0),
				commitment(window(1), &[1], 0)
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
fn every_dataset_window_pays_its_watermark_write() {
	use crate::weights::WeightInfo;
	ExtBuilder::default().build_and_execute(|| {
		let declared = <() as WeightInfo>::certify(1, 3);
		for w in [window(2), window(1)] {
			let info = Certification::certify(
				RuntimeOrigin::signed(GATEWAY),
				batch(vec![commitment(w, &[1, 2, 3], 0)]),
			)
			.expect("certified");
			assert_eq!(info.actual_weight, Some(declared));
		}
	});
}

/// Issue #11: certified history is immutable. A window closed longer than `MaxLatenessMs` ago
/// is refused; the bound is shorter than the retention period, so a pruned window can never be
/// certified again with another root.
#[test]
fn a_pruned_window_can_never_be_certified_again() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(certify(GATEWAY, vec![commitment(window(2), &[1], 0)]));
		NowMs::set(window(2).end_ms().unwrap() + RETENTION_MS);
		assert_ok!(Certification::prune(
			RuntimeOrigin::root(),
			GATEWAY,
			BoundedVec::truncate_from(vec![window(2)])
		));
		assert!(!Certificates::<Test>::contains_key(GATEWAY, window(2)));
		assert_noop!(
			certify(GATEWAY, vec![commitment(window(2), &[1], 9)]),
			Error::<Test>::WindowTooOld
		);
	});
}

#[test]
fn windows_older_than_the_lateness_bound_are_refused() {
	ExtBuilder::default().build_and_execute(|| {
		// window(k) ends (k - 1) windows before NOW.
		let oldest = LATENESS_MS / u64::from(WINDOW_MS) + 1;
		assert_ok!(certify(GATEWAY, vec![commitment(window(oldest), &[1], 0)]));
		assert_noop!(
			certify(GATEWAY, vec![commitment(window(oldest + 1), &[2], 0)]),
			Error::<Test>::WindowTooOld
		);
	});
}

/// Issue #11: each dataset has a watermark. Even where a certificate is gone from state, no
/// window before the dataset's latest certified one can certify it again, and a batch must
/// certify a dataset's windows in time order.
#[test]
fn no_window_behind_a_datasets_watermark_is_ever_certified() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(certify(GATEWAY, vec![commitment(window(3), &[1, 2], 0)]));
		assert_eq!(
			DatasetWindow::<Test>::get(1),
			Some(DatasetCursor {
				duration_ms: WINDOW_MS,
				certified_until_ms: window(3).end_ms().unwrap(),
				split_ms: 0,
				before_split_until_ms: 0,
			})
		);
		// Lose the certificate (as a prune would): the watermark still holds.
		Certificates::<Test>::remove(GATEWAY, window(3));
		assert_noop!(
			certify(GATEWAY, vec![commitment(window(3), &[1], 9)]),
			Error::<Test>::BehindWatermark
		);
		assert_ok!(certify(GATEWAY, vec![commitment(window(1), &[1], 0)]));
		// window(2) was never certified for dataset 1, but it lies behind window(1) now.
		assert_noop!(
			certify(GATEWAY, vec![commitment(window(2), &[1], 0)]),
			Error::<Test>::BehindWatermark
		);
		// Dataset 2's watermark is still at window(3).
		assert_ok!(certify(GATEWAY, vec![commitment(window(2), &[2], 0)]));
		// Out of time order within one batch.
		assert_noop!(
			certify(
				GATEWAY,
				vec![
					commitment(window(4), &[3], 0),
					commitment(window(5), &[3], 0)
				]
			),
			Error::<Test>::BehindWatermark
		);
		// Restore what the test removed, for the invariants checked after it.
		Certificates::<Test>::insert(
			GATEWAY,
			window(3),
			Certificates::<Test>::get(GATEWAY, window(1)).unwrap(),
		);
	});
}

/// Issue #11: a gateway assignment takes effect from a point in time. Dataset 500 passed from
/// gateway 1 to gateway 2 when window(1) began: gateway 1 may still close window(2), and only
/// gateway 2 certifies from window(1) on.
#[test]
fn a_handed_over_dataset_is_certified_by_each_gateway_only_in_its_time() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			certify(GATEWAY, vec![commitment(window(1), &[HANDED_OVER], 0)]),
			Error::<Test>::DatasetNotAuthorized
		);
		assert_noop!(
			certify(
				OTHER_GATEWAY,
				vec![commitment(window(2), &[HANDED_OVER], 0)]
			),
			Error::<Test>::DatasetNotAuthorized
		);
		assert_ok!(certify(
			GATEWAY,
			vec![commitment(window(2), &[HANDED_OVER], 0)]
		));
		assert_ok!(certify(
			OTHER_GATEWAY,
			vec![commitment(window(1), &[HANDED_OVER], 0)]
		));
	});
}

#[test]
fn v0_dataset_windows_migrate_to_cursors() {
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	ExtBuilder::default().build().execute_with(|| {
		StorageVersion::new(0).put::<Certification>();
		crate::migrations::v1::v0::DatasetWindow::<Test>::insert(7, WINDOW_MS);
		crate::migrations::v1::v0::DatasetWindow::<Test>::insert(8, 60_000);
		crate::migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(Certification::on_chain_storage_version(), 1);
		assert_eq!(
			DatasetWindow::<Test>::get(8),
			Some(DatasetCursor {
				duration_ms: 60_000,
				certified_until_ms: 0,
				split_ms: 0,
				before_split_until_ms: 0,
			})
		);
		assert_eq!(DatasetWindow::<Test>::iter().count(), 2);
		// Once at version 1, running it again changes nothing.
		DatasetWindow::<Test>::insert(
			8,
			DatasetCursor {
				duration_ms: 60_000,
				certified_until_ms: 120_000,
				split_ms: 0,
				before_split_until_ms: 0,
			},
		);
		crate::migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(
			DatasetWindow::<Test>::get(8).unwrap().certified_until_ms,
			120_000
		);
		assert_ok!(Certification::do_try_state());
	});
}

/// Review of issue #11: after a handover the new gateway may certify first; the old gateway
/// still catches up its own windows, because a handover splits the dataset's watermark.
#[test]
fn the_old_gateway_catches_up_after_the_new_one_certified() {
	use crate::DatasetLifecycle;
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(certify(
			GATEWAY,
			vec![commitment(window(3), &[HANDED_OVER], 0)]
		));
		// The registry splits the dataset's time at the handover.
		<Certification as DatasetLifecycle>::split(HANDED_OVER, HANDOVER_MS);
		assert_ok!(certify(
			OTHER_GATEWAY,
			vec![commitment(window(1), &[HANDED_OVER], 0)]
		));
		assert_ok!(certify(
			GATEWAY,
			vec![commitment(window(2), &[HANDED_OVER], 0)]
		));
		// Each side's watermark still holds.
		Certificates::<Test>::remove(GATEWAY, window(2));
		assert_noop!(
			certify(GATEWAY, vec![commitment(window(2), &[HANDED_OVER], 5)]),
			Error::<Test>::BehindWatermark
		);
		Certificates::<Test>::remove(OTHER_GATEWAY, window(1));
		assert_noop!(
			certify(
				OTHER_GATEWAY,
				vec![commitment(window(1), &[HANDED_OVER], 5)]
			),
			Error::<Test>::BehindWatermark
		);
	});
}

/// A retry of a window on record is harmless even once the gateway lost its right: it changes
/// nothing, and must not make the rest of its batch fail.
#[test]
fn a_retry_needs_no_current_authority() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(certify(
			GATEWAY,
			vec![commitment(window(2), &[HANDED_OVER], 0)]
		));
		// Gateway 1 lost dataset 500 from window(1) on; its retry of window(2) still passes.
		assert_ok!(certify(
			GATEWAY,
			vec![
				commitment(window(2), &[HANDED_OVER], 0),
				commitment(window(1), &[1], 0)
			]
		));
	});
}

/// A late record is vouched for only by the gateway assigned its device at its time.
#[test]
fn a_late_record_needs_the_gateway_assigned_at_its_time() {
	ExtBuilder::default().build_and_execute(|| {
		// Dataset 500 passed to gateway 2 at window(1)'s start; a record from window(2)'s time
		// certified late by gateway 2 in window(1) is refused.
		let w = window(1);
		let leaves = [vec![
			record(HANDED_OVER, window(2).start_ms + 5, 1),
			record(HANDED_OVER, w.start_ms + 5, 2),
		]];
		let trees: Vec<MerkleTree> = leaves
			.iter()
			.map(|r| MerkleTree::from_leaves::<Blake2_256>(r))
			.collect();
		let root = DatasetRoot {
			dataset: HANDED_OVER,
			leaf_count: trees[0].leaf_count(),
			root: trees[0].root::<Blake2_256>(),
		};
		assert_ok!(certify(
			OTHER_GATEWAY,
			vec![WindowCommitment {
				window: w,
				datasets: BoundedVec::truncate_from(vec![root])
			}]
		));
		let second =
			MerkleTree::from_leaf_hashes::<Blake2_256>(vec![root.leaf_hash::<Blake2_256>()]);
		let proof = |i: usize| MeasurementProof {
			leaf: leaves[0][i].clone(),
			leaf_proof: trees[0].proof(i as u64).unwrap(),
			dataset: root,
			dataset_proof: second.proof(0).unwrap(),
		};
		assert_eq!(
			Certification::verify_record(&OTHER_GATEWAY, w, &proof(0)).map(|(_, p)| p),
			Err(VerifyError::NotAssigned)
		);
		assert_eq!(
			Certification::verify_record(&OTHER_GATEWAY, w, &proof(1)).map(|(_, p)| p),
			Ok(Placement::InWindow)
		);
	});
}
