//! Support for integration tests: start and kill real `platone-node` processes, talk to them
//! over JSON-RPC, and wait for chain conditions with a deadline.

use std::{
	io::{BufRead, BufReader, Read, Write},
	net::{TcpListener, TcpStream},
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::{Mutex, OnceLock},
	time::{Duration, Instant},
};

use serde_json::{json, Value};

pub mod bridges;
pub mod tx;

/// Directory holding the workspace's build outputs (`…/target/debug`), found from the running
/// test executable (`…/target/debug/deps/<test>`), so the tests use the binary `cargo` just built.
pub fn build_dir() -> PathBuf {
	let exe = std::env::current_exe().expect("test executable path");
	exe.parent()
		.and_then(Path::parent)
		.expect("target/<profile>/deps layout")
		.to_path_buf()
}

pub fn node_binary() -> PathBuf {
	let bin = std::env::var_os("PLATONE_NODE")
		.map(PathBuf::from)
		.unwrap_or_else(|| build_dir().join("platone-node"));
	assert!(
		bin.exists(),
		"{} missing: run `cargo build --workspace` first",
		bin.display()
	);
	bin
}

/// The nodes' shared cache of compiled runtimes, under the target dir: wasmtime keys each entry
/// by the code and the compiler, so a changed runtime or node never uses a stale one.
pub fn wasm_cache() -> PathBuf {
	build_dir().join("platone-wasm-cache")
}

/// `args` with their chain (`--chain`, or `--dev`'s) as a raw spec: a node given a plain spec
/// builds its genesis storage by running the runtime, compiled afresh at every start (about
/// 8 s of two cores); a raw spec holds that storage. The raw spec is built once per node binary
/// and spec, by the node itself (`build-spec --raw`), so it is the genesis the node would build.
/// The committed spec's own handling is tested with the node started directly
/// (`tests/chain_spec.rs`).
pub fn with_raw_spec(args: &[String]) -> Vec<String> {
	let mut out = args.to_vec();
	match out.iter().position(|a| a == "--chain") {
		Some(i) if i + 1 < out.len() => out[i + 1] = raw_spec(&out[i + 1]).display().to_string(),
		Some(_) => {}
		None if out.iter().any(|a| a == "--dev") => {
			out.push("--chain".into());
			out.push(raw_spec("dev").display().to_string());
		}
		None => {}
	}
	out
}

/// `chain` (a built-in chain's name or a spec file) as a raw spec file under the target dir.
pub fn raw_spec(chain: &str) -> PathBuf {
	use sp_runtime::traits::{BlakeTwo256, Hash};
	let node = node_binary();
	let meta = std::fs::metadata(&node).expect("the node binary");
	let mut key = format!("{chain}|{}|{:?}|", meta.len(), meta.modified().ok()).into_bytes();
	key.extend(std::fs::read(chain).unwrap_or_default());
	let name: String = BlakeTwo256::hash(&key).as_bytes()[..16]
		.iter()
		.map(|b| format!("{b:02x}"))
		.collect();
	let dir = build_dir().join("platone-raw-specs");
	let path = dir.join(format!("{name}.json"));
	if path.exists() {
		return path;
	}
	std::fs::create_dir_all(&dir).expect("create the raw spec dir");
	let out = Command::new(&node)
		.args(["build-spec", "--raw", "--chain", chain])
		.output()
		.expect("run build-spec --raw");
	assert!(
		out.status.success(),
		"build-spec --raw --chain {chain}: {}",
		String::from_utf8_lossy(&out.stderr)
	);
	// Written aside and renamed: tests in other processes and threads may want the same spec
	// now.
	let staging = dir.join(format!(
		"{name}.{}.{:?}.tmp",
		std::process::id(),
		std::thread::current().id()
	));
	std::fs::write(&staging, &out.stdout).expect("write the raw spec");
	std::fs::rename(&staging, &path).expect("place the raw spec");
	path
}

/// A fresh scratch directory under the target dir, removed on drop unless the test failed.
pub struct Scratch(pub PathBuf);

