//! Runs a settlement mechanism's contract off chain, for `platone audit settlement` (issue #14,
//! FR-MP-SET-01/02): an auditor re-executes each contract answer on the recorded input rather
//! than take the node's word for it.
//!
//! A mechanism is a function from its input to its answer, so the host offered here is the
//! part of pallet-contracts' that such a function needs: `seal0` `input` (and its `seal_input`
//! alias) and `seal_return`, with the memory the module imports. The engine is pallet-contracts'
//! own (wasmi 0.32, configured as `pallet_contracts::wasm::prepare` configures it: no floats,
//! no proposals beyond sign extension), so a module that loads there loads here and computes
//! the same. A contract that imports anything else (storage, the caller, the block) cannot be
//! run here: the audit then says so and checks its stored answers against their bounds only.

use wasmi::{Caller, Config, Engine, ExternType, Linker, Memory, MemoryType, Module, Store};

/// Why a contract could not be run here.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NotRunnable {
	#[error("the code does not load: {0}")]
	Load(String),
	#[error("it imports {0}, which an audit does not offer")]
	Import(String),
}

/// The host state of one call: its input, and what `seal_return` handed back.
struct Host {
	input: Vec<u8>,
	returned: Option<(u32, Vec<u8>)>,
	memory: Option<Memory>,
}

/// pallet-contracts' `ReturnFlags::REVERT`.
const REVERT: u32 = 1;

/// Runs `code`'s `call` export on `input` with at most `fuel` wasmi fuel (what the call's gas
/// buys on chain: `gas / Schedule::ref_time_by_fuel`). Yields the returned data, or `None` if it
/// trapped, reverted, ran out of fuel or returned without `seal_return`.
pub fn call(code: &[u8], input: &[u8], fuel: u64) -> Result<Option<Vec<u8>>, NotRunnable> {
	let mut config = Config::default();
	config
		.wasm_multi_value(false)
		.wasm_mutable_global(false)
		.wasm_sign_extension(true)
		.wasm_bulk_memory(false)
		.wasm_reference_types(false)
		.wasm_tail_call(false)
		.wasm_extended_const(false)
		.wasm_saturating_float_to_int(false)
		.floats(false)
		.consume_fuel(true);
	let engine = Engine::new(&config);
	let module = Module::new(&engine, code).map_err(|e| NotRunnable::Load(e.to_string()))?;
	let mut store = Store::new(
		&engine,
		Host {
			input: input.to_vec(),
			returned: None,
			memory: None,
		},
	);
	let mut linker = <Linker<Host>>::new(&engine);
	for import in module.imports() {
		let what = format!("{}.{}", import.module(), import.name());
		match (import.module(), import.name(), import.ty()) {
			("env", "memory", ExternType::Memory(ty)) => {
				let ty = MemoryType::new(
					u32::from(ty.initial_pages()),
					ty.maximum_pages().map(u32::from),
				)
				.map_err(|e| NotRunnable::Load(e.to_string()))?;
				let memory =
					Memory::new(&mut store, ty).map_err(|e| NotRunnable::Load(e.to_string()))?;
				store.data_mut().memory = Some(memory);
				linker
					.define("env", "memory", memory)
					.map_err(|e| NotRunnable::Load(e.to_string()))?;
			}
			("seal0", name @ ("input" | "seal_input"), ExternType::Func(_)) => {
				linker
					.func_wrap("seal0", name, input_fn)
					.map_err(|e| NotRunnable::Load(e.to_string()))?;
			}
			("seal0", "seal_return", ExternType::Func(_)) => {
				linker
					.func_wrap("seal0", "seal_return", return_fn)
					.map_err(|e| NotRunnable::Load(e.to_string()))?;
			}
			_ => return Err(NotRunnable::Import(what)),
		}
	}
	let Ok(instance) = linker
		.instantiate(&mut store, &module)
		.and_then(|pre| pre.ensure_no_start(&mut store).map_err(Into::into))
	else {
		return Ok(None);
	};
	let Ok(entry) = instance.get_typed_func::<(), ()>(&store, "call") else {
		return Ok(None);
	};
	if store.set_fuel(fuel).is_err() {
		return Ok(None);
	}
	// `seal_return` ends the call with a host error that carries nothing: what it returned is in
	// the host state. A call that ends by itself returns nothing, as on chain.
	let _ = entry.call(&mut store, ());
	Ok(match store.into_data().returned {
		Some((flags, _)) if flags & REVERT != 0 => None,
		Some((_, data)) => Some(data),
		None => None,
	})
}

