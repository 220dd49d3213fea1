fn main() {
	// Builds the wasm runtime that the node embeds and that goes on chain. Skipped under
	// `SKIP_WASM_BUILD=1` (pallet tests, clippy) and when compiling for wasm itself.
	#[cfg(feature = "std")]
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}
