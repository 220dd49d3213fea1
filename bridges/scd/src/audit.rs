//! The SCD's certification invariant, checked over a range of windows (issue #12;
//! FR-BAP-DM-02/03): every stored measurement lies in exactly one certified window and proves
//! against it, where the SCD says it lies (in its window or late); and nothing a certificate
//! commits to is missing from, or altered in, the SCD. `platone audit scd` runs it, and compares
//! the certificates with the chain's.
//!
//! Exactly once holds by construction: a measurement has one identity and one certification
//! window, and each dataset's rows in a certified window must rebuild its certified root with
//! exactly its leaf count.

use std::{
	collections::{BTreeMap, BTreeSet},
	fmt,
};

use platone_primitives::{
	merkle, verify_record, window_root, Blake2_256, DatasetId, DatasetRoot, Hash, MeasurementProof,
	Placement, Window, MAX_LATENESS_MS,
};

use crate::{CertState, Certificate, Result, Store};

/// What to audit.
#[derive(Clone, Copy, Debug)]
pub struct Options {
	/// Certification windows starting in `from_ms..=to_ms`, Unix ms.
	pub from_ms: u64,
	pub to_ms: u64,
	/// The audit's clock, Unix ms.
	pub now_ms: u64,
	/// How long after a window ends it may still be unsealed or awaiting the chain without
	/// being a difference (the certifier's grace plus finality).
	pub pending_ms: u64,
}

/// A kind of difference from the invariant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Finding {
	/// Stored measurements in a window that is not sealed, past the pending allowance.
	NotSealed,
	/// Sealed past the pending allowance, and its certificate not built or not on chain.
	NotCertified,
	/// The chain holds another root for the window.
	Conflict,
	/// Stored rows in a sealed window whose certificate does not hold their dataset: they are
	/// certified nowhere.
	NotInCertificate,
	/// The datasets sealed into a window differ from those its certificate holds.
	SealMismatch,
	/// The certificate's root is not the root over its dataset roots.
	WindowRootMismatch,
	/// A dataset's stored rows do not rebuild its certified root: rows missing, extra or altered.
	RootMismatch,
	/// A measurement's proof does not verify, or places it elsewhere than the SCD says.
	ProofFails,
	/// The chain's certificate differs from the SCD's, or is missing (`platone audit scd --rpc`).
	Chain,
}

impl Finding {
	pub fn as_str(self) -> &'static str {
		match self {
			Finding::NotSealed => "not_sealed",
			Finding::NotCertified => "not_certified",
			Finding::Conflict => "conflict",
			Finding::NotInCertificate => "not_in_certificate",
			Finding::SealMismatch => "seal_mismatch",
			Finding::WindowRootMismatch => "window_root_mismatch",
			Finding::RootMismatch => "root_mismatch",
			Finding::ProofFails => "proof_fails",
			Finding::Chain => "chain",
		}
	}
}

/// One difference, for one window and perhaps one dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
	pub finding: Finding,
	pub window: Window,
	pub dataset: Option<DatasetId>,
	pub detail: String,
}

impl fmt::Display for Difference {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(
			f,
			"{} window {}+{}ms",
			self.finding.as_str(),
			self.window.start_ms,
			self.window.duration_ms
		)?;
		if let Some(dataset) = self.dataset {
			write!(f, " dataset {dataset}")?;
		}
		write!(f, ": {}", self.detail)
	}
}

/// What an audit saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
	/// Sealed windows in range.
	pub windows: u64,
	/// Of them, certified on chain (by the SCD's record).
	pub certified: u64,
	/// Measurements whose proof was rebuilt and verified.
	pub proven: u64,
	/// Measurements in windows still within the pending allowance (not yet certified).
	pub pending: u64,
	pub differences: Vec<Difference>,
	/// The certificates checked, for a comparison with the chain.
	pub certificates: Vec<Certificate>,
}

impl Report {
	pub fn is_clean(&self) -> bool {
		self.differences.is_empty()
	}

	/// Differences per kind.
	pub fn counts(&self) -> BTreeMap<Finding, u64> {
		let mut counts = BTreeMap::new();
		for d in &self.differences {
			*counts.entry(d.finding).or_default() += 1;
		}
		counts
	}

	fn differ(
		&mut self,
		finding: Finding,
		window: Window,
		dataset: Option<DatasetId>,
		detail: String,
	) {
		self.differences.push(Difference {
			finding,
			window,
			dataset,
			detail,
		});
	}
}

fn end(window: &Window) -> u64 {
	window
		.start_ms
		.saturating_add(u64::from(window.duration_ms))
}

