//! The "graded" settlement mechanism (FR-MP-SET-01), a `pallet-contracts` contract.
//!
//! Called by the settlement pallet with a SCALE-encoded `MechanismInput` and answering a
//! SCALE-encoded `Split` (docs/settlement.md). Its rule, which the standard terms cannot express:
//!
//! - it pays everything the runtime lets it (`max_payment`: the award once delivery reaches it
//!   within the runtime's tolerance, else what was delivered);
//! - a shortfall up to a tenth of the award costs nothing; beyond that, each missing W·ms costs
//!   twice its price, up to the award's value;
//! - the PoD's owner gets a quarter of the aggregator's net revenue when delivery was complete,
//!   a tenth otherwise.
//!
//! All in integers, rounded down, saturating: the pallet checks the answer against the award
//! anyway (`Split::check`), and settles with its default terms if it fails.
#![no_std]
#![no_main]

use uapi::{HostFn, HostFnImpl as api, ReturnFlags};

/// W·ms in one MWh: prices are per MWh.
const WMS_PER_MWH: u128 = 3_600_000_000_000;
/// `MechanismInput`: u128, i128, u64, u128, u128.
const INPUT_LEN: usize = 16 + 16 + 8 + 16 + 16;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
	core::arch::wasm32::unreachable()
}

/// Nothing to set up: the rule has no parameters and the contract no storage.
#[no_mangle]
pub extern "C" fn deploy() {}

#[no_mangle]
pub extern "C" fn call() {
	let mut buffer = [0u8; INPUT_LEN];
	let mut input = &mut buffer[..];
	api::input(&mut input);
	if input.len() != INPUT_LEN {
		// Not a `MechanismInput`: refuse, and the pallet falls back to its default terms.
		api::return_value(ReturnFlags::REVERT, &[]);
	}
	let split = settle(&buffer);
	let mut out = [0u8; 48];
	for (chunk, value) in out.chunks_exact_mut(16).zip(split) {
		chunk.copy_from_slice(&value.to_le_bytes());
	}
	api::return_value(ReturnFlags::empty(), &out);
}

fn word(bytes: &[u8; INPUT_LEN], at: usize) -> [u8; 16] {
	let mut w = [0u8; 16];
	w.copy_from_slice(&bytes[at..at + 16]);
	w
}

/// `[payment, penalty, customer_share]` for one award.
fn settle(input: &[u8; INPUT_LEN]) -> [u128; 3] {
	let awarded = u128::from_le_bytes(word(input, 0));
	let delivered = i128::from_le_bytes(word(input, 16));
	let mut price = [0u8; 8];
	price.copy_from_slice(&input[32..40]);
	let price = u128::from(u64::from_le_bytes(price));
	let award_value = u128::from_le_bytes(word(input, 40));
	let max_payment = u128::from_le_bytes(word(input, 56));

	// What was delivered of the award, never below zero or above the award.
	let credited = u128::try_from(delivered).unwrap_or(0).min(awarded);
	let shortfall = awarded - credited;
	let beyond = shortfall.saturating_sub(awarded / 10);
	let penalty = price
		.saturating_mul(beyond)
		.saturating_mul(2)
		.checked_div(WMS_PER_MWH)
		.unwrap_or(0)
		.min(award_value);
	let payment = max_payment;
	let net = payment.saturating_sub(penalty);
	let share = if shortfall == 0 { net / 4 } else { net / 10 };
	[payment, penalty, share]
}
