//! A tiny XML well-formedness checker for the SVGs (no dependency): elements nest and close,
//! attributes are quoted and unique, entities are known, one root element.

pub fn check(text: &str) -> Result<(), String> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    while i < b.len() {
        if b[i] == b'<' {
            if text[i..].starts_with("<?") {
                i += text[i..].find("?>").ok_or("unterminated <?")? + 2;
                continue;
            }
            if text[i..].starts_with("<!--") {
                i += text[i..].find("-->").ok_or("unterminated comment")? + 3;
                continue;
            }
            let end = i + tag_end(&text[i..]).ok_or(format!("unterminated tag at byte {i}"))?;
            let inner = &text[i + 1..end];
            if let Some(name) = inner.strip_prefix('/') {
                let open = stack
                    .pop()
                    .ok_or(format!("close tag </{name}> without open"))?;
                if open != name.trim() {
                    return Err(format!("</{}> closes <{open}>", name.trim()));
                }
            } else {
                let self_closing = inner.ends_with('/');
                let inner = inner.trim_end_matches('/');
                let name = inner
                    .split_whitespace()
                    .next()
                    .ok_or("empty tag")?
                    .to_string();
                if !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '-' || c == '_')
                {
                    return Err(format!("bad element name {name}"));
                }
                check_attributes(&inner[name.len()..])?;
                if stack.is_empty() {
                    roots += 1;
                }
                if !self_closing {
                    stack.push(name);
                }
            }
            i = end + 1;
        } else {
            let next = text[i..].find('<').map_or(b.len(), |n| i + n);
            check_text(&text[i..next])?;
            if stack.is_empty() && !text[i..next].trim().is_empty() {
                return Err("text outside the root element".into());
            }
            i = next;
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed elements {stack:?}"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(())
}

fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (ix, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"') | (None, '\'') => quote = Some(c),
            (None, '>') => return Some(ix),
            (None, '<') => return None,
            _ => {}
        }
    }
    None
}

fn check_attributes(mut s: &str) -> Result<(), String> {
    let mut seen = Vec::new();
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Ok(());
        }
        let eq = s.find('=').ok_or(format!("attribute without value: {s}"))?;
        let name = s[..eq].trim().to_string();
        if name.is_empty() || name.contains(char::is_whitespace) || seen.contains(&name) {
            return Err(format!("bad or duplicate attribute `{name}`"));
        }
        seen.push(name);
        let rest = s[eq + 1..].trim_start();
        let q = rest.chars().next().ok_or("missing attribute value")?;
        if q != '"' && q != '\'' {
            return Err("unquoted attribute value".into());
        }
        let close = rest[1..].find(q).ok_or("unterminated attribute value")?;
        let value = &rest[1..1 + close];
        if value.contains('<') {
            return Err("`<` in attribute value".into());
        }
        check_text(value)?;
        s = &rest[close + 2..];
    }
}

fn check_text(s: &str) -> Result<(), String> {
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        let semi = rest[p..].find(';').ok_or("bare &")?;
        let entity = &rest[p + 1..p + semi];
        let known = ["amp", "lt", "gt", "quot", "apos"].contains(&entity)
            || (entity.starts_with('#') && entity.len() > 1);
        if !known {
            return Err(format!("unknown entity &{entity};"));
        }
        rest = &rest[p + semi + 1..];
    }
    Ok(())
}

#[test]
fn checker_accepts_and_rejects() {
    assert!(check(r#"<svg a="1"><g id="x"><t>a &amp; b</t></g><r/></svg>"#).is_ok());
    assert!(check("<svg><g></svg>").is_err());
    assert!(check(r#"<svg a="1" a="2"/>"#).is_err());
    assert!(check("<svg>a & b</svg>").is_err());
    assert!(check("<svg/><svg/>").is_err());
    assert!(check("<svg a=1/>").is_err());
}