/// Checks the invariant over `options`' range. Reads the SCD only; compare
/// [`Report::certificates`] with the chain for the rest.
pub async fn audit<S: Store>(store: &S, options: &Options) -> Result<Report> {
	let mut report = Report::default();
	let overdue = |w: &Window| end(w).saturating_add(options.pending_ms) <= options.now_ms;
	let sealed = store.sealed_between(options.from_ms, options.to_ms).await?;
	let by_window: BTreeMap<(u64, u32), &crate::SealedWindow> = sealed
		.iter()
		.map(|s| ((s.window.start_ms, s.window.duration_ms), s))
		.collect();

	for placed in store.placed_between(options.from_ms, options.to_ms).await? {
		let w = placed.window;
		let Some(sealed) = by_window.get(&(w.start_ms, w.duration_ms)) else {
			if overdue(&w) {
				report.differ(
					Finding::NotSealed,
					w,
					Some(placed.dataset),
					format!(
						"{} measurements in a window never sealed",
						placed.measurements
					),
				);
			} else {
				report.pending += placed.measurements;
			}
			continue;
		};
		if let Some(cert) = &sealed.certificate {
			if !cert.datasets.iter().any(|d| d.dataset == placed.dataset) {
				report.differ(
					Finding::NotInCertificate,
					w,
					Some(placed.dataset),
					format!(
						"{} stored measurements that the window's certificate does not hold",
						placed.measurements
					),
				);
			}
		}
	}

	for sealed in &sealed {
		let w = sealed.window;
		report.windows += 1;
		let Some(cert) = &sealed.certificate else {
			if overdue(&w) {
				report.differ(
					Finding::NotCertified,
					w,
					None,
					"sealed, certificate never built".into(),
				);
			}
			continue;
		};
		match cert.state {
			CertState::Certified => report.certified += 1,
			CertState::Conflict => report.differ(
				Finding::Conflict,
				w,
				None,
				"the chain holds another root for this window".into(),
			),
			CertState::Sealed if overdue(&w) => report.differ(
				Finding::NotCertified,
				w,
				None,
				"built, not certified on chain".into(),
			),
			CertState::Sealed => {}
		}
		let in_cert: BTreeSet<DatasetId> = cert.datasets.iter().map(|d| d.dataset).collect();
		let in_seal: BTreeSet<DatasetId> = sealed.datasets.iter().copied().collect();
		if in_cert != in_seal {
			report.differ(
				Finding::SealMismatch,
				w,
				None,
				format!(
					"sealed {:?}, certificate holds {:?}",
					in_seal.difference(&in_cert).collect::<Vec<_>>(),
					in_cert.difference(&in_seal).collect::<Vec<_>>()
				),
			);
		}
		if window_root::<Blake2_256>(&cert.datasets) != cert.root {
			report.differ(
				Finding::WindowRootMismatch,
				w,
				None,
				"root is not over the dataset roots".into(),
			);
			continue;
		}
		check_datasets(store, cert, &mut report).await?;
		report.certificates.push(cert.clone());
	}
	Ok(report)
}

/// Rebuilds every dataset of a certificate from the stored rows and verifies each row's proof.
async fn check_datasets<S: Store>(
	store: &S,
	cert: &Certificate,
	report: &mut Report,
) -> Result<()> {
	let w = cert.window;
	let dataset_tree = merkle::MerkleTree::from_leaf_hashes::<Blake2_256>(
		cert.datasets
			.iter()
			.map(DatasetRoot::leaf_hash::<Blake2_256>)
			.collect::<Vec<Hash>>(),
	);
	for (i, dataset) in cert.datasets.iter().enumerate() {
		let rows: Vec<_> = store
			.window(dataset.dataset, w.start_ms)
			.await?
			.into_iter()
			.filter(|m| m.window_ms == w.duration_ms)
			.collect();
		let leaves: Vec<&[u8]> = rows.iter().map(|m| m.record.as_slice()).collect();
		let tree = merkle::fast::tree(&leaves);
		if tree.leaf_count() != dataset.leaf_count || tree.root::<Blake2_256>() != dataset.root {
			report.differ(
				Finding::RootMismatch,
				w,
				Some(dataset.dataset),
				format!(
					"{} stored rows do not rebuild the certified root over {} leaves",
					rows.len(),
					dataset.leaf_count
				),
			);
			continue;
		}
		let Some(dataset_proof) = dataset_tree.proof(i as u64) else {
			report.differ(
				Finding::ProofFails,
				w,
				Some(dataset.dataset),
				"no path to the window root".into(),
			);
			continue;
		};
		for (j, m) in rows.iter().enumerate() {
			let Some(leaf_proof) = tree.proof(j as u64) else {
				report.differ(
					Finding::ProofFails,
					w,
					Some(dataset.dataset),
					format!("no path for leaf {j}"),
				);
				continue;
			};
			let proof = MeasurementProof {
				leaf: m.record.clone(),
				leaf_proof,
				dataset: *dataset,
				dataset_proof: dataset_proof.clone(),
			};
			let identity = format!(
				"measurement ({}, {} µs, #{})",
				m.dataset, m.timestamp_us, m.sequence
			);
			match verify_record::<Blake2_256>(&cert.root, &w, MAX_LATENESS_MS, &proof) {
				Ok((record, placement)) => {
					let late = placement == Placement::Late;
					if record.timestamp_us != m.timestamp_us
						|| record.sequence != m.sequence
						|| late != m.is_late()
					{
						report.differ(
							Finding::ProofFails,
							w,
							Some(dataset.dataset),
							format!("{identity}: the record proves as {placement:?}, the SCD says late = {}", m.is_late()),
						);
					} else {
						report.proven += 1;
					}
				}
				Err(e) => report.differ(
					Finding::ProofFails,
					w,
					Some(dataset.dataset),
					format!("{identity}: {e:?}"),
				),
			}
		}
	}
	Ok(())
}