impl Scratch {
	pub fn new(name: &str) -> Self {
		let dir = build_dir()
			.join("platone-test-scratch")
			.join(format!("{name}-{}", std::process::id()));
		let _ = std::fs::remove_dir_all(&dir);
		std::fs::create_dir_all(&dir).expect("create scratch dir");
		Scratch(dir)
	}
}

impl Drop for Scratch {
	fn drop(&mut self) {
		if std::thread::panicking() {
			// CI keeps only the test's output: the logs' tails are what tells a failure's cause.
			for log in logs_under(&self.0, 2) {
				eprintln!("---- {} (last lines)\n{}", log.display(), tail(&log, 40));
			}
		} else {
			let _ = std::fs::remove_dir_all(&self.0);
		}
	}
}

/// `*.log` files in `dir` and its subdirectories, `depth` levels down.
fn logs_under(dir: &Path, depth: u32) -> Vec<PathBuf> {
	let mut logs = Vec::new();
	for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
		let path = entry.path();
		if path.is_dir() && depth > 0 {
			logs.extend(logs_under(&path, depth - 1));
		} else if path.extension().is_some_and(|e| e == "log") {
			logs.push(path);
		}
	}
	logs.sort();
	logs
}

/// The last `n` lines of a file.
fn tail(path: &Path, n: usize) -> String {
	let bytes = std::fs::read(path).unwrap_or_default();
	let text = String::from_utf8_lossy(&bytes);
	let lines: Vec<&str> = text.lines().collect();
	lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A TCP port that was free a moment ago, for a server a test starts.
///
/// Chosen below the kernel's ephemeral range, not by binding port 0: the kernel also hands
/// ephemeral ports to outgoing connections, and the tests open many (every RPC poll is one), so
/// a port from there can be taken between its choice and the server's bind, and the server
/// then fails to start. Each test process starts at its own offset and hands out each port once.
pub fn free_port() -> u16 {
	use std::sync::atomic::{AtomicU32, Ordering};
	static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
	const LOW: u16 = 10_000;
	let high = ephemeral_low().max(LOW);
	let span = u32::from(high - LOW);
	if span < 1_000 {
		return TcpListener::bind("127.0.0.1:0")
			.and_then(|l| l.local_addr())
			.expect("bind port 0")
			.port();
	}
	let seed = std::process::id().wrapping_mul(2_654_435_761)
		^ std::time::SystemTime::now()
			.duration_since(std::time::UNIX_EPOCH)
			.map_or(0, |d| d.subsec_nanos());
	let _ = NEXT.compare_exchange(u32::MAX, seed % span, Ordering::Relaxed, Ordering::Relaxed);
	for _ in 0..span {
		let port = LOW + (NEXT.fetch_add(1, Ordering::Relaxed) % span) as u16;
		// The wildcard address: taken if any address of the host has the port.
		if TcpListener::bind(("0.0.0.0", port)).is_ok() {
			return port;
		}
	}
	panic!("no free TCP port in {LOW}..{high}");
}

/// The first port of the kernel's ephemeral range (Linux's default where it cannot be read).
fn ephemeral_low() -> u16 {
	std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
		.ok()
		.and_then(|s| s.split_whitespace().next()?.parse().ok())
		.unwrap_or(32_768)
}

/// Peer ID of a node key, computed by the node binary itself.
pub fn peer_id(node_key_hex: &str, dir: &Path) -> String {
	let file = dir.join(format!("node-key-{node_key_hex}"));
	std::fs::write(&file, node_key_hex).expect("write node key");
	let out = Command::new(node_binary())
		.args(["key", "inspect-node-key", "--file"])
		.arg(&file)
		.output()
		.expect("run platone-node key inspect-node-key");
	assert!(
		out.status.success(),
		"inspect-node-key: {}",
		String::from_utf8_lossy(&out.stderr)
	);
	String::from_utf8(out.stdout)
		.expect("utf8")
		.trim()
		.to_string()
}

/// A running `platone-node` with its ports and log file.
pub struct Node {
	pub name: String,
	/// The JSON-RPC port asked for; see [`Node::rpc_port`] for the one served.
	rpc_asked: u16,
	/// The port the running node serves JSON-RPC on, once read from its log.
	rpc_served: OnceLock<u16>,
	pub p2p_port: u16,
	pub log: PathBuf,
	/// Where the running node's part of the log starts (a restart appends).
	log_from: u64,
	args: Vec<String>,
	child: Option<Child>,
}

impl Node {
	/// Starts a node with `extra` arguments; ports and log are chosen here.
	pub fn start(name: &str, dir: &Path, extra: &[String]) -> Node {
		Self::start_on(name, dir, free_port(), extra)
	}

	/// A `--dev` node with its database under `dir/dev`.
	pub fn dev(dir: &Path) -> Node {
		Self::start(
			"dev",
			dir,
			&[
				"--dev".into(),
				"--base-path".into(),
				dir.join("dev").display().to_string(),
			],
		)
	}

	/// Starts a node listening for peers on `p2p_port`, known in advance to its bootnodes.
	pub fn start_on(name: &str, dir: &Path, p2p_port: u16, extra: &[String]) -> Node {
		Self::start_with(name, dir, p2p_port, with_raw_spec(extra))
	}

	/// [`Node::start`] with the chain exactly as given, not as a raw spec: for tests of how the
	/// node reads a spec.
	pub fn start_plain(name: &str, dir: &Path, extra: &[String]) -> Node {
		Self::start_with(name, dir, free_port(), extra.to_vec())
	}

	/// [`Node::start`] with the RPC port given: for tests of what happens when it is taken.
	pub fn start_with_rpc_port(name: &str, dir: &Path, rpc_port: u16, extra: &[String]) -> Node {
		Self::start_ports(name, dir, rpc_port, free_port(), with_raw_spec(extra))
	}

	fn start_with(name: &str, dir: &Path, p2p_port: u16, args: Vec<String>) -> Node {
		Self::start_ports(name, dir, free_port(), p2p_port, args)
	}

	fn start_ports(name: &str, dir: &Path, rpc: u16, p2p_port: u16, args: Vec<String>) -> Node {
		let mut node = Node {
			name: name.into(),
			rpc_asked: rpc,
			rpc_served: OnceLock::new(),
			p2p_port,
			log: dir.join(format!("{name}.log")),
			log_from: 0,
			args,
			child: None,
		};
		node.spawn();
		node
	}

	/// The port the node serves JSON-RPC on. The node takes another port than the one asked
	/// for when that one is taken as it starts (by any process of the host), and says so in its
	/// log; the first call waits for that line. Asking the port given would reach nothing, or
	/// another test's node.
	pub fn rpc_port(&self) -> u16 {
		if self.child.is_none() {
			// Killed: calls fail whichever port they try.
			return self.rpc_served.get().copied().unwrap_or(self.rpc_asked);
		}
		*self.rpc_served.get_or_init(|| {
			wait_for(
				&format!("{} to serve JSON-RPC", self.name),
				Duration::from_secs(120),
				|| self.logged_rpc_port(),
			)
		})
	}

	/// The IPv4 port of the running node's "Running JSON-RPC server: addr=…" line.
	fn logged_rpc_port(&self) -> Option<u16> {
		const LINE: &str = "Running JSON-RPC server: addr=";
		let mut file = std::fs::File::open(&self.log).ok()?;
		std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(self.log_from)).ok()?;
		let mut bytes = Vec::new();
		file.read_to_end(&mut bytes).ok()?;
		let text = String::from_utf8_lossy(&bytes);
		let addrs = &text[text.find(LINE)? + LINE.len()..];
		addrs
			.split([',', ' ', '\n'])
			.find_map(|a| a.strip_prefix("127.0.0.1:").or(a.strip_prefix("0.0.0.0:")))
			.and_then(|port| port.trim().parse().ok())
	}

	fn spawn(&mut self) {
		let log = std::fs::OpenOptions::new()
			.create(true)
			.append(true)
			.open(&self.log)
			.expect("open node log");
		self.log_from = log.metadata().map_or(0, |m| m.len());
		self.rpc_served = OnceLock::new();
		let child = Command::new(node_binary())
			.args(&self.args)
			.args(["--rpc-port", &self.rpc_asked.to_string()])
			// `rpc_port` reads the RPC server's INFO line: no inherited filter may hide it.
			.env_remove("RUST_LOG")
			.args(["--port", &self.p2p_port.to_string()])
			.args(["--no-prometheus", "--no-telemetry", "--no-mdns"])
			// One cache of compiled runtimes for every node of every test: the runtime is
			// compiled once per run, not at each node's start.
			.arg("--wasm-cache")
			.arg(wasm_cache())
			.stdout(Stdio::null())
			.stderr(log)
			.spawn()
			.expect("spawn platone-node");
		watch(child.id(), &self.name, &self.log);
		self.child = Some(child);
	}

	/// Freezes the node (SIGSTOP): its sockets stay open and nothing answers, as when a host
	/// stalls. `resume` thaws it.
	pub fn pause(&self) {
		self.signal("-STOP");
	}

	pub fn resume(&self) {
		self.signal("-CONT");
	}

	fn signal(&self, signal: &str) {
		if let Some(child) = &self.child {
			let ok = Command::new("kill")
				.arg(signal)
				.arg(child.id().to_string())
				.status()
				.is_ok_and(|s| s.success());
			assert!(ok, "kill {signal} {}", self.name);
		}
	}

	/// `kill -9`: no chance to flush or say goodbye.
	pub fn kill9(&mut self) {
		if let Some(mut child) = self.child.take() {
			unwatch(child.id());
			let _ = child.kill();
			let _ = child.wait();
		}
	}

	/// Panics with the log's tail if the node has exited, so a test fails with the node's
	/// reason rather than a time-out.
	pub fn assert_running(&mut self) {
		if let Some(status) = self
			.child
			.as_mut()
			.and_then(|c| c.try_wait().ok().flatten())
		{
			panic!("node {} exited ({status}):\n{}", self.name, self.log_tail());
		}
	}

	/// Starts the node again with the same arguments, ports and base path.
	pub fn restart(&mut self) {
		// The port it served, which URLs given out before name; if it is taken now, the node
		// falls back again and `rpc_port` follows.
		if let Some(&served) = self.rpc_served.get() {
			self.rpc_asked = served;
		}
		self.kill9();
		self.spawn();
	}

	pub fn rpc(&self, method: &str, params: Value) -> Result<Value, String> {
		rpc_call(self.rpc_port(), method, params)
	}

	pub fn finalized_number(&self) -> Option<u64> {
		let hash = self.rpc("chain_getFinalizedHead", json!([])).ok()?;
		let header = self.rpc("chain_getHeader", json!([hash])).ok()?;
		header_number(&header)
	}

	pub fn best_number(&self) -> Option<u64> {
		header_number(&self.rpc("chain_getHeader", json!([])).ok()?)
	}

	pub fn peer_count(&self) -> Option<u64> {
		self.rpc("system_health", json!([]))
			.ok()?
			.get("peers")?
			.as_u64()
	}

	pub fn local_peer_id(&self) -> Option<String> {
		self.rpc("system_localPeerId", json!([]))
			.ok()?
			.as_str()
			.map(str::to_string)
	}

	/// Last lines of the node's log, for failure messages.
	pub fn log_tail(&self) -> String {
		tail(&self.log, 30)
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		self.kill9();
	}
}

