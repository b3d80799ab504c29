//! Tensor data: bytes that match their dims, and external data files that are safe to read.

use super::*;

/// Size in bytes of one element of a fixed-size ONNX data type (`None` for strings, sub-byte
/// and unknown types).
fn exact_elem_bytes(data_type: i32) -> Option<u64> {
    match DataType::try_from(data_type).ok()? {
        DataType::Bool | DataType::Int8 | DataType::Uint8 => Some(1),
        DataType::String | DataType::Undefined => None,
        d => {
            let b = elem_bytes(d as i32);
            (b > 1).then_some(b)
        }
    }
}

fn is_external(t: &pb::TensorProto) -> bool {
    t.data_location == Some(pb::tensor_proto::DataLocation::External as i32)
        && t.raw_data.is_empty()
}

fn external_key<'a>(t: &'a pb::TensorProto, key: &str) -> Option<&'a str> {
    t.external_data
        .iter()
        .find(|e| e.key == key)
        .map(|e| e.value.as_str())
}

/// Tensors stored in the file, whose bytes must match their dims; and tensors stored in
/// external files: each file is a regular file inside the model's folder (`model_dir`; `None`
/// for a model built in memory, which has none), holds the bytes the dims need, and all of
/// them fit in `memory_bytes` (tract reads them into memory).
/// Values a tensor holds in its typed fields (`float_data`, `int32_data`, ...): one per element
/// for every type but the complex ones.
fn typed_values(t: &pb::TensorProto) -> u64 {
    (t.float_data.len()
        + t.int32_data.len()
        + t.int64_data.len()
        + t.double_data.len()
        + t.uint64_data.len()
        + t.string_data.len()) as u64
}

pub fn tensor_data(
    proto: &pb::ModelProto,
    model_dir: Option<&std::path::Path>,
    memory_bytes: Option<u64>,
) -> Result<(), Refusal> {
    let Some(g) = proto.graph.as_ref() else {
        return Ok(());
    };
    let constants = g
        .node
        .iter()
        .filter(|n| n.op_type == "Constant")
        .filter_map(|n| {
            let t = attr(n, "value")?.t.as_ref()?;
            Some((n.output.first().map(|o| o.as_str()).unwrap_or_default(), t))
        });
    let tensors = g
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t))
        .chain(constants);
    let mut external_bytes = 0u64;
    for (name, t) in tensors {
        let needed = elements(t.dims.iter().map(|&d| d.max(0) as u64))
            .zip(exact_elem_bytes(t.data_type))
            .and_then(|(e, b)| e.checked_mul(b));
        if !t.raw_data.is_empty() {
            if let Some(needed) = needed.filter(|&n| n != t.raw_data.len() as u64) {
                return Err(Refusal::DataSize {
                    name: name.to_string(),
                    held: t.raw_data.len(),
                    dims: dims_text(&t.dims),
                    needed,
                });
            }
            continue;
        }
        if !is_external(t) {
            let held = typed_values(t);
            let complex = [DataType::Complex64 as i32, DataType::Complex128 as i32];
            let elems = elements(t.dims.iter().map(|&d| d.max(0) as u64));
            if let Some(elems) = elems.filter(|&e| e != held && !complex.contains(&t.data_type)) {
                return Err(Refusal::DataCount {
                    name: name.to_string(),
                    held,
                    dims: dims_text(&t.dims),
                    needed: elems,
                });
            }
            continue;
        }
        let at = |why: ExternalData| Refusal::External {
            name: name.to_string(),
            why,
        };
        let dir = model_dir.ok_or_else(|| at(ExternalData::NoFolder))?;
        let location = external_key(t, "location").ok_or_else(|| at(ExternalData::NoLocation))?;
        let relative = std::path::Path::new(location);
        if location.is_empty()
            || !relative.components().all(|c| {
                matches!(
                    c,
                    std::path::Component::Normal(_) | std::path::Component::CurDir
                )
            })
        {
            return Err(at(ExternalData::NotInside(location.to_string())));
        }
        let dir = if dir.as_os_str().is_empty() {
            std::path::Path::new(".")
        } else {
            dir
        };
        let open_err = |cause: std::io::Error| {
            at(ExternalData::Unreadable {
                location: location.to_string(),
                cause,
            })
        };
        let root = dir.canonicalize().map_err(open_err)?;
        let path = root.join(relative).canonicalize().map_err(open_err)?;
        if !path.starts_with(&root) {
            return Err(at(ExternalData::LinkOutside(location.to_string())));
        }
        let meta = std::fs::metadata(&path).map_err(open_err)?;
        if !meta.is_file() {
            return Err(at(ExternalData::NotRegular {
                location: location.to_string(),
                kind: crate::sink::file_kind(&meta),
            }));
        }
        let number = |key: &'static str| -> Result<Option<u64>, Refusal> {
            external_key(t, key)
                .map(|v| {
                    v.parse::<u64>().map_err(|_| {
                        at(ExternalData::BadNumber {
                            key,
                            value: v.to_string(),
                        })
                    })
                })
                .transpose()
        };
        let offset = number("offset")?.unwrap_or(0);
        let length = number("length")?;
        let size = meta.len();
        let end = offset.saturating_add(length.unwrap_or(0));
        if offset > size || end > size {
            return Err(at(ExternalData::PastEnd {
                location: location.to_string(),
                offset,
                length: length.unwrap_or(0),
                size,
            }));
        }
        let held = length.unwrap_or(size - offset);
        if let Some(needed) = needed
            && (held < needed || (length.is_some() && held != needed))
        {
            return Err(at(ExternalData::Size {
                location: location.to_string(),
                held,
                dims: dims_text(&t.dims),
                needed,
            }));
        }
        external_bytes = external_bytes.saturating_add(needed.unwrap_or(held));
    }
    if let Some(avail) = memory_bytes.filter(|&a| external_bytes > a) {
        return Err(Refusal::ExternalTooLarge {
            bytes: external_bytes,
            available: avail,
        });
    }
    Ok(())
}
