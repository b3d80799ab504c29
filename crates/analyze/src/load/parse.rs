//! One log line into a record, ahead of its use (on a parser thread): op and node records
//! straight into their types, a plausible op made compact.

use super::op::{Interner, Name, Op};
use super::plausible;
use crate::record::{NodeRecord, OpRecord, Record};

/// A line parsed ahead of its use.
#[allow(clippy::large_enum_variant)] // most lines are ops: boxing them would allocate per op
pub(super) enum Parsed {
    /// A plausible op record, compact already, with its model's name.
    Op(Name, Op),
    /// Another record of [`parse_record`] (boxed: most lines are ops, and a header is large).
    Record(Box<Record>),
    /// A line too long to be a record, not read ([`super::chunks::MAX_LINE_BYTES`]): its
    /// length in bytes.
    TooLong(u64),
    /// Left to the general path ([`FileReader::line`]).
    No,
}

/// [`parse_record`], and a plausible op record made compact (the op's strings, allocated on
/// the parser's thread, are freed there too).
pub(super) fn parse_line(raw: &[u8], names: &mut Interner) -> Parsed {
    match parse_record(raw) {
        Some(Record::Op(op)) if plausible::implausible_op(&op).is_none() => {
            let model = names.name(&op.model);
            Parsed::Op(model, names.op(op))
        }
        Some(record) => Parsed::Record(Box::new(record)),
        None => Parsed::No,
    }
}

/// Most lines are node and op records of a run: parsed straight into their type, with no JSON
/// value tree in between, on a parser thread. `None` for a header, a line with any error and a
/// line whose `"type"` appears more than once (the general path, [`FileReader::line`], reads
/// the last): those take the general path, which says what is wrong.
pub(super) fn parse_record(raw: &[u8]) -> Option<Record> {
    let text = std::str::from_utf8(raw).ok()?.trim();
    if memchr::memmem::find_iter(text.as_bytes(), b"\"type\"")
        .take(2)
        .count()
        != 1
    {
        return None;
    }
    // Op and node records (nearly every line) straight into their struct: the record enum,
    // tagged by `"type"`, would first buffer the whole line. Their `"type"` is ignored there
    // like any other unknown key, and it is the first key, as bench writes it.
    if text.starts_with(r#"{"type":"op","#) {
        return serde_json::from_str::<OpRecord>(text).ok().map(Record::Op);
    }
    if text.starts_with(r#"{"type":"node","#) {
        return serde_json::from_str::<NodeRecord>(text)
            .ok()
            .map(Record::Node);
    }
    match serde_json::from_str::<Record>(text) {
        Ok(Record::Header(_)) | Err(_) => None,
        Ok(record) => Some(record),
    }
}
