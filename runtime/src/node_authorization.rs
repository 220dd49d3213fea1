//! Bounds and weights for `pallet-node-authorization`, which leaves both open: its
//! self-service calls (`claim_node`, `add_connections`, …) take unbounded vectors of unbounded
//! peer ids at a constant weight, and `claim_node` does not check a peer id's length. Any
//! participant could then store megabytes, and make every node's offchain worker decode them,
//! for the price of one small call. The runtime's call filter closes that (issue #11, "Bounds
//! everywhere"); the weights are benchmarked here, since the pallet ships none.

use frame_support::{traits::Contains, weights::Weight};
use sp_core::OpaquePeerId as PeerId;

use crate::{configs::MAX_PEER_ID_LENGTH, Runtime, RuntimeCall};

/// Most additional connections one node may allow (its sentries, archive and bridge nodes).
pub const MAX_CONNECTIONS: usize = 32;

/// The runtime's `BaseCallFilter`: every call passes, except node-authorization calls that
/// exceed the bounds above, and the balance calls that create or destroy settlement tokens
/// outside the settlement pallet's mint and redemption (FR-MP-SET-05: its issuance is what was
/// minted less what was burned), and direct calls of contracts, which are settlement mechanisms
/// (crate::contracts). A filtered call fails with `CallFiltered` and stores nothing.
pub struct CallBounds;

impl Contains<RuntimeCall> for CallBounds {
	fn contains(call: &RuntimeCall) -> bool {
		use pallet_balances::Call as Tokens;
		use pallet_node_authorization::Call as Peers;
		if let RuntimeCall::Balances(call) = call {
			return !matches!(
				call,
				Tokens::burn { .. }
					| Tokens::force_set_balance { .. }
					| Tokens::force_adjust_total_issuance { .. }
			);
		}
		if let RuntimeCall::Contracts(call) = call {
			// Contracts are settlement mechanisms, run only by the settlement pallet and always
			// rolled back (crate::contracts): nobody calls one directly and changes its state.
			use pallet_contracts::Call as Contract;
			return !matches!(
				call,
				Contract::call { .. }
					| Contract::call_old_weight { .. }
					| Contract::instantiate_with_code_old_weight { .. }
					| Contract::instantiate_old_weight { .. }
			);
		}
		let RuntimeCall::NodeAuthorization(call) = call else {
			return true;
		};
		// The pallet's own rule, where it checks at all: shorter than the maximum.
		let short = |peer: &PeerId| peer.0.len() < MAX_PEER_ID_LENGTH as usize;
		let few = |peers: &[PeerId]| peers.len() <= MAX_CONNECTIONS && peers.iter().all(short);
		match call {
			Peers::add_well_known_node { node, .. }
			| Peers::remove_well_known_node { node }
			| Peers::claim_node { node }
			| Peers::remove_claim { node }
			| Peers::transfer_node { node, .. } => short(node),
			Peers::swap_well_known_node { remove, add } => short(remove) && short(add),
			Peers::reset_well_known_nodes { nodes } => nodes.iter().all(|(peer, _)| short(peer)),
			Peers::add_connections { node, connections } => {
				short(node)
					&& few(connections)
					&& pallet_node_authorization::AdditionalConnections::<Runtime>::get(node)
						.len()
						.saturating_add(connections.len())
						<= MAX_CONNECTIONS
			}
			Peers::remove_connections { node, connections } => short(node) && few(connections),
			_ => true,
		}
	}
}

/// The benchmarked weights, plus the read the call filter makes for `add_connections`.
pub struct NodeAuthorizationWeight;

type Measured = crate::weights::pallet_node_authorization::WeightInfo<Runtime>;

