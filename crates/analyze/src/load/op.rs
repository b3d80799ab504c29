//! The op records as `load` keeps them: [`Op`], one per executed op of a run, with the fields
//! of [`OpRecord`] (but `model`, which is its run's), its names and shapes shared through an
//! [`Interner`] and its counters as one value per event of a shared, sorted event list. A fleet
//! repeats the same models on every board: the same node, op and category names, the same
//! shapes and the same counters, which are then held once, not once per board.
//!
//! The analysis reads an [`Op`] as it read an [`OpRecord`]: names deref to `str`, counters are
//! looked up and iterated by event name in the record's (sorted) order. Ops are built on the
//! threads that parse the logs (each with an interner of its own), hence `Arc`, not `Rc`.

use crate::record::{Cost, CounterValue, OpRecord, WallNs};
use serde::{Serialize, Serializer};
use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::{Deref, Index};
use std::sync::Arc;

/// A name (node, op, category, event) shared by every op that carries it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(Arc<str>);

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        &*self.0 == other.as_str()
    }
}

/// A name of its own, not shared (tests; [`Interner::name`] shares).
impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name(Arc::from(s))
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.0.to_string()
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// An op's counters: per event name (sorted, as the record's map), the median and running
/// ratio, `None` for an event that could not be opened.
#[derive(Debug, Clone, PartialEq)]
pub struct Counters {
    events: Arc<[Name]>,
    values: Box<[Option<CounterValue>]>,
}

impl Counters {
    /// The value of `event`, if the op has that event (`Some(None)`: not measured).
    pub fn get(&self, event: &str) -> Option<&Option<CounterValue>> {
        let ix = self
            .events
            .binary_search_by(|e| e.as_str().cmp(event))
            .ok()?;
        self.values.get(ix)
    }

    /// (event, value) in event-name order.
    pub fn iter(&self) -> impl Iterator<Item = (&Name, &Option<CounterValue>)> {
        self.events.iter().zip(self.values.iter())
    }

    pub fn keys(&self) -> impl Iterator<Item = &Name> {
        self.events.iter()
    }

    pub fn values(&self) -> impl Iterator<Item = &Option<CounterValue>> {
        self.values.iter()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl<'a> IntoIterator for &'a Counters {
    type Item = (&'a Name, &'a Option<CounterValue>);
    type IntoIter =
        std::iter::Zip<std::slice::Iter<'a, Name>, std::slice::Iter<'a, Option<CounterValue>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.events.iter().zip(self.values.iter())
    }
}

impl Index<&str> for Counters {
    type Output = Option<CounterValue>;
    /// Panics when the op has no such event (as a map's index does): for tests.
    fn index(&self, event: &str) -> &Option<CounterValue> {
        match self.get(event) {
            Some(v) => v,
            None => panic!("no counter `{event}`"),
        }
    }
}

/// Tensor shapes, shared by the ops that have the same ones.
pub type Shapes = Arc<[Vec<usize>]>;

/// One executed op of a run: an [`OpRecord`] without its `model` (the run's).
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    pub node_id: usize,
    pub node: Name,
    pub op: Name,
    pub source_node: Option<Name>,
    pub source_op: Option<Name>,
    pub category: Name,
    pub source_category: Option<Name>,
    pub fused_sources: Arc<[Name]>,
    pub input_shapes: Shapes,
    pub output_shapes: Shapes,
    pub order: usize,
    pub cost: Cost,
    pub wall_ns: WallNs,
    pub counters: Counters,
}

/// The names, shapes and event lists seen so far, each held once.
#[derive(Debug, Default)]
pub struct Interner {
    names: HashSet<Name>,
    shapes: HashMap<Vec<Vec<usize>>, Shapes>,
    name_lists: HashMap<Vec<Name>, Arc<[Name]>>,
}

impl Interner {
    pub fn name(&mut self, s: &str) -> Name {
        if let Some(n) = self.names.get(s) {
            return n.clone();
        }
        let n = Name(Arc::from(s));
        self.names.insert(n.clone());
        n
    }

    fn opt(&mut self, s: Option<&str>) -> Option<Name> {
        s.map(|s| self.name(s))
    }

    fn shapes(&mut self, shapes: Vec<Vec<usize>>) -> Shapes {
        if let Some(s) = self.shapes.get(&shapes) {
            return Arc::clone(s);
        }
        let s: Shapes = Arc::from(shapes.clone());
        self.shapes.insert(shapes, Arc::clone(&s));
        s
    }

    fn names(&mut self, names: Vec<Name>) -> Arc<[Name]> {
        if let Some(l) = self.name_lists.get(&names) {
            return Arc::clone(l);
        }
        let l: Arc<[Name]> = Arc::from(names.clone());
        self.name_lists.insert(names, Arc::clone(&l));
        l
    }

    /// The op record in its compact form (its `model` dropped: the run's).
    pub fn op(&mut self, r: OpRecord) -> Op {
        // The record's map is sorted by event name: the list is too, which `Counters::get`
        // relies on.
        let events: Vec<Name> = r.counters.keys().map(|k| self.name(k)).collect();
        let values: Box<[Option<CounterValue>]> = r.counters.into_values().collect();
        let fused: Vec<Name> = r.fused_sources.iter().map(|s| self.name(s)).collect();
        Op {
            node_id: r.node_id,
            node: self.name(&r.node),
            op: self.name(&r.op),
            source_node: self.opt(r.source_node.as_deref()),
            source_op: self.opt(r.source_op.as_deref()),
            category: self.name(&r.category),
            source_category: self.opt(r.source_category.as_deref()),
            fused_sources: self.names(fused),
            input_shapes: self.shapes(r.input_shapes),
            output_shapes: self.shapes(r.output_shapes),
            order: r.order,
            cost: r.cost,
            wall_ns: r.wall_ns,
            counters: Counters {
                events: self.names(events),
                values,
            },
        }
    }
}
