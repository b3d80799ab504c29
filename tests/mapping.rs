//! Every executed op maps back to the source ONNX node it came from, including the nodes tract
//! names `SOURCE-suffix` rather than `SOURCE.suffix` (`normalize.onnx`: F.normalize's Div by a
//! computed norm becomes `/Div-recip` and a Mul).

mod common;
use common::*;
use serde_json::Value;

fn ops(fixture: &str, level: &str) -> Vec<Value> {
    let recs = bench_once(&[&model(fixture), "--optimize", level]);
    of_type(&recs, "op").into_iter().cloned().collect()
}

#[test]
fn a_dash_suffixed_reciprocal_maps_to_its_div() {
    for level in ["full", "declutter"] {
        let ops = ops("normalize.onnx", level);
        let recip = ops.iter().find(|o| o["node"] == "/Div-recip").unwrap();
        assert_eq!(recip["op"], "Recip", "{level}");
        assert_eq!(recip["source_node"], "/Div", "{level}");
        assert_eq!(recip["source_op"], "Div", "{level}");
    }
}

#[test]
fn every_op_of_every_fixture_has_a_source_node() {
    for fixture in MAPPED_FIXTURES {
        for level in ["full", "declutter", "none"] {
            for o in ops(fixture, level) {
                assert!(
                    o["source_node"].is_string(),
                    "{fixture} {level}: {} ({})",
                    o["node"],
                    o["op"]
                );
            }
        }
    }
}
