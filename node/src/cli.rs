use sc_cli::RunCmd;

#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: RunCmd,

	/// Where compiled runtimes are kept between starts (wasmtime's cache, keyed by the code and
	/// the compiler), so that a restart does not compile the runtime again. Default:
	/// `wasm-cache` in the chain's data directory.
	#[arg(long, global = true, value_name = "DIR")]
	pub wasm_cache: Option<std::path::PathBuf>,
}

impl Cli {
	/// The compiled-runtime cache for a node of `config`.
	pub fn wasm_cache(&self, config: &sc_service::Configuration) -> std::path::PathBuf {
		self.wasm_cache
			.clone()
			.unwrap_or_else(|| config.data_path.join("wasm-cache"))
	}
}

#[derive(Debug, clap::Subcommand)]
pub enum Subcommand {
	/// Key management: generate and inspect account, session and node keys.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Print a chain specification (`--chain dev|local-consortium|<file>`, `--raw`).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks to a file, for archives and audits.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state at a block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks from a file.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain database.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Database column information.
	ChainInfo(sc_cli::ChainInfoCmd),

	/// Benchmark runtime pallets (build with `--features runtime-benchmarks`).
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),
}
