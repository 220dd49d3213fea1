//! Head-end data as utilities send it (issue #12; IEC 61968-9 MeterReadings, IEC 61968-100
//! EventMessage; P-BAP-02, T-BAP-02): documents written from the standards' schemas, through
//! ingest's validation and into a real SCD.

use std::sync::Arc;

use platone_ingest::{cim, mqtt::process, Directory, Limits, Sender};
use platone_primitives::{
	Accumulation, EnergyQuantity, MeasurementRecord, MeterRead, Reading, ReadingQuality,
};
use platone_scd::{Reason, SqliteStore, Store};

/// 2026-12-01T02:00:00Z.
const NOW_US: u64 = 1_796_090_400_000_000;

const LIMITS: Limits = Limits {
	now_us: NOW_US,
	max_future_us: 60_000_000,
};

/// A head-end's message: two meters, interval blocks and register reads, quality flags, local
/// times with an offset, and one reading type the SCD does not take.
const EVENT_MESSAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<msg:EventMessage xmlns:msg="http://iec.ch/TC57/2011/schema/message"
                  xmlns:m="http://iec.ch/TC57/2011/MeterReadings#">
  <msg:Header>
    <msg:Verb>created</msg:Verb>
    <msg:Noun>MeterReadings</msg:Noun>
    <msg:Timestamp>2026-12-01T09:55:00+08:00</msg:Timestamp>
    <msg:Source>HES-01</msg:Source>
    <msg:MessageID>5f2b7c1e-hes-01-000417</msg:MessageID>
  </msg:Header>
  <msg:Payload>
    <m:MeterReadings>
      <m:MeterReading>
        <m:IntervalBlocks>
          <m:IntervalReadings>
            <m:timeStamp>2026-12-01T09:30:00+08:00</m:timeStamp>
            <m:value>0.412</m:value>
          </m:IntervalReadings>
          <m:IntervalReadings>
            <m:ReadingQualities>
              <m:ReadingQualityType ref="1.8.0"/>
            </m:ReadingQualities>
            <m:timeStamp>2026-12-01T09:45:00+08:00</m:timeStamp>
            <m:value>0.4</m:value>
          </m:IntervalReadings>
          <m:ReadingType ref="0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"/>
        </m:IntervalBlocks>
        <m:Meter>
          <m:mRID>meter-001</m:mRID>
        </m:Meter>
        <m:Readings>
          <m:ReadingQualities>
            <m:ReadingQualityType ref="1.0.0"/>
          </m:ReadingQualities>
          <m:ReadingType ref="0.0.0.9.1.1.12.0.0.0.0.0.0.0.0.3.72.0"/>
          <m:timeStamp>2026-12-01T09:45:00+08:00</m:timeStamp>
          <m:value>12345.678</m:value>
        </m:Readings>
        <m:UsagePoint><m:mRID>UP-77</m:mRID></m:UsagePoint>
      </m:MeterReading>
      <m:MeterReading>
        <m:IntervalBlocks>
          <m:IntervalReadings>
            <m:ReadingQualities><m:ReadingQualityType ref="1.8.0"/></m:ReadingQualities>
            <m:ReadingQualities><m:ReadingQualityType ref="1.5.257"/></m:ReadingQualities>
            <m:timeStamp>2026-12-01T01:45:00Z</m:timeStamp>
            <m:value>120</m:value>
          </m:IntervalReadings>
          <m:ReadingType ref="0.0.2.4.19.1.12.0.0.0.0.0.0.0.0.0.72.0"/>
        </m:IntervalBlocks>
        <m:IntervalBlocks>
          <m:IntervalReadings>
            <m:timeStamp>2026-12-01T01:45:00Z</m:timeStamp>
            <m:value>231.2</m:value>
          </m:IntervalReadings>
          <m:ReadingType ref="0.0.2.6.0.1.54.0.0.0.0.0.0.0.0.0.29.0"/>
        </m:IntervalBlocks>
        <m:Meter><m:mRID>meter-002</m:mRID></m:Meter>
      </m:MeterReading>
    </m:MeterReadings>
  </msg:Payload>
