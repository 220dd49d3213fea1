//! Times the clearing of a market file, for `scripts/bench-clearing.sh`, which solves the same
//! file with HiGHS (issue #13: clearing time against HiGHS, as a ratio, in one run).
//!
//!   clear_file generate OFFERS REQUESTS SLOTS > market.json   # the benchmarks' synthetic session
//!   clear_file time market.json [RUNS]                        # best of RUNS, objectives as JSON

use std::time::Instant;

#[path = "../benches/synthetic/mod.rs"]
mod synthetic;

fn arg<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> T {
	args.get(i)
		.and_then(|a| a.parse().ok())
		.unwrap_or_else(|| panic!("{what} expected as argument {i}"))
}

fn main() {
	let args: Vec<String> = std::env::args().collect();
	match args.get(1).map(String::as_str) {
		Some("generate") => {
			let m = synthetic::session(
				arg(&args, 2, "offers"),
				arg(&args, 3, "requests"),
				arg(&args, 4, "slots"),
			);
			println!("{}", serde_json::to_string(&m).expect("JSON"));
		}
		Some("time") => {
			let text = std::fs::read_to_string(&args[2]).expect("the market file");
			let market: platone_clearing::Market = serde_json::from_str(&text).expect("a market");
			let runs: u32 = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(3);
			let mut best = f64::INFINITY;
			let mut outcome = None;
			for _ in 0..runs {
				let start = Instant::now();
				let o = platone_clearing::clear(&market).expect("clears");
				best = best.min(start.elapsed().as_secs_f64());
				outcome = Some(o);
			}
			let outcome = outcome.expect("at least one run");
			println!(
				"{}",
				serde_json::json!({
					"seconds": best,
					"awards": outcome.awards.len(),
					"objectives": outcome.objectives,
				})
			);
		}
		_ => {
			eprintln!("usage: clear_file generate OFFERS REQUESTS SLOTS | time FILE [RUNS]");
			std::process::exit(2);
		}
	}
}
