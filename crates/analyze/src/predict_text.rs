//! `hiddencost predict`'s words: the headline prediction (the predictor that validates best),
//! every predictor's leave-one-model-out score beside what it predicts here, then the kernel
//! model's and the node model's breakdowns.

use super::Prediction;
use crate::compute::fit::Predictor;
use crate::compute::kernels::Via;
use crate::render::fit::predictor_name;
use crate::render::table::{self as tables, Table};
use std::fmt;

impl fmt::Display for Prediction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headline = self.headline();
        let mut sizes = Vec::new();
        if let Some(k) = self
            .kernel
            .as_ref()
            .filter(|_| headline == Predictor::Kernel)
        {
            sizes.push(format!("{} executed kernels", k.executed_ops));
        }
        sizes.push(format!("{} source nodes", self.nodes));
        sizes.push(format!("{} MMACs", tables::millions(self.macs)));
        writeln!(
            f,
            "Predicted latency on {} ({}): {} ms ({})",
            self.device,
            predictor_name(headline),
            tables::ms(self.headline_latency_ns()),
            sizes.join(", ")
        )?;
        if headline == Predictor::MacsOnly {
            writeln!(
                f,
                "MACs alone validates best on {}: no cost model in this fit beats it on the \
                 models it was fitted on, so it is the prediction; the models below are \
                 baselines to read, not to trust more",
                self.device
            )?;
        }
        self.scores(f)?;
        if let Some(k) = &self.kernel {
            writeln!(f, "Kernel model by kernel type:")?;
            let share = |ns: f64| {
                tables::pct(if k.latency_ns > 0.0 {
                    ns / k.latency_ns
                } else {
                    0.0
                })
            };
            let mut t = Table::new(&["kernel", "calls", "predicted ms", "share", "coefficients"]);
            for s in &k.shares {
                let via = match &s.via {
                    Via::Kernel => "its own".to_string(),
                    Via::Category(c) => format!("category {c} (type unseen in training)"),
                    Via::Pooled => "pooled (type and category unseen in training)".to_string(),
                };
                t.row(vec![
                    s.kernel.clone(),
                    s.calls.to_string(),
                    tables::ms(s.ns),
                    share(s.ns),
                    via,
                ]);
            }
            t.row(vec![
                "(dispatch, per inference)".into(),
                k.executed_ops.to_string(),
                tables::ms(k.overhead_ns),
                share(k.overhead_ns),
                "end_to_end".into(),
            ]);
            f.write_str(&t.to_text())?;
        }
        writeln!(f, "Node model by category:")?;
        let mut t = Table::new(&["category", "node model ms", "share"]);
        for (c, ns) in &self.per_category {
            let share = if self.latency_ns > 0.0 {
                ns / self.latency_ns
            } else {
                0.0
            };
            t.row(vec![c.clone(), tables::ms(*ns), tables::pct(share)]);
        }
        f.write_str(&t.to_text())?;
        if !self.defaulted_categories.is_empty() {
            writeln!(
                f,
                "no coefficients for {} on this device: used the all-nodes default",
                self.defaulted_categories.join(", ")
            )?;
        }
        if let Some(why) = &self.kernel_missing {
            writeln!(f, "No kernel-model prediction: {why}")?;
        }
        Ok(())
    }
}

impl Prediction {
    /// Every predictor of the fit with what it predicts here and its validation, best first.
    fn scores(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let own = !self.held_out_error_pct.is_empty();
        let mut headers = vec!["predictor", "predicted ms"];
        let order: Vec<Predictor> = if self.validation.is_empty() {
            writeln!(
                f,
                "Not validated: the fit has fewer than 3 models on {}, so no figure says which \
                 predictor to trust",
                self.device
            )?;
            let mut all = vec![Predictor::Node, Predictor::MacsOnly];
            if self.kernel.is_some() || self.kernel_missing.is_some() {
                all.insert(0, Predictor::Kernel);
            }
            all
        } else {
            writeln!(
                f,
                "Leave-one-model-out on {}, best first: MAPE and models within ±10% over the {} \
                 models the fit holds (device-wide figures, not this model's error)",
                self.device, self.validation_models
            )?;
            headers.extend(["MAPE", "within ±10%"]);
            if own {
                headers.push("this model held out");
            }
            self.validation.iter().map(|(p, _)| *p).collect()
        };
        let mut t = Table::new(&headers);
        for p in order {
            let mut row = vec![
                predictor_name(p).to_string(),
                self.latency_ns_of(p).map_or("n/a".to_string(), tables::ms),
            ];
            if let Some((_, s)) = self.validation.iter().find(|(q, _)| *q == p) {
                row.push(format!("{:.1}%", s.mape_pct));
                row.push(format!("{}/{}", s.within_10pct, self.validation_models));
                if own {
                    row.push(
                        self.held_out_error_pct
                            .iter()
                            .find(|(q, _)| *q == p)
                            .map_or("n/a".to_string(), |(_, e)| format!("{e:+.1}%")),
                    );
                }
            }
            t.row(row);
        }
        f.write_str(&t.to_text())?;
        if own {
            writeln!(
                f,
                "This model is one of them: its last column is its own error when the fit left \
                 it out"
            )?;
        }
        Ok(())
    }
}
