//! Device simulator: PMUs publishing synchrophasor samples at their reporting rate (50 per
//! second by default, aligned to the wall clock as GPS-disciplined PMUs are) and smart meters
//! publishing 15-minute IEC 61968-9 MeterReadings, each on its own topic. For the main job,
//! tests and benchmarks.

use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS, Transport};
use tracing::{info, warn};

use crate::{mqtt::TlsFiles, now_us, payload::Topic, Error, Kind};

#[derive(Clone, Debug)]
pub struct Config {
	pub host: String,
	pub port: u16,
	pub gateway: String,
	pub client_id: String,
	pub tls: Option<TlsFiles>,
	/// PMUs `pmu-001`… (numbered from `first_pmu`).
	pub pmus: u32,
	pub first_pmu: u32,
	/// Samples per second per PMU.
	pub rate_hz: u32,
	/// Meters `meter-001`…; each publishes the last closed 15-minute interval at start and
	/// then at every interval end.
	pub meters: u32,
	/// Stop after this long (run until shut down if `None`).
	pub duration: Option<Duration>,
}

impl Config {
	pub fn new(host: impl Into<String>, port: u16, gateway: impl Into<String>) -> Self {
		let gateway = gateway.into();
		Config {
			host: host.into(),
			port,
			client_id: format!("platone-sim-{gateway}"),
			gateway,
			tls: None,
			pmus: 10,
			first_pmu: 1,
			rate_hz: 50,
			meters: 4,
			duration: None,
		}
	}
}

/// A small deterministic noise source (xorshift64*): no dependency for a simulator.
struct Noise(u64);

impl Noise {
	/// Uniform in [-1, 1).
	fn next(&mut self) -> f64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
		(x as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
	}
}

/// One PMU sample as JSON: 230 V phases 120° apart, currents lagging by a load angle, grid
/// frequency wandering slowly around 50 Hz.
pub fn pmu_sample(ts_us: u64, seq: u32, device: u32, noise: &mut impl FnMut() -> f64) -> String {
	let t = ts_us as f64 / 1e6;
	let freq = 50.0 + 0.02 * (t / 30.0 + f64::from(device)).sin() + 0.001 * noise();
	let rocof = 0.02 / 30.0 * (t / 30.0 + f64::from(device)).cos();
	let base = (t * 2.0 * std::f64::consts::PI * (freq - 50.0))
		.rem_euclid(2.0 * std::f64::consts::PI)
		- std::f64::consts::PI;
	let mut phases = String::new();
	for k in 0..3 {
		let ang = base - f64::from(k) * 2.0 * std::f64::consts::PI / 3.0;
		let ang = (ang + std::f64::consts::PI).rem_euclid(2.0 * std::f64::consts::PI)
			- std::f64::consts::PI;
		let v = 230.0 + 2.0 * noise();
		let i = 40.0 + 5.0 * (f64::from(device) + t / 60.0).sin().abs() + 0.2 * noise();
		if k > 0 {
			phases.push(',');
		}
		phases.push_str(&format!(
			"{{\"v\":{v:.3},\"v_ang\":{ang:.6},\"i\":{i:.3},\"i_ang\":{:.6}}}",
			ang - 0.2
		));
	}
	format!(
		"{{\"ts_us\":{ts_us},\"seq\":{seq},\"freq_hz\":{freq:.5},\"rocof_hz_s\":{rocof:.5},\"phases\":[{phases}]}}"
	)
}

/// A head-end's MeterReadings message (IEC 61968-100 `EventMessage`, IEC 61968-9 payload) for
/// one meter and one 15-minute interval of imported and exported energy (kWh).
pub fn meter_readings(
	meter: &str,
	interval_end_us: u64,
	import_kwh: f64,
	export_kwh: f64,
) -> String {
	meter_document(
		&format!("sim-{meter}-{interval_end_us}"),
		&[(meter, &[(interval_end_us, import_kwh, export_kwh)])],
	)
}

/// CIM `ReadingType` codes of 15-minute imported and exported active energy, in kWh.
pub const IMPORT_15_MIN_KWH: &str = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0";
pub const EXPORT_15_MIN_KWH: &str = "0.0.2.4.19.1.12.0.0.0.0.0.0.0.0.3.72.0";

