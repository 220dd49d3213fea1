//! Bad input never crashes ingest and always ends in a dead letter with the right reason; good
//! input becomes canonical records (FR-BAP-DM-01, S-BAP-01).

use platone_ingest::{mqtt::process, sim, DataServer, Directory, Limits, Sender};
use platone_primitives::Reading;
use platone_scd::Reason;

const NOW_US: u64 = 1_764_064_800_000_000; // 2025-11-25T10:00:00Z

fn run(topic: &str, payload: &[u8]) -> (Vec<platone_scd::Measurement>, Vec<Reason>) {
	// Over MQTT the broker's ACL makes the topic's device segment the sender's identity.
	run_as(Sender::Topic, topic, payload)
}

fn run_as(
	sender: Sender<'_>,
	topic: &str,
	payload: &[u8],
) -> (Vec<platone_scd::Measurement>, Vec<Reason>) {
	let directory = Directory::development(10, 4).with_data_servers([DataServer {
		name: "head-end".into(),
		meters: vec!["meter-001".into(), "meter-002".into()],
	}]);
	let limits = Limits {
		now_us: NOW_US,
		max_future_us: 60_000_000,
	};
	let (mut out, mut dead) = (Vec::new(), Vec::new());
	process(
		topic,
		sender,
		payload,
		&directory,
		&limits,
		NOW_US / 1000,
		&mut out,
		&mut dead,
	);
	for d in &dead {
		assert_eq!(
			d.payload, payload,
			"a dead letter keeps the payload as received"
		);
		assert_eq!(d.source, topic);
	}
	(out, dead.into_iter().map(|d| d.reason).collect())
}

const PMU: &str = "platone/v1/charlie/pmu/pmu-001";

fn pmu_json(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
	let mut noise = || 0.0;
	let mut v: serde_json::Value =
		serde_json::from_str(&sim::pmu_sample(NOW_US - 20_000, 7, 1, &mut noise)).unwrap();
	edit(&mut v);
	serde_json::to_vec(&v).unwrap()
}

#[test]
fn simulated_pmu_and_meter_payloads_are_accepted() {
	let (out, dead) = run(PMU, &pmu_json(|_| {}));
	assert!(dead.is_empty(), "{dead:?}");
	assert_eq!(out.len(), 1);
	let record = out[0].decode().unwrap();
	assert_eq!(
		(record.dataset, record.sequence, record.timestamp_us),
		(1, 7, NOW_US - 20_000)
	);
	let Reading::Pmu(sample) = record.reading else {
		panic!("a PMU reading")
	};
	assert!((49_900..50_100).contains(&sample.frequency_mhz));
	assert!((225_000..235_000).contains(&sample.phases[0].voltage_mv));
	// 180 s windows by default.
	assert_eq!(out[0].window_start_ms % 180_000, 0);

	let doc = sim::meter_readings("meter-002", NOW_US - 900_000_000, 2.5, 0.25);
	let (out, dead) = run("platone/v1/charlie/meter/meter-002", doc.as_bytes());
	assert!(dead.is_empty(), "{dead:?}");
	// One record per reading type: imported and exported energy of the interval.
	let reads: Vec<_> = out
		.iter()
		.map(|m| match m.decode().unwrap().reading {
			Reading::MeterRead(r) => (r.quantity, r.accumulation, r.value, r.quality),
			other => panic!("a meter read, not {other:?}"),
		})
		.collect();
	use platone_primitives::{Accumulation::Delta, EnergyQuantity::*, ReadingQuality::Valid};
	assert_eq!(
		reads,
		vec![
			(ActiveImportWh, Delta { interval_s: 900 }, 2_500, Valid),
			(ActiveExportWh, Delta { interval_s: 900 }, 250, Valid),
		]
	);
	assert!(out.iter().all(|m| m.dataset == 12));

	let sensor =
		br#"{"ts_us": 1764064790000000, "quantity": "temperature_milli_c", "value": 21500}"#;
	let (out, dead) = run("platone/v1/charlie/sensor/pmu-001", sensor);
	assert_eq!(
		dead,
		vec![Reason::UnknownDevice],
		"a PMU's name under another kind is unknown"
	);
	assert!(out.is_empty());
}

/// Issue #12: no device speaks for another. A meter sends its own readings, a configured data
/// server those of its meters, and nothing else gets in, whatever the payload's mRIDs say.
#[test]
fn a_sender_speaks_only_for_itself_or_the_meters_it_serves() {
	let doc = |mrid: &str| sim::meter_readings(mrid, NOW_US - 900_000_000, 1.0, 0.0).into_bytes();
	let meter_topic = |device: &str| format!("platone/v1/charlie/meter/{device}");
	// A meter for itself.
	let (out, dead) = run(&meter_topic("meter-003"), &doc("meter-003"));
	assert_eq!((out.len(), dead), (2, vec![]));
	// A meter for another meter, and a PMU publishing under `meter/<its name>`.
	for device in ["meter-003", "pmu-001"] {
		let (out, dead) = run(&meter_topic(device), &doc("meter-001"));
		assert!(out.is_empty(), "{device} spoke for meter-001");
		assert_eq!(dead, vec![Reason::Forbidden]);
	}
	// A data server for its meters, each meter on its own: meter-004 is not one of them.
	let interval = [(NOW_US - 900_000_000, 1.0, 0.0)];
	let both = sim::meter_document("m-1", &[("meter-002", &interval), ("meter-004", &interval)]);
	let (out, dead) = run(&meter_topic("head-end"), both.as_bytes());
	assert_eq!(out.len(), 2);
	assert!(out.iter().all(|m| m.dataset == 12));
	assert_eq!(dead, vec![Reason::Forbidden]);
	// A data server may not speak for PMUs, nor a PMU for another PMU (over HTTP, where the
	// identity comes from the token, not the path).
	let pmu = pmu_json(|_| {});
	let (out, dead) = run_as(Sender::Identity("head-end"), PMU, &pmu);
	assert_eq!((out.len(), dead), (0, vec![Reason::Forbidden]));
	let (out, dead) = run_as(Sender::Identity("pmu-002"), PMU, &pmu);
	assert_eq!((out.len(), dead), (0, vec![Reason::Forbidden]));
	let (out, dead) = run_as(Sender::Identity("pmu-001"), PMU, &pmu);
	assert_eq!((out.len(), dead), (1, vec![]));
	// The local operator (loopback HTTP without authentication, development) is trusted.
	let (out, dead) = run_as(Sender::Local, &meter_topic("batch"), &doc("meter-004"));
	assert_eq!((out.len(), dead), (2, vec![]));
}

