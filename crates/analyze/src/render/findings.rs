//! The Findings section: the study's questions answered in sentences computed from
//! [`DeviceFindings`], each with the numbers behind it and links to its table or chart.

use super::doc::{Text, to};
use super::names;
use super::outline::{H_FIG2, H_MODELS, H_RQ4, H_SHARES, H_WARNINGS, H_WHY};
use super::reasons::why;
use super::rq4::advice_text;
use super::table::pct;
use crate::compute::bounds::LimiterName;
use crate::compute::findings::{
    Answer, DeviceFindings, LightModels, ModelOverhead, Rq1, Rq2, Rq3, Rq4, Verdict,
};
use crate::load::Dataset;

/// "a 12.3%, b 4.0%" from (name, share) pairs.
fn shares(items: &[(String, f64)]) -> String {
    items
        .iter()
        .map(|(k, v)| format!("{k} {}", pct(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn limiters(items: &[(LimiterName, f64)]) -> Vec<(String, f64)> {
    items.iter().map(|(l, v)| (names::limiter(l), *v)).collect()
}

fn millions(macs: u64) -> String {
    format!("{:.1}M", macs as f64 / 1e6)
}

/// The items of one device's findings, in question order.
pub fn device_items(f: &DeviceFindings, data: &Dataset) -> Vec<Text> {
    // The largest measured saving leads: it is what a user acts on.
    let mut items: Vec<Text> = f.changes.iter().map(super::advise::finding).collect();
    // Then int8 against fp32: the change a user of an embedded board makes first.
    items.extend(f.int8.iter().map(super::int8::finding));
    items.extend([rq1(&f.rq1), rq2(&f.rq2), rq3(&f.rq3)]);
    items.push(rq4(&f.rq4));
    if let Some(e) = &f.eager {
        items.push(super::eager::finding(e));
    }
    if !f.warned_models.is_empty() {
        items.push(
            Text::new()
                .strong("Noise.")
                .t(format!(
                    " {} of {} models carry measurement warnings ({}): their numbers deserve a \
                     second run (",
                    f.warned_models.len(),
                    f.models,
                    f.warned_models.join(", ")
                ))
                .link("warnings", to(H_WARNINGS))
                .t(")."),
        );
    }
    if data.devices.len() == 1 {
        items.push(
            Text::new()
                .strong("One device.")
                .t(" Whether these answers hold on another board needs a log from it: ")
                .code("hiddencost analyze")
                .t(" takes the logs of several devices and compares them."),
        );
    }
    items
}

fn rq1(a: &Answer<Rq1>) -> Text {
    let q = Text::new().strong("RQ1. Do MACs and params predict latency?");
    let r = match a {
        Answer::CannotSay(w) => return q.t(format!(" Cannot say: {}.", why(w))),
        Answer::Is(r) => r,
    };
    let mut t = match &r.verdict {
        Answer::Is(v) => {
            let how = match v {
                Verdict::Follows => "Latency follows MACs closely",
                Verdict::Roughly => "Latency follows MACs only roughly",
                Verdict::DoesNotFollow => "Latency does not follow MACs",
            };
            let params = r.params.as_ref().map_or(String::new(), |p| {
                format!(" (time vs params: r = {:.2}, rho = {:.2})", p.r, p.rho)
            });
            q.t(format!(
                " {how} on this device: Pearson r = {:.2}, Spearman rho = {:.2} over {} models{params}.",
                r.macs.r, r.macs.rho, r.models
            ))
        }
        Answer::CannotSay(w) => q.t(format!(
            " Whether latency follows MACs on this device cannot be told from these runs: {}.",
            why(w)
        )),
    };
    if let (Answer::Is(_), Some(d)) = (&r.verdict, &r.macs.dominated_by) {
        t = t.t(format!(
            " One model makes that r: without {}, r = {:.2}.",
            d.model, d.r_without
        ));
    }
    t = t.t(" ").t(light(&r.light));
    let (lo, hi) = (&r.gmacs_lowest, &r.gmacs_highest);
    if lo.1 > 0.0 {
        t = t.t(format!(
            " The achieved rate spans {:.2} GMAC/s ({}) to {:.2} GMAC/s ({}): a MAC costs {:.1}x \
             more time in one model than in another. ",
            lo.1,
            lo.0,
            hi.1,
            hi.0,
            hi.1 / lo.1
        ));
    }
    t.link("Figure 2", to(H_FIG2))
        .t(", ")
        .link("models", to(H_MODELS))
        .t(".")
}

fn rq4(a: &Answer<Rq4>) -> Text {
    let q =
        Text::new().strong("RQ4. Which design choices beyond MAC reduction make a model faster?");
    let r = match a {
        Answer::CannotSay(w) => return q.t(format!(" Not answered: {}.", why(w))),
        Answer::Is(r) => r,
    };
    let mut t = q.t(format!(
        " Measured on this device with {} design families ({} variants at matched MACs): ",
        r.families, r.variants
    ));
    let join = |mut t: Text, items: &[crate::compute::sweep::Advice]| {
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                t = t.t("; ");
            }
            t.0.extend(advice_text(x).0);
        }
        t
    };
    if r.advice.is_empty() {
        t = t.t("no variant was faster than its baseline beyond the noise.");
    } else {
        t = t.t(format!(
            "{} choice(s) saved time beyond the noise, the most: ",
            r.advice_total
        ));
        t = join(t, &r.advice).t(".");
    }
    if !r.costs.is_empty() {
        t = t.t(format!(
            " {} cost time beyond the noise, the most: ",
            r.costs_total
        ));
        t = join(t, &r.costs).t(".");
    }
    if !r.flat.is_empty() {
        t = t.t(format!(
            " No difference beyond the noise in: {}.",
            r.flat.join(", ")
        ));
    }
    t.t(" These hold for the sizes measured, on this device, with tract's kernels (")
        .link("design choices", to(H_RQ4))
        .t(").")
}

fn light(a: &Answer<LightModels>) -> String {
    match a {
        Answer::CannotSay(w) => format!("Light models on their own: cannot say, {}.", why(w)),
        Answer::Is(l) => {
            let r = match (l.r, l.rho) {
                (Some(r), Some(rho)) => format!("r = {r:.2}, rho = {rho:.2}"),
                _ => "no correlation (constant MACs or latency)".into(),
            };
            format!(
                "The {} light models (up to {} MACs; the next model has {:.1}x more: {}) on their \
                 own: {r}; the slowest takes {:.1}x the time of the fastest, with {:.1}x the MACs \
                 between the lightest and the heaviest.",
                l.models.len(),
                millions(l.max_macs),
                l.next_macs as f64 / l.max_macs as f64,
                l.models.join(", "),
                l.latency_ratio,
                l.macs_ratio
            )
        }
    }
}

fn rq2(a: &Answer<Rq2>) -> Text {
    let q = Text::new().strong("RQ2. Beyond MACs, what costs the most?");
    let r = match a {
        Answer::CannotSay(w) => return q.t(format!(" Cannot say: {}.", why(w))),
        Answer::Is(r) => r,
    };
    let mut t = q.t(format!(
        " {} of op time is in ops with no MACs, by category: {}; the costliest of those ops: {}.",
        pct(r.hidden_share),
        shares(&r.hidden_categories),
        shares(&r.hidden_ops)
    ));
    t = match &r.above {
        Answer::Is(above) => t.t(format!(
            " Against this machine's own roofs, {} of op time is above what the ops' MACs and \
             bytes need ({} models): by category {}; by op {}. Share of op time by limiter: {}. ",
            pct(above.share),
            above.models,
            shares(&above.by_category),
            shares(&above.by_op),
            shares(&limiters(&above.limiters))
        )),
        Answer::CannotSay(w) => t.t(format!(" Time above the roofs: not computed, {}. ", why(w))),
    };
    t.link("why", to(H_WHY))
        .t(", ")
        .link("shares", to(H_SHARES))
        .t(".")
}

fn overhead(m: &ModelOverhead) -> String {
    let above = m
        .above_share
        .map_or(String::new(), |s| format!(", {} above the roofs", pct(s)));
    let ops = if m.top_hidden_ops.is_empty() {
        String::new()
    } else {
        format!(": {}", shares(&m.top_hidden_ops))
    };
    format!(
        "{} {} in zero-MAC ops{above}{ops}",
        m.model,
        pct(m.hidden_share)
    )
}

fn rq3(a: &Answer<Rq3>) -> Text {
    let q = Text::new().strong("RQ3. Which architectures carry the most non-MAC overhead?");
    let r = match a {
        Answer::CannotSay(w) => return q.t(format!(" Cannot say: {}.", why(w))),
        Answer::Is(r) => r,
    };
    // The least overhead is named on its own, so the "most" list stops before it.
    let most: Vec<String> = r
        .models
        .iter()
        .take(3.min(r.models.len() - 1))
        .map(overhead)
        .collect();
    let least = r.models.last().map(overhead).unwrap_or_default();
    q.t(format!(
        " Most, as a share of each model's op time: {}. Least: {least}. ",
        most.join("; ")
    ))
    .link("where the time goes", to(H_SHARES))
    .t(".")
}
