fn main() {
	// Builds the wasm runtime that the node embeds and that goes on chain. Skipped under
	// `SKIP_WASM_BUILD=1` (pallet tests, clippy) and when compiling for wasm itself.
	#[cfg(feature = "std")]
	reproducible::build();
}

/// Every clone, on every machine with the pinned toolchain and `Cargo.lock`, builds the same
/// wasm, so the genesis hash pinned in the committed chain spec holds for all of them and an
/// auditor can rebuild the code on chain from source (issue #11, docs/build.md).
///
/// Two things tie a wasm to where it was built: source paths in panic locations, and the crate
/// hashes cargo derives from the absolute path of each path dependency (they order the code).
/// The first is remapped; the second is made constant by building through a symlink at a fixed
/// path, as srtool does with a fixed directory in a container.
#[cfg(feature = "std")]
mod reproducible {
	use std::path::{Path, PathBuf};

	const FIXED_SOURCE: &str = "/tmp/platone-runtime-source";

	pub fn build() {
		// Clones sharing one target dir share this script's run too (cargo keys it by the
		// workspace-relative path), and the wasm builder's rerun-if-changed paths go through
		// the fixed symlink, which still points at the clone that ran it last: without this,
		// another clone's build finds that clone's sources unchanged and embeds its wasm.
		// `scripts/env.sh` sets `PLATONE_ROOT` to the clone it is sourced from.
		println!("cargo:rerun-if-env-changed=PLATONE_ROOT");
		// Read when the script runs, not baked in when it compiles: clones sharing one target
		// dir may reuse a build script another clone compiled (cargo finds it fresh), and it
		// must still build the wasm of the clone that runs it.
		let manifest_dir =
			std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
		let workspace = Path::new(&manifest_dir).join("..");
		let source = match fixed_source(&workspace) {
			Ok(dir) => dir,
			Err(why) => {
				println!(
					"cargo:warning=building the runtime from {} ({why}): its wasm, and the \
					 genesis hash, will differ from other clones'",
					workspace.display()
				);
				workspace
			}
		};
		// The shared target dir lives outside the clone, so the wasm builder cannot find our
		// workspace (and its Cargo.lock) from its output dir. Set only here: other crates'
		// wasm builds (e.g. in frame-benchmarking-cli) must keep finding their own.
		if std::env::var_os("WASM_BUILD_WORKSPACE_HINT").is_none() {
			std::env::set_var("WASM_BUILD_WORKSPACE_HINT", &source);
		}
		let mut builder = substrate_wasm_builder::WasmBuilder::new()
			.with_project(source.join("runtime/Cargo.toml"))
			.expect("the runtime's manifest");
		for (from, to) in prefixes(&source) {
			// Both spellings, where they differ: rustc may be handed the given or the canonical
			// path.
			let canonical = from.canonicalize().ok().filter(|c| *c != from);
			for dir in core::iter::once(from).chain(canonical) {
				builder = builder
					.append_to_rust_flags(format!("--remap-path-prefix={}={to}", dir.display()));
			}
		}
		builder.build();
	}

	/// Points the fixed symlink at this clone (atomically, so a concurrent reader sees the old
	/// or the new target) and returns it.
	fn fixed_source(workspace: &Path) -> Result<PathBuf, String> {
		let fixed = PathBuf::from(FIXED_SOURCE);
		let target = workspace.canonicalize().map_err(|e| e.to_string())?;
		if std::fs::read_link(&fixed).ok().as_deref() == Some(target.as_path()) {
			return Ok(fixed);
		}
		#[cfg(unix)]
		{
			let staging = PathBuf::from(format!("{FIXED_SOURCE}.{}", std::process::id()));
			let _ = std::fs::remove_file(&staging);
			std::os::unix::fs::symlink(&target, &staging).map_err(|e| e.to_string())?;
			std::fs::rename(&staging, &fixed).map_err(|e| {
				let _ = std::fs::remove_file(&staging);
				format!("{FIXED_SOURCE}: {e}")
			})?;
			Ok(fixed)
		}
		#[cfg(not(unix))]
		Err("no symlinks on this platform".into())
	}

	/// Machine-specific path prefixes and what they become in the wasm. rustc lets later
	/// mappings win, so the most specific comes last.
	fn prefixes(source: &Path) -> Vec<(PathBuf, &'static str)> {
		let home = std::env::var_os("HOME").map(PathBuf::from);
		let cargo_home = std::env::var_os("CARGO_HOME")
			.map(PathBuf::from)
			.or_else(|| home.as_ref().map(|h| h.join(".cargo")));
		let rustup_home = std::env::var_os("RUSTUP_HOME")
			.map(PathBuf::from)
			.or_else(|| home.as_ref().map(|h| h.join(".rustup")));
		let sysroot = std::env::var_os("RUSTC")
			.and_then(|rustc| {
				std::process::Command::new(rustc)
					.args(["--print", "sysroot"])
					.output()
					.ok()
			})
			.filter(|out| out.status.success())
			.and_then(|out| String::from_utf8(out.stdout).ok())
			.map(|s| PathBuf::from(s.trim()));
		let mut out = Vec::new();
		out.extend(cargo_home.map(|d| (d, "/cargo")));
		out.extend(rustup_home.map(|d| (d, "/rustup")));
		out.extend(sysroot.map(|d| (d, "/rust")));
		out.push((source.to_path_buf(), "/platone"));
		out
	}
}
