//! No input makes the run fail as a whole: 300 deterministic corruptions of a valid model
//! (bit flips, truncations, splices) each end as either a measured model or an error record.

use hiddencost::counters::parse_events;
use hiddencost::model::ModelSource;
use hiddencost::session::{self, Job};
use hiddencost::settings::Settings;
use hiddencost::sink::Sink;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn mutants(seed_bytes: &[u8], count: usize) -> Vec<Vec<u8>> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|i| {
            let mut b = seed_bytes.to_vec();
            match i % 3 {
                0 => {
                    for _ in 0..1 + next() % 8 {
                        let at = (next() as usize) % b.len();
                        b[at] ^= 1 << (next() % 8);
                    }
                }
                1 => b.truncate((next() as usize) % b.len()),
                _ => {
                    let at = (next() as usize) % b.len();
                    let len = ((next() as usize) % 64).min(b.len() - at);
                    let junk: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                    b.splice(at..at + len, junk);
                }
            }
            b
        })
        .collect()
}

#[test]
fn every_corrupted_model_ends_as_a_model_or_an_error_record() {
    let original =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/models/tiny_cnn.onnx")).unwrap();
    let jobs: Vec<Job> = mutants(&original, 300)
        .into_iter()
        .enumerate()
        .map(|(i, bytes)| Job {
            source: ModelSource::Bytes {
                name: format!("mutant{i}"),
                source: format!("mutant{i}"),
                bytes: Arc::new(bytes),
            },
            metadata: Ok(Default::default()),
        })
        .collect();
    let n = jobs.len();
    let settings = Settings {
        warmup: 0,
        runs: 1,
        events: parse_events("").unwrap(),
        fake_counters: true,
        // The machine's figures do not matter here: 300 models in one run are.
        probe_budget: None,
        ..Settings::default()
    };
    let buf = Shared::default();
    let mut sink = Sink::from_writer(Box::new(buf.clone()), "memory");
    // Silence the default panic hook: panics inside tract are expected to be caught.
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = session::bench(&settings, jobs, &[], &mut sink, &mut session::Quiet).unwrap();
    let _ = std::panic::take_hook();
    assert_eq!(outcome.models.len() + outcome.errors.len(), n);
    assert!(!outcome.errors.is_empty(), "corruptions must be detected");
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "end");
    assert_eq!(
        last["models_failed"].as_u64().unwrap() as usize,
        outcome.errors.len()
    );
    for e in &outcome.errors {
        assert!(!e.message.contains('\n'), "one-line errors: {}", e.message);
    }
}