/// A mechanism's answer to `input`, as the runtime's `ContractMechanisms` takes it: the
/// returned data decoded as exactly one `Split`, else `None`.
pub fn answer(
	code: &[u8],
	input: &pallet_settlement::MechanismInput,
	fuel: u64,
) -> Result<Option<pallet_settlement::Split>, NotRunnable> {
	use codec::{Decode, Encode};
	let exact = pallet_settlement::Split::default().encoded_size();
	Ok(call(code, &input.encode(), fuel)?
		.filter(|data| data.len() == exact)
		.and_then(|data| pallet_settlement::Split::decode(&mut &data[..]).ok()))
}

fn memory(caller: &Caller<'_, Host>) -> Result<Memory, wasmi::Error> {
	caller
		.data()
		.memory
		.ok_or_else(|| wasmi::Error::new("the contract imports no memory"))
}

/// `seal0.input(out_ptr, out_len_ptr)`: writes the input at `out_ptr` if the buffer whose
/// length is at `out_len_ptr` holds it, and its length at `out_len_ptr`; traps otherwise.
fn input_fn(
	mut caller: Caller<'_, Host>,
	out_ptr: u32,
	out_len_ptr: u32,
) -> Result<(), wasmi::Error> {
	let memory = memory(&caller)?;
	let mut len = [0u8; 4];
	memory
		.read(&caller, out_len_ptr as usize, &mut len)
		.map_err(|e| wasmi::Error::new(e.to_string()))?;
	let input = caller.data().input.clone();
	if input.len() > u32::from_le_bytes(len) as usize {
		return Err(wasmi::Error::new("the output buffer is too small"));
	}
	memory
		.write(&mut caller, out_ptr as usize, &input)
		.map_err(|e| wasmi::Error::new(e.to_string()))?;
	memory
		.write(
			&mut caller,
			out_len_ptr as usize,
			&(input.len() as u32).to_le_bytes(),
		)
		.map_err(|e| wasmi::Error::new(e.to_string()))
}

/// `seal0.seal_return(flags, data_ptr, data_len)`: ends the call with that data.
fn return_fn(
	mut caller: Caller<'_, Host>,
	flags: u32,
	data_ptr: u32,
	data_len: u32,
) -> Result<(), wasmi::Error> {
	let memory = memory(&caller)?;
	let mut data = vec![0u8; data_len as usize];
	memory
		.read(&caller, data_ptr as usize, &mut data)
		.map_err(|e| wasmi::Error::new(e.to_string()))?;
	caller.data_mut().returned = Some((flags, data));
	Err(wasmi::Error::new("returned"))
}

#[cfg(test)]
mod tests {
	use super::*;

	/// The graded contract, built from source by platone-contracts, answers as the pallet's
	/// tests expect of it: its rule worked by hand in `platone_contracts`' own tests.
	#[test]
	fn the_graded_contract_runs_here() {
		let input = [0u8; 72];
		let out = call(platone_contracts::GRADED, &input, 1_000_000_000)
			.expect("runnable")
			.expect("an answer");
		assert_eq!(out.len(), 48);
		// Too little fuel: no answer, as on chain when the gas runs out.
		assert_eq!(call(platone_contracts::GRADED, &input, 10), Ok(None));
		// Input that is no `MechanismInput`: the contract reverts.
		assert_eq!(
			call(platone_contracts::GRADED, &[0u8; 3], 1_000_000_000),
			Ok(None)
		);
	}

	/// A module that asks for the caller (or anything beyond input and return) is not run.
	#[test]
	fn a_contract_that_needs_more_of_the_host_is_not_run() {
		// (module (import "seal0" "caller" (func (param i32 i32))) (func (export "call")))
		let wasm = [
			0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
			0x01, 0x09, 0x02, 0x60, 0x02, 0x7f, 0x7f, 0x00, 0x60, 0x00, 0x00, // types
			0x02, 0x10, 0x01, 0x05, b's', b'e', b'a', b'l', b'0', 0x06, b'c', b'a', b'l', b'l',
			b'e', b'r', 0x00, 0x00, // import
			0x03, 0x02, 0x01, 0x01, // function
			0x07, 0x08, 0x01, 0x04, b'c', b'a', b'l', b'l', 0x00, 0x01, // export
			0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // code
		];
		assert_eq!(
			call(&wasm, &[], 1_000),
			Err(NotRunnable::Import("seal0.caller".into()))
		);
		assert!(matches!(
			call(b"not wasm", &[], 1_000),
			Err(NotRunnable::Load(_))
		));
	}
}
