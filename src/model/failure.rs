//! tract's failures in the model's terms. tract names the nodes it derives from an ONNX node
//! `NAME.suffix` (Clip's `NAME.low`, Softplus's `NAME.exp`; see [`crate::cost::source_for`])
//! and words its errors after its own rules ("Impossible to unify", "does not support Bool").
//! A failure that names a node becomes a [`NodeFailure`]: the ONNX node and its op type, the
//! kind of problem in ONNX's words (types, shapes), and what to do. tract's own text goes to
//! the debug log.

use crate::cost::{SourceNode, source_for};
use std::collections::HashMap;
use tract_onnx::pb;

/// When tract failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Shape and type inference of the ONNX graph.
    Inference,
    /// Translation to typed ops, optimization and planning.
    Preparing,
    Running,
}

impl Stage {
    fn during(self) -> &'static str {
        match self {
            Stage::Inference => "in shape inference",
            Stage::Preparing => "while tract prepares it to run",
            Stage::Running => "when run",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Stage::Inference => "infer the shapes of",
            Stage::Preparing => "prepare",
            Stage::Running => "run",
        }
    }
}

/// What tract's error says is wrong, in ONNX's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// The op cannot compute on values of this ONNX type (`bool`, `int64`).
    Type(&'static str),
    /// The op computes on floating-point values only, and an input is not.
    NotFloat,
    /// Two inputs that must share a type do not.
    Types(&'static str, &'static str),
    /// The inputs' shapes (`1x4`, `2x4`) do not fit together, or one input's shape does not
    /// fit the node's attributes.
    Shapes(Vec<String>),
    /// Anything else tract said.
    Other,
}

/// A failure of tract at one ONNX node of the model.
#[derive(Debug, thiserror::Error)]
#[error("node `{node}` ({op}) fails {}: {}", stage.during(), self.explained())]
pub struct NodeFailure {
    pub node: String,
    pub op: String,
    pub stage: Stage,
    pub why: Why,
}

impl NodeFailure {
    fn explained(&self) -> String {
        const CHECK: &str = "onnx.checker.check_model(model, full_check=True)";
        let op = &self.op;
        let invalid = match &self.why {
            Why::Type(t) => format!("{op} does not take {t} values"),
            Why::NotFloat => format!("{op} takes floating-point values only"),
            Why::Types(a, b) => format!("its inputs are of different types ({a} and {b})"),
            Why::Shapes(s) if s.len() == 1 => {
                format!("its input's shape ({}) does not fit its attributes", s[0])
            }
            Why::Shapes(s) => format!("its inputs' shapes ({}) do not fit together", s.join(", ")),
            Why::Other => {
                return format!(
                    "tract {} cannot {} this node; if {CHECK} finds nothing wrong with the \
                     model, export it with other operators for this node",
                    super::TRACT_VERSION,
                    self.stage.verb()
                );
            }
        };
        format!(
            "{invalid}; check the model with {CHECK}, which names what ONNX does not allow, \
             then fix the node or export the model again"
        )
    }
}

/// One ONNX node as a failure names it.
struct OnnxNode {
    name: String,
    op: String,
    /// Its inputs' shapes as far as they are known (`1x4`, `a scalar`, `unknown`).
    input_shapes: Vec<String>,
}

/// The ONNX nodes of a model, with their op types and input shapes.
pub struct OnnxNodes(Vec<OnnxNode>);

