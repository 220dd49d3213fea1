//! Weights of the polkadot-sdk pallets that ship no benchmarked weights of their own, generated
//! by `scripts/bench-pallets.sh` from this runtime's benchmarks (docs/build.md, "Weights").

pub mod pallet_node_authorization;
