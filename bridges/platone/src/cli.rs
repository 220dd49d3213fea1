//! The command line.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
	name = "platone",
	version,
	about = "Platone Blockchain Access Layer: ingest, simulator, …"
)]
pub struct Cli {
	/// Config file (TOML); built-in defaults if absent.
	#[arg(long, short, global = true)]
	pub config: Option<PathBuf>,
	/// Development mode: where the config names none, sign as the development chain's gateway
	/// (`//Charlie`) and accept its devices (`pmu-001`…`010`, `meter-001`…`004`). Never on a
	/// real network.
	#[arg(long, global = true)]
	pub dev: bool,
	/// Broker host, overriding the config.
	#[arg(long, global = true)]
	pub broker_host: Option<String>,
	/// Broker port, overriding the config.
	#[arg(long, global = true)]
	pub broker_port: Option<u16>,
	/// SCD URL (`sqlite://path` or `postgres://…`), overriding the config.
	#[arg(long, global = true)]
	pub scd: Option<String>,
	/// Address of the HTTP ingest and metrics server, overriding the config.
	#[arg(long, global = true)]
	pub http_listen: Option<SocketAddr>,
	/// No HTTP server.
	#[arg(long, global = true, conflicts_with = "http_listen")]
	pub no_http: bool,
	/// Address of the SCD API (proofs, certificates), overriding the config.
	#[arg(long, global = true)]
	pub api_listen: Option<SocketAddr>,
	/// No SCD API.
	#[arg(long, global = true, conflicts_with = "api_listen")]
	pub no_api: bool,
	#[command(subcommand)]
	pub role: Role,
}

#[derive(Subcommand)]
pub enum Audit {
	/// Check the SCD's certification invariant over a range of windows: every stored
	/// measurement lies in exactly one certified window and its proof verifies; nothing
	/// certified is missing from the SCD; with `--rpc`, every certificate matches the chain's
	/// at its finalized head. Prints one line per difference. Exit codes: 0 no difference,
	/// 1 differences, 5 chain unreachable.
	Scd {
		/// First certification window start to check, Unix ms.
		#[arg(long)]
		from_ms: u64,
		/// Last certification window start to check, Unix ms; now if absent.
		#[arg(long)]
		to_ms: Option<u64>,
		/// How long after a window ends it may be unsealed or not yet certified (ms); the
		/// certifier's grace plus a minute if absent.
		#[arg(long)]
		pending_ms: Option<u64>,
		/// Compare with the chain at this node's finalized head.
		#[arg(long)]
		rpc: Option<String>,
		/// The gateway account (hex) whose certificates the SCD holds; `[certify] account` if
		/// absent.
		#[arg(long)]
		gateway: Option<String>,
	},
	/// Recompute a market session from finalized chain state with the clearing crate the
	/// pallet runs: the sealed input root, each step's awards, digests and method, the outcome
	/// and validation roots, and the market's own anchors of them (FR-MP-BC-02). Prints one
	/// line per difference. Exit codes: 0 no difference, 1 differences, 2 no such session, 4
	/// malformed input, 5 chain unreachable or its state proof invalid, 6 finality not proven
	/// against the pinned authority set.
	Market {
		#[arg(long)]
		session: u32,
		/// Node JSON-RPC; `[certify] rpc` if absent.
		#[arg(long)]
		rpc: Option<String>,
		/// The GRANDPA authority set to trust (JSON, as `platone authority-set` prints it).
		#[arg(long)]
		authority_set: Option<PathBuf>,
		/// Also write the session's sealed input here, as a market file for `platone market
		/// clear`.
		#[arg(long)]
		export: Option<PathBuf>,
	},
	/// Recompute a session's settlement from finalized chain state with the code the pallet
	/// runs: every outcome from the market's final awards, the declared baselines, the
	/// metering on chain and the chosen mechanisms (a contract's answer is checked against
	/// the award, not re-executed), each split's bounds, the tally, and the root over the
	/// final outcomes against the pallet's own anchor (FR-MP-SET-04/06). Prints one line per
	/// difference. Exit codes as for `audit market`.
	Settlement {
		#[arg(long)]
		session: u32,
		/// Node JSON-RPC; `[certify] rpc` if absent.
		#[arg(long)]
		rpc: Option<String>,
		/// The GRANDPA authority set to trust (JSON, as `platone authority-set` prints it).
		#[arg(long)]
		authority_set: Option<PathBuf>,
		/// Also derive each metering on chain again from the certified readings in the SCD
		/// (`[scd] url`, or `--scd`): the gateway operator's check that no submission left
		/// out or added a reading.
		#[arg(long)]
		with_scd: bool,
	},
}

#[derive(Subcommand)]
pub enum Market {
	/// Clear a market given as JSON offline, with the code the chain runs, and print the
	/// outcome (awards and per-slot objectives) as JSON: for what-if studies and auditors.
	/// Exit codes: 0 cleared, 4 malformed or not clearable.
	Clear {
		/// The market (JSON: pricing, areas, requests, offers); `-` for standard input.
		file: PathBuf,
		/// Items with a minimum searched exhaustively per slot and direction; the chain's
		/// runtime uses 4.
		#[arg(long, default_value_t = 4)]
		exact_limit: usize,
	},
}

