fn main() {
	// Builds the wasm runtime that the node embeds and that goes on chain. Skipped under
	// `SKIP_WASM_BUILD=1` (pallet tests, clippy) and when compiling for wasm itself.
	#[cfg(feature = "std")]
	{
		// The shared target dir lives outside the clone, so the wasm builder cannot find our
		// workspace from its output dir. Set only here: other crates' wasm builds (e.g. in
		// frame-benchmarking-cli) must keep finding their own.
		if std::env::var_os("WASM_BUILD_WORKSPACE_HINT").is_none() {
			let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
			std::env::set_var("WASM_BUILD_WORKSPACE_HINT", workspace);
		}
		substrate_wasm_builder::WasmBuilder::build_using_defaults();
	}
}
