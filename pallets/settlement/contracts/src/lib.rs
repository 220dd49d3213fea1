//! The settlement mechanism contracts (FR-MP-SET-01), compiled from source by `build.rs`.
//!
//! Each is a `pallet-contracts` code blob: deployed with `Contracts::instantiate_with_code`,
//! listed with `Settlement::create_mechanism(Rule::Contract { .. })`, called by the settlement
//! pallet with a SCALE `MechanismInput` and answering a SCALE `Split` (docs/settlement.md).
#![no_std]

/// The graded mechanism (`graded/src/main.rs`): pays what the runtime credits, no penalty for
/// a shortfall within a tenth of the award and twice its price beyond, and a quarter (full
/// delivery) or a tenth of the net revenue to the PoD's owner.
pub const GRADED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/graded.wasm"));
