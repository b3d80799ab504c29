//! The report's section headings, in order: the report builds its sections under them and
//! the findings link to them (report.md and report.html share the anchors, see
//! [`super::doc::anchor`]).

pub const H_FINDINGS: &str = "Findings";
pub const H_DEVICES: &str = "Devices";
pub const H_ROOFS: &str = "Machine roofs";
pub const H_MODELS: &str = "1. Models";
pub const H_WARNINGS: &str = "Measurement warnings";
pub const H_SHARES: &str = "2. Where the time goes";
pub const H_WHY: &str = "3. Why: the machine's roofs and the time above them";
pub const H_FIG2: &str = "4. Figure 2: do size and MACs predict time?";
pub const H_FIT: &str = "5. Latency models against MACs alone, on models they never saw";
pub const H_RQ4: &str = "6. Design choices at equal MACs (RQ4)";
pub const H_TRACES: &str = "7. Traces";
pub const H_DEVICES_COMPARED: &str = "8. Devices compared";
pub const H_SKIPPED: &str = "Skipped";
