//! The chain client (`bridges/chain`) is generated from metadata committed in the repo; this
//! fails when the runtime has moved on without it (issue #5). `scripts/metadata.sh` regenerates.

const COMMITTED: &str = concat!(
	env!("CARGO_MANIFEST_DIR"),
	"/../bridges/chain/metadata/platone.scale"
);

#[test]
fn committed_metadata_matches_the_runtime() {
	let current: Vec<u8> = platone_runtime::Runtime::metadata_at_version(16)
		.expect("the runtime serves metadata v16")
		.to_vec();
	if std::env::var_os("PLATONE_UPDATE_METADATA").is_some() {
		std::fs::write(COMMITTED, &current).expect("write the metadata");
		return;
	}
	let committed = std::fs::read(COMMITTED).unwrap_or_default();
	assert!(
		committed == current,
		"bridges/chain/metadata/platone.scale is stale ({} bytes, runtime has {}): run scripts/metadata.sh",
		committed.len(),
		current.len()
	);
}
