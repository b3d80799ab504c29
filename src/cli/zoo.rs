//! `hiddencost zoo`: the zoo's table, and its models (or their int8 forms) written as files.

use super::common::say;
use crate::record::Record;
use crate::session;
use crate::sink::Sink;
use crate::zoo::{self, ZooOptions};
use anyhow::{Context, Result};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum ZooCommand {
    /// List the models with their size, MACs and published error.
    List {
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write models as .onnx files (DIR/NAME.onnx).
    Export {
        dir: PathBuf,
        /// Which models (default: all ten).
        names: Vec<String>,
        #[command(flatten)]
        zoo: super::ZooArgs,
        /// Write each model's int8 form (QDQ, the `int8` rewrite) as DIR/NAME+int8.onnx.
        #[arg(long)]
        int8: bool,
    },
}

pub(super) fn zoo_list(json: bool) -> Result<i32> {
    let mut sink = Sink::from_writer(Box::new(std::io::stdout()), "stdout");
    let mut table = format!(
        "{:<14} {:>11} {:>11} {:>14} {:>14} {:>14} {:>8} {:>8}\n",
        "name", "params", "PyTorch", "MACs", "thop MACs", "PyTorch thop", "top-1 %", "top-5 %"
    );
    for info in zoo::all() {
        let (src, meta) = session::zoo_source(info.name, &ZooOptions::default())?;
        let st = crate::model::load_static(&src, None)?;
        if json {
            sink.write(&Record::ModelCost(super::cost::model_cost(&st)))?;
            continue;
        }
        let zoo = meta.zoo.as_ref();
        let (pytorch_params, pytorch_thop_macs) =
            zoo.map_or((0, 0), |z| (z.pytorch_params, z.pytorch_thop_macs));
        table += &format!(
            "{:<14} {:>11} {:>11} {:>14} {:>14} {:>14} {:>8.2} {:>8.2}\n",
            info.name,
            st.totals.params,
            pytorch_params,
            st.totals.macs,
            st.totals.thop_macs,
            pytorch_thop_macs,
            info.top1_error,
            info.top5_error
        );
    }
    if !json {
        table += "\nparams, MACs and thop MACs are computed from the ONNX graph; the PyTorch \
                  columns are those of the reference modules (thop does not see functional \
                  pooling). Errors: CIFAR-100 test set, as published by pytorch-cifar100.\n";
        say(&table)?;
    }
    Ok(0)
}

/// Writes zoo models as DIR/NAME.onnx, or (`int8`) their int8 forms as DIR/NAME+int8.onnx.
pub(super) fn zoo_export(
    dir: &std::path::Path,
    names: &[String],
    opts: ZooOptions,
    int8: bool,
) -> Result<i32> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let names: Vec<&str> = if names.is_empty() {
        zoo::NAMES.to_vec()
    } else {
        names
            .iter()
            .map(|n| n.strip_prefix("zoo:").unwrap_or(n))
            .collect()
    };
    let mut written = String::new();
    for name in names {
        let (name, one_int8) = session::zoo_int8_name(name);
        let mut proto = zoo::build(name, &opts)?;
        let mut stem = name.to_ascii_lowercase();
        if int8 || one_int8 {
            crate::rewrite::apply(&mut proto, crate::rewrite::Rewrite::Int8);
            stem.push_str("+int8");
        }
        let path = dir.join(format!("{stem}.onnx"));
        std::fs::write(&path, zoo::to_bytes(&proto))
            .with_context(|| format!("cannot write {}", path.display()))?;
        written += &format!("{}\n", path.display());
    }
    say(&written)?;
    Ok(0)
}