fn header_number(header: &Value) -> Option<u64> {
	let hex = header.get("number")?.as_str()?.trim_start_matches("0x");
	u64::from_str_radix(hex, 16).ok()
}

/// How much longer than its stated timeout a wait may take: `PLATONE_TEST_PATIENCE`, 3 by
/// default. Timeouts here only catch a hang; they are never a speed check (speed is measured in
/// benchmarks), and CI runs the tests side by side on two cores, where a node's start can take
/// several times as long as alone.
pub fn patience() -> u32 {
	std::env::var("PLATONE_TEST_PATIENCE")
		.ok()
		.and_then(|v| v.parse().ok())
		.filter(|&n| n > 0)
		.unwrap_or(3)
}

/// Polls `probe` every 500 ms until it returns `Some`, or panics with `what` after `timeout`
/// (times [`patience`]).
/// Fails at once, with the node's log, if a node this thread started has exited by itself
/// (nodes started on other threads are not watched here).
pub fn wait_for<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
	let timeout = timeout * patience();
	let start = Instant::now();
	loop {
		if let Some(v) = probe() {
			return v;
		}
		assert_nodes_running(what);
		assert!(
			start.elapsed() < timeout,
			"timed out after {timeout:?} waiting for {what}"
		);
		std::thread::sleep(Duration::from_millis(500));
	}
}