impl OnnxNodes {
    /// From the proto, with the input shapes `shapes` gives each node (by name).
    pub fn of_proto(proto: &pb::ModelProto, shapes: impl Fn(&str) -> Vec<String>) -> OnnxNodes {
        let graph = proto.graph.as_ref().map(|g| g.node.as_slice());
        let nodes = graph
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(ix, n)| {
                let name = super::sources::onnx_node_name(ix, n);
                OnnxNode {
                    input_shapes: shapes(&name),
                    op: n.op_type.clone(),
                    name,
                }
            })
            .collect();
        OnnxNodes(nodes)
    }

    pub fn of_sources(sources: &[SourceNode]) -> OnnxNodes {
        let nodes = sources
            .iter()
            .map(|s| OnnxNode {
                name: s.name.clone(),
                op: s.op_type.clone(),
                input_shapes: s.input_shapes.iter().map(|d| dims(d)).collect(),
            })
            .collect();
        OnnxNodes(nodes)
    }

    /// The ONNX node each tract node name comes from.
    fn finder<'s>(&'s self) -> impl Fn(&str) -> Option<&'s OnnxNode> + 's {
        let by_name: HashMap<&str, usize> = self
            .0
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.as_str(), i))
            .collect();
        move |tract_name| source_for(tract_name, &by_name).map(|i| &self.0[i])
    }

    /// `cause` as a failure at the first ONNX node it names (`None`: it names none).
    pub fn failure(&self, cause: &anyhow::Error, stage: Stage) -> Option<NodeFailure> {
        let text = format!("{cause:#}");
        let find = self.finder();
        let node = node_refs(&text).into_iter().find_map(|r| find(r.name))?;
        log::debug!("tract's error at node `{}`: {text}", node.name);
        let root = cause.root_cause().to_string();
        Some(NodeFailure {
            node: node.name.clone(),
            op: node.op.clone(),
            stage,
            why: why(&root, &node.input_shapes),
        })
    }

    /// `text` with each of tract's node references (`#11 "/Slice.stride-axis-1" Downsample`)
    /// replaced by the ONNX node's name and op (``node `/Slice` (Slice)``).
    pub fn rename(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let find = self.finder();
        for r in node_refs(text) {
            // A reference inside the previous one (`#1 "a" Op#2 "b" Op`) is left as is.
            let Some(node) = find(r.name).filter(|_| r.start >= at) else {
                continue;
            };
            // tract writes `node #3 "x" Op` and `#3 "x" Op`: one `node` either way.
            let start = if text[at..r.start].ends_with("node ") {
                r.start - "node ".len()
            } else {
                r.start
            };
            out.push_str(&text[at..start]);
            out.push_str(&format!("node `{}` ({})", node.name, node.op));
            at = r.end;
        }
        out.push_str(&text[at..]);
        out
    }
}

/// `1x4`; `a scalar` for no dims.
pub(super) fn dims(d: &[usize]) -> String {
    if d.is_empty() {
        return "a scalar".into();
    }
    d.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join("x")
}

/// One of tract's node references in a text: `#ID "NAME" OP`, as tract displays a node.
struct NodeRef<'a> {
    start: usize,
    end: usize,
    name: &'a str,
}

fn node_refs(text: &str) -> Vec<NodeRef<'_>> {
    let mut refs = Vec::new();
    for (start, _) in text.match_indices('#') {
        let rest = &text[start + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let Some(quoted) = rest[digits..].strip_prefix(" \"").filter(|_| digits > 0) else {
            continue;
        };
        let Some(close) = quoted.find('"') else {
            continue;
        };
        let name = &quoted[..close];
        // The op's name follows, up to the next space or `:`.
        let after = &quoted[close + 1..];
        let op_len = after
            .strip_prefix(' ')
            .map(|a| 1 + a.find([' ', ':', ',', ')']).unwrap_or(a.len()))
            .unwrap_or(0);
        let end = start + 1 + digits + 2 + close + 1 + op_len;
        refs.push(NodeRef { start, end, name });
    }
    refs
}

/// The ONNX name of one of tract's type names (`I64` -> `int64`).
pub(in crate::model) fn onnx_type(tract: &str) -> Option<&'static str> {
    Some(match tract {
        "Bool" => "bool",
        "U8" => "uint8",
        "U16" => "uint16",
        "U32" => "uint32",
        "U64" => "uint64",
        "I8" => "int8",
        "I16" => "int16",
        "I32" => "int32",
        "I64" | "TDim" => "int64",
        "F16" => "float16",
        "F32" => "float",
        "F64" => "double",
        "String" => "string",
        _ => return None,
    })
}

/// The ONNX types tract's text names, in order.
fn types_in(text: &str) -> Vec<&'static str> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter_map(onnx_type)
        .collect()
}

