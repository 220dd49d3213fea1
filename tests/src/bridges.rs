//! Off-chain processes for integration tests: a real mosquitto broker and the `platone` binary.

use std::{
	path::{Path, PathBuf},
	process::{Child, Command},
	time::Duration,
};

use crate::{build_dir, free_port, wait_for};

pub fn platone_binary() -> PathBuf {
	let bin = build_dir().join("platone");
	assert!(
		bin.exists(),
		"{} missing: run `cargo build --workspace` first",
		bin.display()
	);
	bin
}

/// A child process with its log file, killed on drop.
pub struct Service {
	pub log: PathBuf,
	program: PathBuf,
	args: Vec<String>,
	child: Option<Child>,
}

impl Service {
	pub fn start(program: PathBuf, args: &[String], log: PathBuf) -> Service {
		let mut s = Service {
			log,
			program,
			args: args.to_vec(),
			child: None,
		};
		s.spawn();
		s
	}

	fn spawn(&mut self) {
		let log = std::fs::OpenOptions::new()
			.create(true)
			.append(true)
			.open(&self.log)
			.expect("open log");
		let child = Command::new(&self.program)
			.args(&self.args)
			.env(
				"RUST_LOG",
				std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
			)
			.stdout(log.try_clone().expect("log handle"))
			.stderr(log)
			.spawn()
			.unwrap_or_else(|e| panic!("spawn {}: {e}", self.program.display()));
		self.child = Some(child);
	}

	/// `kill -9`.
	pub fn kill9(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}

	pub fn restart(&mut self) {
		self.kill9();
		self.spawn();
	}

	/// SIGTERM: asks for a graceful shutdown.
	pub fn terminate(&self) {
		if let Some(child) = &self.child {
			let _ = Command::new("kill")
				.args(["-TERM", &child.id().to_string()])
				.status();
		}
	}

	/// Waits for the process to exit by itself; its exit status.
	pub fn wait(&mut self, timeout: Duration) -> std::process::ExitStatus {
		let child = self.child.as_mut().expect("running");
		let status = wait_for("the process to exit", timeout, || {
			child.try_wait().ok().flatten()
		});
		self.child = None;
		status
	}

	/// Waits until the log contains `text`.
	pub fn wait_for_log(&self, text: &str, timeout: Duration) {
		wait_for(
			&format!("{:?} in {}", text, self.log.display()),
			timeout,
			|| self.log_text().contains(text).then_some(()),
		);
	}

	pub fn log_text(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}
}

impl Drop for Service {
	fn drop(&mut self) {
		self.kill9();
	}
}

/// A mosquitto broker on a free port, with settings for lossless QoS 1 ingest: a large
/// in-flight window and an unbounded queue for a persistent session whose client is down.
pub struct Mosquitto {
	pub port: u16,
	pub service: Service,
}

/// Broker settings shared by the plain and the TLS broker. Packets up to ingest's message limit
/// (1 MiB of payload) and their topic and headers (issue #12).
const LOSSLESS: &str = "persistence false\nmax_inflight_messages 10000\nmax_queued_messages 0\n\
	log_type error\nlog_type warning\nlog_type notice\n";

/// `max_packet_size` of every broker configuration shipped: ingest's message limit plus 64 KiB.
pub const MAX_PACKET_SIZE: usize = (1 << 20) + (64 << 10);

impl Mosquitto {
	/// Plain TCP, anonymous: for ingest mechanics.
	pub fn start(dir: &Path) -> Mosquitto {
		let port = free_port();
		Self::start_with(
			dir,
			port,
			&format!("listener {port} 127.0.0.1\nallow_anonymous true\n"),
		)
	}

	/// Mutual TLS with the development PKI in `pki` (`scripts/pki.sh`): every client shows a
	/// certificate whose CN is its identity, and the ACL lets a device write only its own topic
	/// (`platone/v1/<gateway>/<kind>/<CN>`), the gateway's ingest read its devices, and the
	/// DSOTP read everything.
	pub fn start_tls(dir: &Path, pki: &Path) -> Mosquitto {
		let port = free_port();
		let acl = dir.join("mosquitto.acl");
		std::fs::write(
			&acl,
			"user platone-ingest-charlie\ntopic read platone/v1/charlie/#\n\n\
			 user dsotp\ntopic read platone/v1/#\n\n\
			 pattern write platone/v1/+/+/%u\n",
		)
		.expect("write ACL");
		let p = |f: &str| pki.join(f).display().to_string();
		let listener = format!(
			"listener {port} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n\
			 require_certificate true\nuse_identity_as_username true\nallow_anonymous false\n\
			 acl_file {}\nuser root\n",
			p("ca.pem"),
			p("broker.pem"),
			p("broker.key"),
			acl.display()
		);
		Self::start_with(dir, port, &listener)
	}

	/// Plain TCP, anonymous, and without a packet size limit: a broker configured by someone
	/// else, for ingest's own refusal of oversized messages.
	pub fn start_unlimited(dir: &Path) -> Mosquitto {
		let port = free_port();
		Self::start_conf(
			dir,
			port,
			&format!("listener {port} 127.0.0.1\nallow_anonymous true\n{LOSSLESS}"),
		)
	}

	fn start_with(dir: &Path, port: u16, listener: &str) -> Mosquitto {
		Self::start_conf(
			dir,
			port,
			&format!("{listener}{LOSSLESS}max_packet_size {MAX_PACKET_SIZE}\n"),
		)
	}

	fn start_conf(dir: &Path, port: u16, conf_text: &str) -> Mosquitto {
		let conf = dir.join("mosquitto.conf");
		std::fs::write(&conf, conf_text).expect("write mosquitto.conf");
		let bin = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
			.into_iter()
			.map(PathBuf::from)
			.find(|p| p.exists())
			.expect("mosquitto installed (scripts/setup.sh)");
		let service = Service::start(
			bin,
			&["-c".into(), conf.display().to_string()],
			dir.join("mosquitto.log"),
		);
		wait_for("mosquitto to listen", Duration::from_secs(10), || {
			std::net::TcpStream::connect(("127.0.0.1", port)).ok()
		});
		Mosquitto { port, service }
	}
}
