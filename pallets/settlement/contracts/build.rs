//! Builds the mechanism contracts from source: `cargo build --release --target wasm32v1-none`
//! of each contract crate (its own workspace and lock), then drops the exports pallet-contracts
//! forbids. `wasm32v1-none` is WebAssembly 1.0 with prebuilt `core` to match: the default wasm
//! target of rustc ≥ 1.87 emits bulk-memory and reference-types instructions, which the
//! pallet's validator refuses (docs/build.md).

use std::{env, ffi::OsString, fs, path::PathBuf, process::Command};

/// Every contract crate under this one: (directory, binary).
const CONTRACTS: &[(&str, &str)] = &[("graded", "graded")];

/// The contract's linear memory is the pallet's to give (imported), and 64 KiB of stack keeps
/// it within the default limit of 16 pages.
const RUSTFLAGS: &[&str] = &[
	"-Clink-arg=--import-memory",
	"-Clink-arg=-zstack-size=65536",
	"-Dwarnings",
];

fn main() {
	let here = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
	let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
	let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
	let target_dir = out.join("target");
	// Clones sharing one target dir share this script's run, and the paths below are the
	// clone's that ran it last: a switch of clone (`scripts/env.sh` sets `PLATONE_ROOT`) builds
	// the contracts of the one now building.
	println!("cargo:rerun-if-env-changed=PLATONE_ROOT");
	for (dir, bin) in CONTRACTS {
		let crate_dir = here.join(dir);
		for watched in ["src", "Cargo.toml", "Cargo.lock"] {
			println!(
				"cargo:rerun-if-changed={}",
				crate_dir.join(watched).display()
			);
		}
		let status = Command::new(&cargo)
			.current_dir(&crate_dir)
			// The outer build's flags are for the host; the contract gets its own.
			.env_remove("RUSTFLAGS")
			.env_remove("CARGO_BUILD_RUSTFLAGS")
			.env_remove("CARGO_TARGET_DIR")
			.env_remove("CARGO_BUILD_TARGET")
			.env("CARGO_ENCODED_RUSTFLAGS", RUSTFLAGS.join("\x1f"))
			.args([
				"build",
				"--release",
				"--locked",
				"--target",
				"wasm32v1-none",
			])
			.arg("--target-dir")
			.arg(&target_dir)
			.status()
			.unwrap_or_else(|e| panic!("cannot run cargo for contract {dir}: {e}"));
		assert!(status.success(), "contract {dir} did not build");
		let built = target_dir.join(format!("wasm32v1-none/release/{bin}.wasm"));
		let wasm =
			fs::read(&built).unwrap_or_else(|e| panic!("cannot read {}: {e}", built.display()));
		let wasm = only_function_exports(&wasm)
			.unwrap_or_else(|e| panic!("contract {dir}: malformed wasm: {e}"));
		fs::write(out.join(format!("{bin}.wasm")), wasm).expect("write the contract");
	}
}

/// The module with its export section reduced to function exports: the linker always exports
/// the globals `__heap_base` and `__data_end`, and pallet-contracts refuses any export but the
/// functions `call` and `deploy`.
fn only_function_exports(wasm: &[u8]) -> Result<Vec<u8>, String> {
	if wasm.get(..8) != Some(b"\0asm\x01\0\0\0".as_slice()) {
		return Err("not a WebAssembly 1 module".into());
	}
	let mut out = wasm[..8].to_vec();
	let mut at = 8;
	while at < wasm.len() {
		let id = wasm[at];
		let (size, body_at) = leb(wasm, at + 1)?;
		let end = body_at
			.checked_add(size as usize)
			.filter(|end| *end <= wasm.len())
			.ok_or("section runs past the end")?;
		let body = &wasm[body_at..end];
		let body = if id == 7 {
			function_exports(body)?
		} else {
			body.to_vec()
		};
		out.push(id);
		put_leb(&mut out, body.len() as u32);
		out.extend_from_slice(&body);
		at = end;
	}
	Ok(out)
}

/// An export section's function entries (kind 0), re-encoded.
fn function_exports(body: &[u8]) -> Result<Vec<u8>, String> {
	let (count, mut at) = leb(body, 0)?;
	let mut kept = Vec::new();
	let mut n = 0u32;
	for _ in 0..count {
		let start = at;
		let (len, name_at) = leb(body, at)?;
		let kind_at = name_at + len as usize;
		let kind = *body.get(kind_at).ok_or("export runs past its section")?;
		let (_, next) = leb(body, kind_at + 1)?;
		if kind == 0 {
			kept.extend_from_slice(&body[start..next]);
			n += 1;
		}
		at = next;
	}
	let mut out = Vec::new();
	put_leb(&mut out, n);
	out.extend_from_slice(&kept);
	Ok(out)
}

/// An unsigned LEB128 `u32` at `at`, and where what follows it starts.
fn leb(bytes: &[u8], mut at: usize) -> Result<(u32, usize), String> {
	let mut value = 0u32;
	for shift in (0..35).step_by(7) {
		let byte = *bytes.get(at).ok_or("LEB128 runs past the end")?;
		at += 1;
		value |= u32::from(byte & 0x7f) << shift;
		if byte & 0x80 == 0 {
			return Ok((value, at));
		}
	}
	Err("LEB128 longer than a u32".into())
}

fn put_leb(out: &mut Vec<u8>, mut value: u32) {
	loop {
		let byte = (value & 0x7f) as u8;
		value >>= 7;
		if value == 0 {
			out.push(byte);
			return;
		}
		out.push(byte | 0x80);
	}
}
