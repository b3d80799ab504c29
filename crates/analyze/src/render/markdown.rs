//! report.md: the [`Doc`] as GitHub-flavoured Markdown, charts as image links to the SVG files
//! next to it.

use super::doc::{Block, Doc, Inline, Text};
use std::fmt::Write;

fn inline(t: &Text) -> String {
    let mut s = String::new();
    for i in &t.0 {
        match i {
            Inline::Text(x) => s.push_str(&x.replace('|', "\\|")),
            Inline::Code(x) => {
                let _ = write!(s, "`{}`", x.replace('`', "'"));
            }
            Inline::Strong(x) => {
                let _ = write!(s, "**{x}**");
            }
            Inline::Link { text, href } => {
                let _ = write!(s, "[{text}]({href})");
            }
        }
    }
    s
}

pub fn render(doc: &Doc) -> String {
    let mut s = String::new();
    for b in &doc.blocks {
        match b {
            Block::Heading(level, text) => {
                let _ = write!(s, "{} {text}\n\n", "#".repeat(usize::from(*level)));
            }
            Block::Para(t) => {
                let _ = write!(s, "{}\n\n", inline(t));
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(s, "- {}", inline(item));
                }
                s.push('\n');
            }
            Block::Table(t) => {
                let _ = writeln!(s, "{}", t.to_markdown());
            }
            Block::Chart(file) => {
                let _ = write!(s, "![{file}]({file})\n\n");
            }
        }
    }
    s
}