</msg:EventMessage>"#;

/// The same interval of meter-001 a second time, bare (no envelope), with another reading type
/// (exported energy) and no prefix.
const SECOND_DOCUMENT: &str = r#"<MeterReadings xmlns="http://iec.ch/TC57/2011/MeterReadings#">
  <MeterReading>
    <Meter><mRID>meter-001</mRID></Meter>
    <IntervalBlocks>
      <ReadingType ref="0.0.2.4.19.1.12.0.0.0.0.0.0.0.0.3.72.0"/>
      <IntervalReadings><timeStamp>2026-12-01T01:30:00Z</timeStamp><value>0.000</value></IntervalReadings>
    </IntervalBlocks>
  </MeterReading>
</MeterReadings>"#;

fn run(payload: &str) -> (Vec<platone_scd::Measurement>, Vec<platone_scd::DeadLetter>) {
	let directory = Directory::development(10, 4);
	let (mut out, mut dead) = (Vec::new(), Vec::new());
	let _ = process(
		"platone/v1/http/meter/batch",
		Sender::Local,
		payload.as_bytes(),
		&directory,
		&LIMITS,
		NOW_US / 1_000,
		&mut out,
		&mut dead,
	);
	(out, dead)
}

fn read(record: &MeasurementRecord) -> MeterRead {
	match record.reading {
		Reading::MeterRead(r) => r,
		ref other => panic!("a meter read, not {other:?}"),
	}
}

#[test]
fn an_event_message_becomes_one_record_per_reading_with_its_quality() {
	let directory = Directory::development(10, 4);
	let doc = cim::parse(EVENT_MESSAGE.as_bytes(), &LIMITS, |mrid| {
		directory
			.lookup(platone_ingest::Kind::Meter, mrid)
			.map(|(d, _)| d)
			.ok_or_else(|| platone_ingest::Refusal::new(Reason::UnknownDevice, mrid))
	})
	.expect("a MeterReadings message");
	assert_eq!(doc.message_id.as_deref(), Some("5f2b7c1e-hes-01-000417"));
	assert_eq!(doc.source.as_deref(), Some("HES-01"));
	assert_eq!(doc.meters.len(), 2);

	let records = |i: usize| -> Vec<MeasurementRecord> {
		doc.meters[i]
			.readings
			.iter()
			.filter_map(|r| r.result.clone().ok())
			.collect()
	};
	let one = records(0);
	// 09:30+08:00 is 01:30Z.
	let t0 = NOW_US - 30 * 60_000_000;
	let t1 = NOW_US - 15 * 60_000_000;
	assert_eq!(
		one.iter()
			.map(|r| (r.dataset, r.timestamp_us, read(r)))
			.collect::<Vec<_>>(),
		vec![
			(
				11,
				t0,
				MeterRead {
					quantity: EnergyQuantity::ActiveImportWh,
					accumulation: Accumulation::Delta { interval_s: 900 },
					value: 412,
					quality: ReadingQuality::Valid,
				}
			),
			(
				11,
				t1,
				MeterRead {
					quantity: EnergyQuantity::ActiveImportWh,
					accumulation: Accumulation::Delta { interval_s: 900 },
					value: 400,
					quality: ReadingQuality::Estimated,
				}
			),
			// The register, exactly: 12,345.678 kWh.
			(
				11,
				t1,
				MeterRead {
					quantity: EnergyQuantity::ActiveImportWh,
					accumulation: Accumulation::Register,
					value: 12_345_678,
					quality: ReadingQuality::Valid,
				}
			),
		]
	);
	// Interval and register at one time are distinct measurements.
	assert_ne!(one[1].sequence, one[2].sequence);

	// meter-002: estimated and failing a reasonability check is suspect (worst flag wins), in
	// Wh (no multiplier); the voltage reading is refused on its own, and never becomes energy.
	let two = records(1);
	assert_eq!(two.len(), 1);
	assert_eq!(read(&two[0]).quality, ReadingQuality::Suspect);
	assert_eq!(read(&two[0]).value, 120);
	assert_eq!(read(&two[0]).quantity, EnergyQuantity::ActiveExportWh);
	let refused: Vec<_> = doc.meters[1]
		.readings
		.iter()
		.filter_map(|r| r.result.as_ref().err())
		.collect();
	assert_eq!(refused.len(), 1);
	assert_eq!(refused[0].reason, Reason::Malformed);
	assert!(
		refused[0].detail.contains("not energy"),
		"{}",
		refused[0].detail
	);
}