/// A node this process started and has not killed: (pid, starting thread, name, log).
type Watched = (u32, std::thread::ThreadId, String, PathBuf);

/// The nodes [`wait_for`] watches: a node that exits by itself (a port taken, a panic) would
/// otherwise show only as a time-out, minutes later and without its reason.
static WATCHED: Mutex<Vec<Watched>> = Mutex::new(Vec::new());

fn watched() -> std::sync::MutexGuard<'static, Vec<Watched>> {
	WATCHED.lock().unwrap_or_else(|e| e.into_inner())
}

fn watch(pid: u32, name: &str, log: &Path) {
	let thread = std::thread::current().id();
	watched().push((pid, thread, name.into(), log.into()));
}

fn unwatch(pid: u32) {
	watched().retain(|w| w.0 != pid);
}

fn assert_nodes_running(what: &str) {
	let thread = std::thread::current().id();
	let gone = watched()
		.iter()
		.find(|(pid, t, ..)| *t == thread && has_exited(*pid))
		.cloned();
	if let Some((pid, _, name, log)) = gone {
		unwatch(pid);
		panic!(
			"node {name} exited while waiting for {what}:\n{}",
			tail(&log, 30)
		);
	}
}

/// Whether a child process has exited (a zombie not yet waited for, or gone). Linux's `/proc`;
/// elsewhere, never.
fn has_exited(pid: u32) -> bool {
	if !Path::new("/proc/self/stat").exists() {
		return false;
	}
	match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
		// The state follows the parenthesised command name, which may itself hold spaces.
		Ok(stat) => stat
			.rsplit_once(')')
			.and_then(|(_, rest)| rest.split_whitespace().next())
			.is_some_and(|state| state == "Z" || state == "X"),
		Err(_) => true,
	}
}