#[test]
fn a_corpus_of_bad_payloads_ends_in_dead_letters_with_reasons() {
	use Reason::*;
	let corpus: Vec<(&str, Vec<u8>, Reason)> = vec![
		(PMU, b"{not json".to_vec(), Malformed),
		(PMU, b"".to_vec(), Malformed),
		(PMU, vec![0xff, 0xfe, 0x00], Malformed),
		(PMU, b"[]".to_vec(), Malformed),
		(PMU, b"42".to_vec(), Malformed),
		(
			PMU,
			pmu_json(|v| v["phases"] = serde_json::json!([])),
			Malformed,
		),
		(
			PMU,
			pmu_json(|v| v["freq_hz"] = serde_json::json!("fast")),
			Malformed,
		),
		(
			PMU,
			pmu_json(|v| {
				v.as_object_mut().unwrap().remove("ts_us");
			}),
			Malformed,
		),
		(
			PMU,
			pmu_json(|v| v["freq_hz"] = serde_json::json!("NaN")),
			NotANumber,
		),
		(
			PMU,
			pmu_json(|v| v["rocof_hz_s"] = serde_json::json!("inf")),
			NotANumber,
		),
		(
			PMU,
			pmu_json(|v| v["freq_hz"] = serde_json::json!(5000.0)),
			OutOfRange,
		),
		(
			PMU,
			pmu_json(|v| v["phases"][1]["v"] = serde_json::json!(-1.0)),
			OutOfRange,
		),
		(
			PMU,
			pmu_json(|v| v["phases"][2]["i_ang"] = serde_json::json!(99.0)),
			OutOfRange,
		),
		(
			PMU,
			pmu_json(|v| v["seq"] = serde_json::json!(1u64 << 40)),
			OutOfRange,
		),
		(
			PMU,
			pmu_json(|v| v["ts_us"] = serde_json::json!(NOW_US + 3_600_000_000)),
			FarFuture,
		),
		// A PMU whose clock reset to 1970 (issue #12), and data older than the chain's
		// lateness bound allows to certify: refused, with a reason of their own.
		(
			PMU,
			pmu_json(|v| v["ts_us"] = serde_json::json!(5_000_000u64)),
			TooOld,
		),
		(
			PMU,
			pmu_json(|v| v["ts_us"] = serde_json::json!(NOW_US - 6 * 86_400_000_000 - 1_000)),
			TooOld,
		),
		(
			"platone/v1/charlie/pmu/pmu-999",
			pmu_json(|_| {}),
			UnknownDevice,
		),
		(
			"platone/v1/charlie/pmu/meter-001",
			pmu_json(|_| {}),
			UnknownDevice,
		),
		(
			"platone/v1/charlie/toaster/pmu-001",
			pmu_json(|_| {}),
			Malformed,
		),
		("somewhere/else", pmu_json(|_| {}), Malformed),
		(
			"platone/v1/charlie/meter/meter-001",
			sim::meter_readings("meter-404", NOW_US, 1.0, 0.0).into_bytes(),
			UnknownDevice,
		),
		(
			"platone/v1/charlie/meter/meter-001",
			// Not energy (measurement kind 37): each reading refused.
			sim::meter_readings("meter-001", NOW_US, 1.0, 0.0)
				.replace(".12.0.0.0.0.0.0.0.0.3.72.0", ".37.0.0.0.0.0.0.0.0.3.72.0")
				.into_bytes(),
			Malformed,
		),
		(
			"platone/v1/charlie/meter/meter-001",
			sim::meter_readings("meter-001", NOW_US, -1.0, -0.5).into_bytes(),
			OutOfRange,
		),
		(
			"platone/v1/charlie/meter/meter-001",
			br#"{"MeterReadings": []}"#.to_vec(),
			Malformed,
		),
		(
			"platone/v1/charlie/meter/meter-001",
			sim::meter_readings("meter-001", NOW_US, 1.0, 0.0)
				.replace(
					"<msg:Verb>created</msg:Verb>",
					"<msg:Verb>delete</msg:Verb>",
				)
				.into_bytes(),
			Malformed,
		),
		(
			"platone/v1/charlie/meter/meter-001",
			b"<MeterReadings></MeterReadings>".to_vec(),
			Malformed,
		),
	];
	for (topic, payload, reason) in corpus {
		let (out, dead) = run(topic, &payload);
		assert!(
			out.is_empty(),
			"{topic} {:?} stored something",
			String::from_utf8_lossy(&payload)
		);
		// A document is judged reading by reading: one dead letter each, all for this reason.
		assert!(
			!dead.is_empty() && dead.iter().all(|r| *r == reason),
			"{topic} {:?}: {dead:?}, not {reason:?}",
			String::from_utf8_lossy(&payload)
		);
	}
}