#[derive(Subcommand)]
pub enum Role {
	/// Ingest device data from MQTT into the SCD.
	Ingest,
	/// Simulate PMUs and meters publishing to the broker.
	Sim {
		/// Number of PMUs.
		#[arg(long)]
		pmus: Option<u32>,
		/// Samples per second per PMU.
		#[arg(long)]
		rate: Option<u32>,
		/// Number of meters.
		#[arg(long)]
		meters: Option<u32>,
		/// Stop after this many seconds.
		#[arg(long)]
		seconds: Option<u64>,
	},
	/// Run the embedded broker, ingest and the simulator together in one process.
	Run {
		/// Use the broker of `[broker]` instead of starting the embedded one.
		#[arg(long)]
		external_broker: bool,
	},
	/// Run only the embedded MQTT broker (loopback, no authentication: development).
	Broker,
	/// Close windows in the SCD and certify them on chain.
	Certify,
	/// Print a measurement's proof document (JSON) from the SCD.
	Proof {
		/// The gateway account (hex) that certified it; `[certify] account` if absent.
		#[arg(long)]
		gateway: Option<String>,
		#[arg(long)]
		dataset: u64,
		#[arg(long)]
		timestamp_us: u64,
		#[arg(long)]
		sequence: u32,
	},
	/// Check a proof document against finalized chain state, trusting neither the SCD nor the
	/// RPC node's answers (with `--authority-set`, not even which block is finalized). Exit
	/// codes: 0 verified, 2 not certified on chain, 3 the proof does not match the certified
	/// root, 4 malformed input, 5 chain unreachable or its state proof invalid, 6 finality not
	/// proven against the pinned authority set.
	Verify {
		/// The proof document (JSON, as `platone proof` prints it); `-` for standard input.
		#[arg(required_unless_present = "api")]
		proof: Option<PathBuf>,
		/// Node JSON-RPC; `[certify] rpc` if absent.
		#[arg(long)]
		rpc: Option<String>,
		/// Fetch the proof from this SCD API (`https://host:port`) instead of a file.
		#[arg(long, requires_all = ["dataset", "timestamp_us", "sequence"], conflicts_with = "proof")]
		api: Option<String>,
		#[arg(long)]
		dataset: Option<u64>,
		#[arg(long)]
		timestamp_us: Option<u64>,
		#[arg(long)]
		sequence: Option<u32>,
		/// CA certificate (PEM) the API's TLS certificate must chain to; the system's roots if
		/// absent.
		#[arg(long)]
		ca: Option<PathBuf>,
		/// Client certificate chain (PEM) for an API that requires mutual TLS.
		#[arg(long, requires = "client_key")]
		client_cert: Option<PathBuf>,
		/// The client certificate's private key (PEM).
		#[arg(long, requires = "client_cert")]
		client_key: Option<PathBuf>,
		/// OAuth2 bearer token for the API.
		#[arg(long, env = "PLATONE_API_TOKEN", hide_env_values = true)]
		token: Option<String>,
		/// The GRANDPA authority set to trust (JSON, as `platone authority-set` prints it):
		/// finality is then checked from a justification, not taken from the node.
		#[arg(long)]
		authority_set: Option<PathBuf>,
	},
	/// The flexibility market offline: `platone market clear FILE`.
	Market {
		#[command(subcommand)]
		what: Market,
	},
	/// Settle market sessions' awards (FR-MP-SET-03/04): submit each awarded PoD's certified
	/// meter readings for its slot from the SCD with their proofs, settle the awards once the
	/// metering delay has passed, and make them final once their dispute windows have. Signs
	/// with the settlement worker's own key (`[settle]`), reads the gateway's SCD. Each run
	/// does what is left. With `--session`, that session; exit codes: 0 every award final (or,
	/// without `--follow`, the run went through), 5 chain unreachable. Without it, every
	/// session as it becomes final, until stopped (Ctrl-C, SIGTERM).
	Settle {
		/// One market session.
		#[arg(long)]
		session: Option<u32>,
		/// Node JSON-RPC; `[certify] rpc` if absent.
		#[arg(long)]
		rpc: Option<String>,
		/// Run again every `--every-s` seconds until every award is final (implied without
		/// `--session`).
		#[arg(long)]
		follow: bool,
		/// Seconds between runs; `[settle] every_s` if absent.
		#[arg(long)]
		every_s: Option<u64>,
	},
	/// Audit what others rely on: `platone audit scd`, `platone audit market`.
	Audit {
		#[command(subcommand)]
		what: Audit,
	},
	/// Print the chain's current GRANDPA authority set (JSON) at the node's finalized head, for
	/// auditors to compare across members' nodes and pin for `verify --authority-set`. With
	/// `--from`, the set is not taken from the node but reached from a pinned one through each
	/// validator change, every step proven by a justification of the set before it.
	AuthoritySet {
		/// Node JSON-RPC; `[certify] rpc` if absent.
		#[arg(long)]
		rpc: Option<String>,
		/// A pinned set (JSON) to follow forward from.
		#[arg(long)]
		from: Option<PathBuf>,
	},
	/// Print the effective configuration.
	Config,
}
