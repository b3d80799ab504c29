//! hiddencost: benchmark ONNX models operator by operator with hardware counters, and show why
//! MAC counts fail to predict latency on embedded boards. See ARCHITECTURE.md for the map.

pub mod record;
pub mod zoo;