impl pallet_node_authorization::WeightInfo for NodeAuthorizationWeight {
	fn add_well_known_node() -> Weight {
		Measured::add_well_known_node()
	}
	fn remove_well_known_node() -> Weight {
		Measured::remove_well_known_node()
	}
	fn swap_well_known_node() -> Weight {
		Measured::swap_well_known_node()
	}
	fn reset_well_known_nodes() -> Weight {
		Measured::reset_well_known_nodes()
	}
	fn claim_node() -> Weight {
		Measured::claim_node()
	}
	fn remove_claim() -> Weight {
		Measured::remove_claim()
	}
	fn transfer_node() -> Weight {
		Measured::transfer_node()
	}
	fn add_connections() -> Weight {
		use frame_support::{traits::Get, weights::RuntimeDbWeight};
		let db = <<Runtime as frame_system::Config>::DbWeight as Get<RuntimeDbWeight>>::get();
		Measured::add_connections().saturating_add(db.reads(1))
	}
	fn remove_connections() -> Weight {
		Measured::remove_connections()
	}
}

/// Worst cases within the bounds: a full well-known set, peer ids of the longest length, and
/// nodes with the most connections. Benchmarked through a local `Pallet` because the pallet
/// has no benchmarks of its own.
#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking {
	use super::{PeerId, MAX_CONNECTIONS, MAX_PEER_ID_LENGTH};
	use alloc::{collections::BTreeSet, vec, vec::Vec};
	use frame_benchmarking::v2::*;
	use frame_support::traits::{EnsureOrigin, Get};
	use frame_system::RawOrigin;
	use pallet_node_authorization::{AdditionalConnections, Owners, WellKnownNodes};
	use sp_runtime::traits::StaticLookup;

	pub struct Pallet<T: Config>(core::marker::PhantomData<T>);
	pub trait Config: pallet_node_authorization::Config {}
	impl Config for crate::Runtime {}

	type Peers<T> = pallet_node_authorization::Pallet<T>;

	/// A distinct peer id of the longest accepted length.
	fn peer(i: u32) -> PeerId {
		let mut bytes = vec![0xab; MAX_PEER_ID_LENGTH as usize - 1];
		bytes[..4].copy_from_slice(&i.to_le_bytes());
		PeerId(bytes)
	}

	fn peers(from: u32, n: usize) -> Vec<PeerId> {
		(from..from.saturating_add(n as u32)).map(peer).collect()
	}

	/// `n` well-known nodes, all owned by `owner`.
	fn fill<T: Config>(n: u32, owner: &T::AccountId) {
		let nodes: BTreeSet<PeerId> = (0..n).map(peer).collect();
		for node in &nodes {
			Owners::<T>::insert(node, owner);
		}
		WellKnownNodes::<T>::put(nodes);
	}

	fn connect<T: Config>(node: &PeerId, n: usize) {
		AdditionalConnections::<T>::insert(
			node,
			peers(1_000_000, n).into_iter().collect::<BTreeSet<_>>(),
		);
	}

	fn full<T: Config>() -> u32 {
		T::MaxWellKnownNodes::get().saturating_sub(1)
	}

	#[benchmarks]
	mod benches {
		use super::*;

		#[benchmark]
		fn add_well_known_node() -> Result<(), BenchmarkError> {
			let owner: T::AccountId = account("owner", 0, 0);
			fill::<T>(full::<T>() - 1, &owner);
			let origin =
				T::AddOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
			let node = peer(u32::MAX);
			#[block]
			{
				Peers::<T>::add_well_known_node(origin, node.clone(), T::Lookup::unlookup(owner))?;
			}
			assert!(WellKnownNodes::<T>::get().contains(&node));
			Ok(())
		}

		#[benchmark]
		fn remove_well_known_node() -> Result<(), BenchmarkError> {
			let owner: T::AccountId = account("owner", 0, 0);
			fill::<T>(full::<T>(), &owner);
			let node = peer(0);
			connect::<T>(&node, MAX_CONNECTIONS);
			let origin =
				T::RemoveOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
			#[block]
			{
				Peers::<T>::remove_well_known_node(origin, node.clone())?;
			}
			assert!(!WellKnownNodes::<T>::get().contains(&node));
			Ok(())
		}

		#[benchmark]
		fn swap_well_known_node() -> Result<(), BenchmarkError> {
			let owner: T::AccountId = account("owner", 0, 0);
			fill::<T>(full::<T>(), &owner);
			let (remove, add) = (peer(0), peer(u32::MAX));
			connect::<T>(&remove, MAX_CONNECTIONS);
			let origin =
				T::SwapOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
			#[block]
			{
				Peers::<T>::swap_well_known_node(origin, remove, add.clone())?;
			}
			assert!(WellKnownNodes::<T>::get().contains(&add));
			Ok(())
		}

		#[benchmark]
		fn reset_well_known_nodes() -> Result<(), BenchmarkError> {
			let owner: T::AccountId = account("owner", 0, 0);
			fill::<T>(full::<T>(), &owner);
			let nodes: Vec<(PeerId, T::AccountId)> = peers(10_000, full::<T>() as usize)
				.into_iter()
				.map(|p| (p, owner.clone()))
				.collect();
			let origin =
				T::ResetOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
			#[block]
			{
				Peers::<T>::reset_well_known_nodes(origin, nodes)?;
			}
			assert!(WellKnownNodes::<T>::get().contains(&peer(10_000)));
			Ok(())
		}

		#[benchmark]
		fn claim_node() -> Result<(), BenchmarkError> {
			let caller: T::AccountId = whitelisted_caller();
			let node = peer(u32::MAX);
			#[block]
			{
				Peers::<T>::claim_node(RawOrigin::Signed(caller.clone()).into(), node.clone())?;
			}
			assert_eq!(Owners::<T>::get(&node), Some(caller));
			Ok(())
		}

		#[benchmark]
		fn remove_claim() -> Result<(), BenchmarkError> {
			let caller: T::AccountId = whitelisted_caller();
			let owner: T::AccountId = account("owner", 0, 0);
			fill::<T>(full::<T>(), &owner);
			let node = peer(u32::MAX);
			Owners::<T>::insert(&node, &caller);
			connect::<T>(&node, MAX_CONNECTIONS);
			#[block]
			{
				Peers::<T>::remove_claim(RawOrigin::Signed(caller).into(), node.clone())?;
			}
			assert!(Owners::<T>::get(&node).is_none());
			Ok(())
		}

		#[benchmark]
		fn transfer_node() -> Result<(), BenchmarkError> {
			let caller: T::AccountId = whitelisted_caller();
			let owner: T::AccountId = account("owner", 0, 0);
			let node = peer(u32::MAX);
			Owners::<T>::insert(&node, &caller);
			#[block]
			{
				Peers::<T>::transfer_node(
					RawOrigin::Signed(caller).into(),
					node.clone(),
					T::Lookup::unlookup(owner.clone()),
				)?;
			}
			assert_eq!(Owners::<T>::get(&node), Some(owner));
			Ok(())
		}

		#[benchmark]
		fn add_connections() -> Result<(), BenchmarkError> {
			let caller: T::AccountId = whitelisted_caller();
			let node = peer(u32::MAX);
			Owners::<T>::insert(&node, &caller);
			connect::<T>(&node, MAX_CONNECTIONS / 2);
			let more = peers(2_000_000, MAX_CONNECTIONS - MAX_CONNECTIONS / 2);
			#[block]
			{
				Peers::<T>::add_connections(RawOrigin::Signed(caller).into(), node.clone(), more)?;
			}
			assert_eq!(
				AdditionalConnections::<T>::get(&node).len(),
				MAX_CONNECTIONS
			);
			Ok(())
		}

		#[benchmark]
		fn remove_connections() -> Result<(), BenchmarkError> {
			let caller: T::AccountId = whitelisted_caller();
			let node = peer(u32::MAX);
			Owners::<T>::insert(&node, &caller);
			connect::<T>(&node, MAX_CONNECTIONS);
			let all = peers(1_000_000, MAX_CONNECTIONS);
			#[block]
			{
				Peers::<T>::remove_connections(
					RawOrigin::Signed(caller).into(),
					node.clone(),
					all,
				)?;
			}
			assert!(AdditionalConnections::<T>::get(&node).is_empty());
			Ok(())
		}
	}
}
