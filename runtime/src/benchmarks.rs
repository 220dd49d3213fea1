//! Pallets benchmarked through `platone-node benchmark pallet` (feature `runtime-benchmarks`).

frame_benchmarking::define_benchmarks!(
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_collective, Consortium]
	[pallet_membership, ConsortiumMembership]
	[pallet_certification, Certification]
	[pallet_consortium, ConsortiumGovernance]
	[pallet_registry, Registry]
	[pallet_market, Market]
	[pallet_settlement, Settlement]
	[pallet_node_authorization, NodeAuthorizationBench::<Runtime>]
);
