//! Tests of `table`.

use super::*;

fn sample() -> Table {
    let mut t = Table::new(&["model", "ms"]);
    t.row(vec!["a,b".into(), "1.000".into()]);
    t.row(vec!["long|name".into()]);
    t
}

#[test]
fn renders_three_ways() {
    let t = sample();
    assert_eq!(
        t.to_text(),
        "model         ms\n---------  -----\na,b        1.000\nlong|name\n"
    );
    assert!(t.to_markdown().contains("| long\\|name |  |"));
    assert_eq!(t.to_csv(), "model,ms\n\"a,b\",1.000\nlong|name,\n");
    assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
}

#[test]
fn typed_columns_read_formatted_and_write_raw() {
    let mut t = Table::typed(vec![
        Column::text("model"),
        Column::new("median_ns", "median ms", Kind::Int, Unit::Ns, Read::MsOfNs),
        Column::new("share", "share", Kind::Float, Unit::Fraction, Read::Pct),
        Column::new("", "x", Kind::Float, Unit::Ratio, Read::Times).reading_only(),
        Column::new("runs", "runs", Kind::Int, Unit::Count, Read::Plain).raw_only(),
    ]);
    t.push(vec![
        Cell::text("a"),
        Cell::Int(Some(1_234_567)),
        Cell::Float(Some(0.125)),
        Cell::Float(Some(1.5)),
        Cell::Int(Some(20)),
    ]);
    t.push(vec![Cell::text("b"), Cell::Int(None), Cell::Float(None)]);
    assert_eq!(
        t.to_markdown(),
        "| model | median ms | share | x |\n| --- | ---: | ---: | ---: |\n\
         | a | 1.235 | 12.5% | 1.50x |\n| b | n/a | n/a |  |\n"
    );
    assert_eq!(
        t.to_csv(),
        "model,median_ns,share,runs\na,1234567,0.125,20\nb,,,\n"
    );
}

#[test]
fn a_layout_sets_alignment_minimum_widths_gaps_and_indent() {
    let mut t = Table::new(&["name", "kind", "n", "note"]);
    t.row(vec!["a".into(), "x".into(), "1".into(), "first".into()]);
    t.row(vec![
        "bbbbbb".into(),
        "y".into(),
        "22".into(),
        String::new(),
    ]);
    let layout = Layout {
        cols: vec![
            Col::left(4),
            Col::right(3),
            Col::left(0),
            Col::left(0).after("  "),
        ],
        indent: "  ",
        rule: false,
    };
    assert_eq!(
        t.to_text_in(&layout),
        "  name   kind n   note\n  a         x 1   first\n  bbbbbb    y 22\n"
    );
}

#[test]
fn typed_columns_carry_kind_and_nullability() {
    let mut t = Table::typed(vec![
        Column::raw("id", Kind::Int).required(),
        Column::raw("ok", Kind::Bool),
    ]);
    assert!(!t.columns[0].nullable && t.columns[1].nullable);
    assert_eq!(t.columns[1].label, None);
    t.push(vec![Cell::Int(Some(1)), Cell::Bool(Some(true))]);
    t.push(vec![Cell::Int(Some(2)), Cell::Bool(None)]);
    assert_eq!(t.to_csv(), "id,ok\n1,true\n2,\n");
    assert_eq!(t.csv_rows(), "1,true\n2,\n");
}

#[test]
fn a_table_of_defs_reads_each_cell_from_its_row() {
    let defs = [
        Def {
            column: Column::raw("n", Kind::Int),
            cell: |v: &u64| Cell::Int(Some(*v)),
        },
        Def {
            column: Column::raw("twice", Kind::Int),
            cell: |v: &u64| Cell::Int(Some(2 * v)),
        },
    ];
    assert_eq!(Table::of(&defs, [1, 2]).to_csv(), "n,twice\n1,2\n2,4\n");
}