/// What tract's root cause `root` says, for a node whose inputs have the shapes `shapes`.
fn why(root: &str, shapes: &[String]) -> Why {
    const TYPE_WORDS: [&str; 5] = [
        "does not support",
        "is not float-like",
        "is not a number",
        "Unsupported datum type",
        "not implemented for",
    ];
    const SHAPE_WORDS: [&str; 4] = [
        "Output mismatch after rewiring",
        "Inconsistent matmul",
        "broadcast",
        "to be a multiple of",
    ];
    let types = types_in(root);
    if TYPE_WORDS.iter().any(|w| root.contains(w))
        && let Some(t) = types.first()
    {
        return Why::Type(t);
    }
    if root.contains("is_float()") {
        return Why::NotFloat;
    }
    let unify = root.contains("Impossible to unify") || root.contains("No super type");
    if unify && let [a, b, ..] = types[..] {
        return Why::Types(a, b);
    }
    if unify || SHAPE_WORDS.iter().any(|w| root.contains(w)) {
        return Why::Shapes(shapes.to_vec());
    }
    Why::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes() -> OnnxNodes {
        let node = |name: &str, op: &str, shapes: &[&str]| OnnxNode {
            name: name.into(),
            op: op.into(),
            input_shapes: shapes.iter().map(|s| s.to_string()).collect(),
        };
        OnnxNodes(vec![
            node("same", "Clip", &["1x4"]),
            node("/Slice", "Slice", &["1x8"]),
            node("/Reshape", "Reshape", &["1x8", "2"]),
        ])
    }

    #[test]
    fn an_internal_node_is_named_by_its_onnx_node() {
        let cause = anyhow::anyhow!("Max does not support Bool (eval in a)")
            .context("Evaluating #2 \"same.low\" Max");
        let f = nodes().failure(&cause, Stage::Running).unwrap();
        assert_eq!((f.node.as_str(), f.op.as_str()), ("same", "Clip"));
        assert_eq!(f.why, Why::Type("bool"));
        let text = f.to_string();
        assert!(text.starts_with("node `same` (Clip) fails when run: Clip does not take bool"));
        assert!(
            !text.contains("same.low") && !text.contains("Max"),
            "{text}"
        );
    }

    #[test]
    fn unify_is_said_as_types_or_shapes() {
        assert_eq!(
            why("Impossible to unify I64 with F32.", &[]),
            Why::Types("int64", "float")
        );
        let shapes = ["1x4".to_string(), "5x3".to_string()];
        assert_eq!(
            why("Impossible to unify Val(4) with Val(5).", &shapes),
            Why::Shapes(shapes.to_vec())
        );
        assert_eq!(why("something new", &shapes), Why::Other);
        assert_eq!(
            why(
                "Condition failed: `inputs[0].datum_type.is_float()`",
                &shapes
            ),
            Why::NotFloat
        );
        let one = NodeFailure {
            node: "d2s".into(),
            op: "DepthToSpace".into(),
            stage: Stage::Preparing,
            why: why("requires input depth to be a multiple of 9", &shapes[..1]),
        };
        assert!(
            one.to_string()
                .contains("its input's shape (1x4) does not fit its attributes"),
            "{one}"
        );
    }

    #[test]
    fn rename_replaces_every_reference_it_can_map() {
        let text = "declutter node #11 \"/Slice.stride-axis-1\" Downsample: Pulling #11 \
                    \"/Slice.stride-axis-1\" Downsample over #3 \"/Reshape.0\" Reshape: Invalid \
                    axis, at #4 \"other\" Add";
        assert_eq!(
            nodes().rename(text),
            "declutter node `/Slice` (Slice): Pulling node `/Slice` (Slice) over node \
             `/Reshape` (Reshape): Invalid axis, at #4 \"other\" Add"
        );
    }

    #[test]
    fn a_reference_inside_another_is_left_as_is() {
        // The first reference's op runs up to the next space, over the second's start.
        let text = "at #1 \"same\" Clip#2 \"same\" Clip";
        let renamed = nodes().rename(text);
        assert!(renamed.starts_with("at node `same` (Clip)"), "{renamed}");
    }

    #[test]
    fn a_text_without_a_known_node_is_no_failure() {
        let cause = anyhow::anyhow!("Evaluating #2 \"elsewhere\" Max: boom");
        assert!(nodes().failure(&cause, Stage::Running).is_none());
    }
}
