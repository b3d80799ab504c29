//! The report as a document: headings, paragraphs, lists, tables and charts, built once from
//! the analysis and written by two small backends ([`super::markdown`], [`super::html`]) so
//! report.md and report.html always say the same thing.

use super::table::Table;

/// A piece of running text.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    Text(String),
    Code(String),
    Strong(String),
    /// A link: `href` is `#anchor` (a heading of the report) or a file next to it.
    Link {
        text: String,
        href: String,
    },
}

/// Running text made of [`Inline`]s, built with chained calls.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Text(pub Vec<Inline>);

impl Text {
    pub fn new() -> Self {
        Text::default()
    }

    pub fn t(mut self, s: impl Into<String>) -> Self {
        self.0.push(Inline::Text(s.into()));
        self
    }

    pub fn code(mut self, s: impl Into<String>) -> Self {
        self.0.push(Inline::Code(s.into()));
        self
    }

    pub fn strong(mut self, s: impl Into<String>) -> Self {
        self.0.push(Inline::Strong(s.into()));
        self
    }

    pub fn link(mut self, text: impl Into<String>, href: impl Into<String>) -> Self {
        self.0.push(Inline::Link {
            text: text.into(),
            href: href.into(),
        });
        self
    }

    /// The text without markup (for the terminal).
    pub fn plain(&self) -> String {
        self.0
            .iter()
            .map(|i| match i {
                Inline::Text(s) | Inline::Code(s) | Inline::Strong(s) => s.as_str(),
                Inline::Link { text, .. } => text.as_str(),
            })
            .collect()
    }
}

/// Plain text with `backticks` marking code, as the report's explanations are written.
impl From<&str> for Text {
    fn from(s: &str) -> Self {
        let mut t = Text::new();
        for (i, part) in s.split('`').enumerate() {
            if part.is_empty() {
                continue;
            }
            t = if i % 2 == 1 { t.code(part) } else { t.t(part) };
        }
        t
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text::from(s.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Level 1 is the title; the anchor is [`anchor`] of the text.
    Heading(u8, String),
    Para(Text),
    List(Vec<Text>),
    Table(Table),
    /// An SVG chart written next to the report, by file name.
    Chart(String),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Doc {
    pub blocks: Vec<Block>,
}

impl Doc {
    pub fn heading(&mut self, level: u8, text: impl Into<String>) {
        self.blocks.push(Block::Heading(level, text.into()));
    }

    pub fn para(&mut self, text: impl Into<Text>) {
        self.blocks.push(Block::Para(text.into()));
    }

    pub fn list(&mut self, items: Vec<Text>) {
        if !items.is_empty() {
            self.blocks.push(Block::List(items));
        }
    }

    pub fn table(&mut self, t: Table) {
        self.blocks.push(Block::Table(t));
    }

    pub fn chart(&mut self, file: impl Into<String>) {
        self.blocks.push(Block::Chart(file.into()));
    }

    /// The title (first level-1 heading).
    pub fn title(&self) -> &str {
        self.blocks
            .iter()
            .find_map(|b| match b {
                Block::Heading(1, t) => Some(t.as_str()),
                _ => None,
            })
            .unwrap_or("hiddencost analysis")
    }
}

/// The anchor of a heading, as GitHub derives it: lower case, spaces to `-`, punctuation other
/// than `-` and `_` dropped. report.md links work on GitHub, report.html uses the same ids.
pub fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// A link to a heading of the report.
pub fn to(heading: &str) -> String {
    format!("#{}", anchor(heading))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_follow_github() {
        assert_eq!(
            anchor("4. Figure 2: do size and MACs predict time?"),
            "4-figure-2-do-size-and-macs-predict-time"
        );
        assert_eq!(anchor("Time above the roofs"), "time-above-the-roofs");
        assert_eq!(to("Findings"), "#findings");
        let t = Text::new().t("r = ").code("0.5").link(" see", "#x");
        assert_eq!(t.plain(), "r = 0.5 see");
        let marked = Text::from("run `hiddencost probe` first");
        assert_eq!(marked.0[1], Inline::Code("hiddencost probe".into()));
        assert_eq!(marked.plain(), "run hiddencost probe first");
    }
}
