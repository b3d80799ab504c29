//! Why preflight refuses a model: one variant per check, each message one sentence (the
//! caller names the model). Dims are kept as their text (`1x3x8x8`), sizes in bytes.

use super::bytes_text;

/// A model refused before tract could panic on it or the process abort.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("initializer `{name}` has a negative dimension: {dims}")]
    NegativeDimension { name: String, dims: String },
    /// `what`: the tensor or node whose element count overflows.
    #[error("{what}: {dims} elements overflow a 64-bit count")]
    Overflow { what: String, dims: String },
    #[error("graph output `{0}` is produced by no node, input or initializer")]
    DanglingOutput(String),
    #[error("{at} names no output tensor: every ONNX node writes at least one")]
    NoOutputNames { at: String },
    #[error(
        "{at} reads `{through}`, which is computed from its own output: the graph has a cycle, \
         and an ONNX graph must have none (was it edited by hand?)"
    )]
    Cycle { at: String, through: String },
    #[error(
        "input `{input}` has {declared} dimension(s), --input-shape {given:?} gives {}: \
         give {declared}",
        given.len()
    )]
    InputRank {
        input: String,
        declared: usize,
        given: Vec<usize>,
    },
    /// `at`: ` at node `NAME`` where the shapes met, or empty.
    #[error(
        "--input-shape sets the first input `{first}` only, the others keep their own shapes \
         ({others}), and the shapes do not fit together{at}: give a first shape that fits \
         them, or export the model at the shapes you need"
    )]
    OtherInputs {
        first: String,
        others: String,
        at: String,
    },
    /// `at`: the node, as `node `NAME` (OP)`.
    #[error("{at} reads `{missing}`, which no node, input or initializer produces")]
    DanglingInput { at: String, missing: String },
    #[error("{at}: {why}")]
    Window { at: String, why: WindowAttribute },
    #[error("{at}: its input has {rank} dimension(s), it needs at least {least}")]
    Rank {
        at: String,
        rank: usize,
        least: usize,
    },
    #[error(
        "{at} reads `{input}`, of type {ty}, and {op} takes {takes} only: cast it first (a Cast \
         node before this one), or export the model again"
    )]
    InputType {
        at: String,
        op: &'static str,
        input: String,
        ty: &'static str,
        takes: Takes,
    },
    #[error("{at}: perm {perm:?} is not a permutation of the axes")]
    Permutation { at: String, perm: Vec<i64> },
    #[error("{at}: {what} {values:?}: every value must be at least 0")]
    NegativeValues {
        at: String,
        what: &'static str,
        values: Vec<i64>,
    },
    #[error(
        "{at} makes a tensor of {dims} ({}), more than the {} of memory available",
        bytes_text(*bytes),
        bytes_text(*available)
    )]
    ConstantTooLarge {
        at: String,
        dims: String,
        bytes: u64,
        available: u64,
    },
    #[error(
        "{at} makes a tensor of {dims} ({}) and needs {} with its inputs, more than the {} of \
         memory available",
        bytes_text(*bytes),
        bytes_text(*needed),
        bytes_text(*available)
    )]
    NodeTooLarge {
        at: String,
        dims: String,
        bytes: u64,
        needed: u64,
        available: u64,
    },
    #[error(
        "{at}: its kernel of {kernel} with dilation {dilation} spans {span} positions on axis \
         {axis}, more than its input's {padded} (padded): no output"
    )]
    NoOutput {
        at: String,
        kernel: i64,
        dilation: i64,
        span: i64,
        axis: usize,
        padded: i64,
    },
    #[error(
        "{at}: its {windows} windows of {kernel} over {outputs} outputs are {work:.1e} \
         multiply-accumulates or comparisons, more than {limit:.0e}, which no real model needs \
         (VGG16 at 224x224 is 1.5e10 MACs in all)"
    )]
    TooMuchWork {
        at: String,
        windows: usize,
        kernel: String,
        outputs: String,
        work: u64,
        limit: u64,
    },
    #[error(
        "{at}: group {group} x the weight's {per_group} channels per group need {needed} input \
         channels, and its input has {channels} input channels"
    )]
    GroupChannels {
        at: String,
        group: i64,
        per_group: i64,
        needed: i64,
        channels: i64,
    },
    #[error("tensor `{name}` holds {held} bytes, its dims {dims} need {needed}")]
    DataSize {
        name: String,
        held: usize,
        dims: String,
        needed: u64,
    },
    #[error("tensor `{name}` holds {held} values, its dims {dims} need {needed}")]
    DataCount {
        name: String,
        held: u64,
        dims: String,
        needed: u64,
    },
    #[error("tensor `{name}`: external data {why}")]
    External { name: String, why: ExternalData },
    #[error(
        "its external data is {}, more than the {} of memory available",
        bytes_text(*bytes),
        bytes_text(*available)
    )]
    ExternalTooLarge { bytes: u64, available: u64 },
    #[error("input `{name}` of shape {dims} is empty (a dimension of 0): nothing to measure")]
    EmptyInput { name: String, dims: String },
    #[error("--input-shape {shape:?} of `{input}` overflows a 64-bit element count")]
    InputShapeOverflow { shape: Vec<usize>, input: String },
    #[error("the model's folder {0} is not UTF-8, which tract needs to read external data")]
    FolderNotUtf8(String),
    #[error("inputs that nothing defines: {0}")]
    Unresolved(String),
}

/// What an op computes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    Numbers,
    FloatingPoint,
}

impl std::fmt::Display for Takes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Takes::Numbers => "numbers",
            Takes::FloatingPoint => "floating-point values",
        })
    }
}

/// A windowed op's attribute that no real model has.
#[derive(Debug, thiserror::Error)]
pub enum WindowAttribute {
    #[error("{name} {values:?}: every value must be at least {least}")]
    TooSmall {
        name: &'static str,
        values: Vec<i64>,
        least: i64,
    },
    #[error("group {0}: must be at least 1")]
    GroupBelowOne(i64),
    #[error("group {group} does not divide the weight's {out_channels} output channels")]
    GroupDivides { group: i64, out_channels: i64 },
    #[error("dilations {dilations:?}: a kernel of {kernel} spans more than 2^63")]
    Span { dilations: Vec<i64>, kernel: i64 },
}

/// What is wrong with a tensor's external data.
#[derive(Debug, thiserror::Error)]
pub enum ExternalData {
    #[error("needs the model's folder, and this model was built in memory")]
    NoFolder,
    #[error("without a location")]
    NoLocation,
    #[error("at `{0}`: refused, it must be a relative path inside the model's folder")]
    NotInside(String),
    #[error("at `{location}`: cannot read it: {cause}")]
    Unreadable {
        location: String,
        cause: std::io::Error,
    },
    #[error("at `{0}`: refused, a link takes it out of the model's folder")]
    LinkOutside(String),
    #[error("at `{location}` is {kind}, not a regular file")]
    NotRegular {
        location: String,
        kind: &'static str,
    },
    #[error("has a bad {key} `{value}`")]
    BadNumber { key: &'static str, value: String },
    #[error(
        "at `{location}`: offset {offset} and length {length} run past the file's {size} bytes"
    )]
    PastEnd {
        location: String,
        offset: u64,
        length: u64,
        size: u64,
    },
    #[error("at `{location}` holds {held} bytes, its dims {dims} need {needed}")]
    Size {
        location: String,
        held: u64,
        dims: String,
        needed: u64,
    },
}
