//! Any bytes as a proof document (`platone verify`'s input, from a file or an SCD API): no
//! panic while decoding it or checking its Merkle paths, whatever their sizes and indices claim.
#![no_main]

use libfuzzer_sys::fuzz_target;
use platone_primitives::{verify_record, Blake2_256, MAX_LATENESS_MS};
use platone_scd::wire::{hash_from_hex, ProofDocument};

fuzz_target!(|data: &[u8]| {
	let Ok(doc) = serde_json::from_slice::<ProofDocument>(data) else {
		return;
	};
	let (Ok(proof), Ok(root)) = (doc.proof(), hash_from_hex(&doc.window_root)) else {
		return;
	};
	let _ = verify_record::<Blake2_256>(&root, &doc.window(), MAX_LATENESS_MS, &proof);
});