#[tokio::test]
async fn another_reading_type_for_a_stored_interval_is_added_not_a_conflict() {
	let dir = std::env::temp_dir().join(format!("platone-cim-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	std::fs::create_dir_all(&dir).unwrap();
	let store = Arc::new(SqliteStore::open(&dir.join("scd.sqlite")).await.unwrap());

	let (first, dead) = run(EVENT_MESSAGE);
	assert_eq!((first.len(), dead.len()), (4, 1));
	assert!(
		dead[0].detail.contains("5f2b7c1e-hes-01-000417"),
		"{}",
		dead[0].detail
	);
	let done = store.commit(&first, &dead).await.unwrap();
	assert_eq!(done.stored, 4);

	let (second, dead) = run(SECOND_DOCUMENT);
	assert!(dead.is_empty(), "{dead:?}");
	let done = store.commit(&second, &[]).await.unwrap();
	assert_eq!(
		(done.stored, done.conflicts),
		(1, 0),
		"exported energy joins the interval's imported energy"
	);
	// Its exported energy is 0 because the document says so; the first document's missing
	// export was never stored as 0.
	let window = store
		.window(11, second[0].cert_window_start_ms)
		.await
		.unwrap();
	let exports: Vec<_> = window
		.iter()
		.map(|m| read(&m.decode().unwrap()))
		.filter(|r| r.quantity == EnergyQuantity::ActiveExportWh)
		.collect();
	assert_eq!(exports.len(), 1);
	assert_eq!(exports[0].value, 0);

	// The same document again: duplicates only.
	let done = store.commit(&second, &[]).await.unwrap();
	assert_eq!((done.stored, done.duplicates), (0, 1));
	std::fs::remove_dir_all(dir).ok();
}

#[test]
fn documents_that_are_not_readings_to_add_are_refused_whole() {
	for (doc, why) in [
		("not xml at all", "not MeterReadings XML"),
		(
			&EVENT_MESSAGE.replace("<msg:Noun>MeterReadings", "<msg:Noun>EndDeviceEvents"),
			"noun",
		),
		(
			&EVENT_MESSAGE.replace("<msg:Verb>created", "<msg:Verb>canceled"),
			"verb",
		),
		("<MeterReadings/>", "no MeterReading"),
	] {
		let (out, dead) = run(doc);
		assert!(out.is_empty());
		assert_eq!(dead.len(), 1);
		assert_eq!(dead[0].reason, Reason::Malformed);
		assert!(dead[0].detail.contains(why), "{}", dead[0].detail);
	}
	// A block without a reading type: its readings are refused, never stored as some default.
	let untyped = SECOND_DOCUMENT.replace(
		r#"<ReadingType ref="0.0.2.4.19.1.12.0.0.0.0.0.0.0.0.3.72.0"/>"#,
		"",
	);
	let (out, dead) = run(&untyped);
	assert!(out.is_empty());
	assert!(dead[0].detail.contains("none given"), "{}", dead[0].detail);
}

#[test]
fn decimals_scale_exactly() {
	assert_eq!(cim::scaled("12345.678", 3).unwrap(), 12_345_678);
	assert_eq!(cim::scaled("0.4", 3).unwrap(), 400);
	assert_eq!(cim::scaled("7", 0).unwrap(), 7);
	assert_eq!(
		cim::scaled("1.2345", 3).unwrap(),
		1_235,
		"rounded half up past the Wh"
	);
	assert_eq!(cim::scaled("1.2344", 3).unwrap(), 1_234);
	for bad in [
		"",
		"-1",
		"1e3",
		"1.2.3",
		".5",
		"NaN",
		"18446744073709551616",
	] {
		assert!(cim::scaled(bad, 0).is_err(), "{bad:?}");
	}
}
