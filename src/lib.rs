//! hiddencost: benchmark ONNX models operator by operator with hardware counters, and show why
//! MAC counts fail to predict latency on embedded boards. See ARCHITECTURE.md for the map.

pub mod budget;
pub mod cli;
pub mod context;
pub mod cost;
pub mod counters;
pub mod init;
pub mod model;
pub mod noise;
pub mod probe;
pub mod rewrite;
pub mod runner;
pub mod session;
pub mod settings;
pub mod sink;
pub mod stats;
pub mod study;
pub mod summary;
pub mod sweep;
pub mod timer;
pub mod zoo;

#[cfg(feature = "analyze")]
pub use hiddencost_analyze as analyze;
pub use hiddencost_record as record;
pub use hiddencost_record::{table, units};
