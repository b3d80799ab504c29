//! report.html: the [`Doc`] as one self-contained page (inline CSS, the charts' SVG inline, no
//! script, no network access), so it opens from a card's folder on any machine.

use super::chart::svg::{esc, id_name};
use super::doc::{Block, Doc, Inline, Text, anchor};
use super::table::Table;
use std::fmt::Write;

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fff}\
main{max-width:1100px;margin:0 auto;padding:1rem 2rem 3rem}\
nav{font-size:0.9rem;margin:0.5rem 0 1rem}nav a{margin-right:1rem}\
h1{font-size:1.6rem}h2{font-size:1.3rem;border-bottom:1px solid #ddd;padding-bottom:0.2rem;margin-top:2rem}\
h3{font-size:1.05rem;margin-top:1.5rem}\
code{background:#f3f3f3;padding:0 0.2rem;border-radius:3px}\
.table{overflow-x:auto}table{border-collapse:collapse;font-size:0.8rem;margin:0.5rem 0 1rem}\
th,td{border:1px solid #ddd;padding:0.15rem 0.45rem;white-space:nowrap}th{background:#f6f6f6}\
td.num{text-align:right;font-variant-numeric:tabular-nums}\
figure{margin:1rem 0}figure svg{max-width:100%;height:auto;border:1px solid #eee}\
figcaption{font-size:0.8rem;color:#555}\
ul.findings li{margin-bottom:0.4rem}";

fn inline(t: &Text) -> String {
    let mut s = String::new();
    for i in &t.0 {
        match i {
            Inline::Text(x) => s.push_str(&esc(x)),
            Inline::Code(x) => {
                let _ = write!(s, "<code>{}</code>", esc(x));
            }
            Inline::Strong(x) => {
                let _ = write!(s, "<strong>{}</strong>", esc(x));
            }
            Inline::Link { text, href } => {
                let _ = write!(s, "<a href=\"{}\">{}</a>", esc(href), esc(text));
            }
        }
    }
    s
}

fn table(t: &Table) -> String {
    let t = t.reading();
    let mut s = String::from("<div class=\"table\"><table>\n<thead><tr>");
    for h in &t.headers {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        s.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let class = if i > 0 { " class=\"num\"" } else { "" };
            let _ = write!(s, "<td{class}>{}</td>", esc(c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div>\n");
    s
}

/// An SVG of the report inline: its ids get the chart's name as prefix, so two charts never
/// share an id in one page.
fn chart(name: &str, svg: &str) -> String {
    let prefix = id_name(name.trim_end_matches(".svg"));
    let body = svg.replace(" id=\"", &format!(" id=\"{prefix}-"));
    format!(
        "<figure id=\"chart-{prefix}\">\n{body}<figcaption>{}</figcaption>\n</figure>\n",
        esc(name)
    )
}

/// The page; `svgs` are the chart files (name, content) the doc's charts refer to.
pub fn render(doc: &Doc, svgs: &[(String, String)]) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        esc(doc.title())
    );
    let sections: Vec<&String> = doc
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading(2, t) => Some(t),
            _ => None,
        })
        .collect();
    for b in &doc.blocks {
        match b {
            Block::Heading(level, text) => {
                let _ = writeln!(
                    s,
                    "<h{level} id=\"{}\">{}</h{level}>",
                    esc(&anchor(text)),
                    esc(text)
                );
                if *level == 1 && !sections.is_empty() {
                    s.push_str("<nav>");
                    for h in &sections {
                        let _ = write!(s, "<a href=\"#{}\">{}</a>", esc(&anchor(h)), esc(h));
                    }
                    s.push_str("</nav>\n");
                }
            }
            Block::Para(t) => {
                let _ = writeln!(s, "<p>{}</p>", inline(t));
            }
            Block::List(items) => {
                s.push_str("<ul class=\"findings\">\n");
                for item in items {
                    let _ = writeln!(s, "<li>{}</li>", inline(item));
                }
                s.push_str("</ul>\n");
            }
            Block::Table(t) => s.push_str(&table(t)),
            Block::Chart(name) => {
                if let Some((_, svg)) = svgs.iter().find(|(n, _)| n == name) {
                    s.push_str(&chart(name, svg));
                }
            }
        }
    }
    s.push_str("</main>\n</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_inline_with_unique_ids() {
        let mut doc = Doc::default();
        doc.heading(1, "Report <x>");
        doc.heading(2, "Findings");
        doc.para(Text::new().t("a < b").link("see", "#findings"));
        doc.chart("a.svg");
        doc.chart("b.svg");
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"><g id=\"series-conv\"></g></svg>\n";
        let svgs = vec![
            ("a.svg".to_string(), svg.to_string()),
            ("b.svg".into(), svg.into()),
        ];
        let page = render(&doc, &svgs);
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<title>Report &lt;x&gt;</title>"));
        assert!(page.contains("id=\"a-series-conv\"") && page.contains("id=\"b-series-conv\""));
        assert!(page.contains("<p>a &lt; b<a href=\"#findings\">see</a></p>"));
        assert!(page.contains("<h2 id=\"findings\">Findings</h2>"));
        assert!(
            !page.contains("src=") && !page.contains("href=\"http"),
            "nothing fetched"
        );
    }
}
