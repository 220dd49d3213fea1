//! The `proof_document` fuzz target's corpus (`bridges/fuzz/corpus/proof_document`, seeds and
//! findings of `scripts/fuzz.sh`) replayed on every change: decoding a proof document and
//! checking its Merkle paths never panics, whatever it claims (issue #12).

use platone_primitives::{verify_record, Blake2_256, MAX_LATENESS_MS};
use platone_scd::wire::{hash_from_hex, ProofDocument};

#[test]
fn the_proof_document_corpus_decodes_and_verifies_without_panic() {
	let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
		.join("../bridges/fuzz/corpus/proof_document");
	let mut read = 0;
	for entry in std::fs::read_dir(&dir).expect("the corpus").flatten() {
		let data = std::fs::read(entry.path()).unwrap();
		read += 1;
		let Ok(doc) = serde_json::from_slice::<ProofDocument>(&data) else {
			continue;
		};
		if let (Ok(proof), Ok(root)) = (doc.proof(), hash_from_hex(&doc.window_root)) {
			let _ = verify_record::<Blake2_256>(&root, &doc.window(), MAX_LATENESS_MS, &proof);
		}
	}
	assert!(read > 0, "no corpus at {}", dir.display());
}