/// A MeterReadings message with message id `message_id` and, per meter, its intervals (end
/// in Unix µs, imported and exported kWh), times in UTC.
pub fn meter_document(message_id: &str, meters: &[(&str, &[(u64, f64, f64)])]) -> String {
	let time = |us: u64| {
		chrono::DateTime::from_timestamp_micros(us as i64)
			.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
			.unwrap_or_default()
	};
	let mut body = String::new();
	for (meter, intervals) in meters {
		body.push_str("<m:MeterReading>");
		for (code, pick) in [(IMPORT_15_MIN_KWH, 0), (EXPORT_15_MIN_KWH, 1)] {
			body.push_str("<m:IntervalBlocks>");
			for (end, import, export) in intervals.iter() {
				let kwh = if pick == 0 { import } else { export };
				body.push_str(&format!(
					"<m:IntervalReadings><m:timeStamp>{}</m:timeStamp><m:value>{kwh:.3}</m:value></m:IntervalReadings>",
					time(*end)
				));
			}
			body.push_str(&format!(
				"<m:ReadingType ref=\"{code}\"/></m:IntervalBlocks>"
			));
		}
		body.push_str(&format!(
			"<m:Meter><m:mRID>{meter}</m:mRID></m:Meter></m:MeterReading>"
		));
	}
	format!(
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
		 <msg:EventMessage xmlns:msg=\"http://iec.ch/TC57/2011/schema/message\" \
		 xmlns:m=\"http://iec.ch/TC57/2011/MeterReadings#\">\
		 <msg:Header><msg:Verb>created</msg:Verb><msg:Noun>MeterReadings</msg:Noun>\
		 <msg:Source>platone-sim</msg:Source><msg:MessageID>{message_id}</msg:MessageID></msg:Header>\
		 <msg:Payload><m:MeterReadings>{body}</m:MeterReadings></msg:Payload></msg:EventMessage>"
	)
}

/// Publishes until `duration` elapses or `shutdown` resolves; returns the samples published.
pub async fn run(
	config: Config,
	shutdown: impl std::future::Future<Output = ()>,
) -> Result<u64, Error> {
	let mut options = MqttOptions::new(&config.client_id, &config.host, config.port);
	options.set_keep_alive(Duration::from_secs(30));
	options.set_inflight(1_000);
	if let Some(tls) = &config.tls {
		let read = |p: &std::path::Path| {
			std::fs::read(p).map_err(|e| Error::Tls(format!("{}: {e}", p.display())))
		};
		options.set_transport(Transport::tls(
			read(&tls.ca)?,
			Some((read(&tls.cert)?, read(&tls.key)?)),
			None,
		));
	}
	let per_tick = config.pmus as usize + config.meters as usize;
	let (client, mut eventloop) = AsyncClient::new(options, per_tick.max(1) * 4 + 64);
	let driver = tokio::spawn(async move {
		loop {
			match eventloop.poll().await {
				Ok(Event::Incoming(Packet::ConnAck(_))) => info!("simulator connected"),
				Ok(_) => {}
				Err(e) => {
					warn!("simulator connection: {e}");
					tokio::time::sleep(Duration::from_millis(500)).await;
				}
			}
		}
	});

	let period_us = 1_000_000 / u64::from(config.rate_hz.max(1));
	let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
	let mut rand = || noise.next();
	let started = tokio::time::Instant::now();
	let mut published = 0u64;
	let mut seq = 0u32;
	let mut last_meter_interval = 0u64;
	let mut shutdown = std::pin::pin!(shutdown);
	// Wall-clock aligned ticks, so sample times are exact multiples of the period.
	let mut next_us = now_us().div_ceil(period_us) * period_us;
	loop {
		if config.duration.is_some_and(|d| started.elapsed() >= d) {
			break;
		}
		let wait = Duration::from_micros(next_us.saturating_sub(now_us()));
		tokio::select! {
			() = tokio::time::sleep(wait) => {},
			() = &mut shutdown => break,
		}
		for i in 0..config.pmus {
			let device = config.first_pmu + i;
			let topic = Topic::format(&config.gateway, Kind::Pmu, &format!("pmu-{device:03}"));
			let body = pmu_sample(next_us, seq, device, &mut rand);
			client.publish(topic, QoS::AtLeastOnce, false, body).await?;
			published += 1;
		}
		let interval = next_us / 900_000_000 * 900_000_000;
		if config.meters > 0 && interval != last_meter_interval {
			last_meter_interval = interval;
			for m in 1..=config.meters {
				let name = format!("meter-{m:03}");
				let import = 2.0 + f64::from(m) * 0.5 + rand().abs();
				let export = (rand() * 0.5).max(0.0);
				let topic = Topic::format(&config.gateway, Kind::Meter, &name);
				client
					.publish(
						topic,
						QoS::AtLeastOnce,
						false,
						meter_readings(&name, interval, import, export),
					)
					.await?;
				published += 1;
			}
		}
		seq = seq.wrapping_add(1);
		next_us += period_us;
	}
	// Give in-flight publishes a moment to be acknowledged by the broker.
	tokio::time::sleep(Duration::from_millis(500)).await;
	let _ = client.disconnect().await;
	tokio::time::sleep(Duration::from_millis(100)).await;
	driver.abort();
	Ok(published)
}
