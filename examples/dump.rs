use hiddencost::model::*;
fn main() {
    let p = std::env::args().nth(1).unwrap();
    for opt in [Optimize::None, Optimize::Declutter, Optimize::Full] {
        match load(&ModelSource::Path(p.clone().into()), None, opt) {
            Ok(m) => {
                println!("== {:?} sources={} exec={}", opt, m.sources.len(), m.exec.len());
                for e in &m.exec {
                    println!("{:3} {:30} {:20} src={:?} {} in={:?} out={:?} macs={} br={} wb={} bw={}", e.node_id, e.name, e.op, e.source.map(|s| &m.sources[s].name), e.category, e.input_shapes, e.output_shapes, e.cost.macs, e.cost.bytes_read, e.cost.weight_bytes, e.cost.bytes_written);
                }
            }
            Err(e) => println!("{opt:?} error: {e}"),
        }
    }
}
