//! `platone-node`: the validator and full node of the Platone consortium chain.

// sc-cli and sc-service define these error types; their size is not ours to change.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