/// One JSON-RPC call over HTTP/1.1 to a node on localhost. Deliberately minimal: the node's
/// server answers `Content-Length` framed JSON. The `Host` header carries the port, as the
/// server's host filter requires on non-development chains.
pub fn rpc_call(port: u16, method: &str, params: Value) -> Result<Value, String> {
	let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
	let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
	stream
		.set_read_timeout(Some(Duration::from_secs(10)))
		.map_err(|e| e.to_string())?;
	write!(
		stream,
		"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	)
	.map_err(|e| e.to_string())?;
	let mut reader = BufReader::new(stream);
	let mut content_length = None;
	loop {
		let mut line = String::new();
		reader.read_line(&mut line).map_err(|e| e.to_string())?;
		let line = line.trim_end();
		if line.is_empty() {
			break;
		}
		if let Some((k, v)) = line.split_once(':') {
			if k.eq_ignore_ascii_case("content-length") {
				content_length = v.trim().parse::<usize>().ok();
			}
		}
	}
	let mut buf = Vec::new();
	match content_length {
		Some(n) => {
			buf.resize(n, 0);
			reader.read_exact(&mut buf).map_err(|e| e.to_string())?;
		}
		None => {
			reader.read_to_end(&mut buf).map_err(|e| e.to_string())?;
		}
	}
	let reply: Value = serde_json::from_slice(&buf).map_err(|e| e.to_string())?;
	if let Some(err) = reply.get("error") {
		return Err(err.to_string());
	}
	reply
		.get("result")
		.cloned()
		.ok_or_else(|| format!("no result in {reply}"))
}
