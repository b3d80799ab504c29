//! `hiddencost cost`: the static cost of each model's source nodes, as a table or as `node` and
//! `model_cost` records; for a model with operators tract cannot run, the nodes it can still
//! describe.

use super::CostArgs;
use super::common::say;
use crate::record::{ModelCostRecord, Record};
use crate::session;
use crate::sink::Sink;
use crate::summary;
use anyhow::Result;

pub(super) fn cost_cmd(args: CostArgs) -> Result<i32> {
    let mut failed = 0;
    let mut sink = Sink::from_writer(Box::new(std::io::stdout()), "stdout");
    let settings = args.model.settings();
    let input_shape = settings.input_shape.as_deref();
    for job in session::of_settings(&settings) {
        let loaded = match job.metadata {
            Err(e) => Err(anyhow::Error::from(e)),
            Ok(_) => crate::model::load_static(&job.source, input_shape).map_err(Into::into),
        };
        let (st, unknown) = match loaded {
            Ok(st) => (st, Vec::new()),
            Err(e) => {
                log::error!("{e}");
                failed += 1;
                // What tract can still describe of a model with operators it cannot run.
                let unsupported = e
                    .downcast_ref::<crate::model::ModelError>()
                    .is_some_and(|e| matches!(e, crate::model::ModelError::Unsupported { .. }));
                match unsupported
                    .then(|| crate::model::load_static_partial(&job.source, input_shape).ok())
                    .flatten()
                {
                    Some(p) => (p.model, p.unknown),
                    None => continue,
                }
            }
        };
        let known: Vec<_> = st
            .sources
            .iter()
            .filter(|s| !unknown.contains(&s.name))
            .cloned()
            .collect();
        let nodes = session::node_records(&st.name, &known);
        if args.json {
            for n in nodes {
                sink.write(&Record::Node(n))?;
            }
            // A partial total is no model's cost: the node lines alone are exact.
            if unknown.is_empty() {
                sink.write(&Record::ModelCost(model_cost(&st)))?;
            }
        } else {
            let t = st.totals;
            let int8 = if t.int8_macs > 0 {
                format!(" ({} on 8-bit integers)", t.int8_macs)
            } else {
                String::new()
            };
            let total = if unknown.is_empty() {
                "total".to_string()
            } else {
                format!(
                    "not costed (tract cannot run them, or they read what those compute): {}\n\
                     total of the {} costed nodes",
                    unknown.join(", "),
                    known.len()
                )
            };
            say(&format!(
                "{} ({}), input {:?}\n{}{total}: {} params, {} MACs{int8}, {} thop MACs, \
                 {} FLOPs, {} bytes read, {} bytes written\n\n",
                st.name,
                st.source,
                st.input_shape,
                summary::render_cost(&nodes),
                t.params,
                t.macs,
                t.thop_macs,
                t.flops,
                t.bytes_read,
                t.bytes_written
            ))?;
        }
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

pub(super) fn model_cost(st: &crate::model::StaticModel) -> ModelCostRecord {
    ModelCostRecord {
        model: st.name.clone(),
        source: st.source.clone(),
        input_shape: st.input_shape.clone(),
        output_shapes: st.output_shapes.clone(),
        source_nodes: st.sources.len(),
        cost: st.totals,
    }
}
