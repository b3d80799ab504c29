//! Devices: a short, unique label for the machine a run was measured on, derived from the
//! header's context (board model, CPU model, hostname, arch).

use crate::record::{Context, EventStatus, Header};

/// A machine the logs were measured on, identified by its run context.
#[derive(Debug, Clone)]
pub struct Device {
    /// Short label derived from the context, unique among the loaded devices (e.g. `rpi4b`).
    pub label: String,
    pub context: Context,
    /// Events of the first run seen on this device, with their availability.
    pub events: Vec<EventStatus>,
}

/// Lower-case words joined by `-`, keeping letters, digits and dots.
pub fn slug(text: &str) -> String {
    let cleaned = text
        .replace("(R)", " ")
        .replace("(TM)", " ")
        .replace("(tm)", " ");
    let words: Vec<String> = cleaned
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    words.join("-")
}

/// A short device label: `rpi4b` for "Raspberry Pi 4 Model B Rev 1.4", else the first words of
/// the board model, the CPU model (without "CPU @ 2.80GHz"), the hostname, or the arch.
pub fn device_label(ctx: &Context) -> String {
    if let Some(model) = ctx
        .device_model
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        if let Some(rest) = model.strip_prefix("Raspberry Pi") {
            let rest = rest.split(" Rev ").next().unwrap_or("");
            let compact: String = rest
                .split_whitespace()
                .filter(|w| *w != "Model")
                .collect::<String>()
                .to_ascii_lowercase();
            return format!("rpi{compact}");
        }
        return first_words(&slug(model), 3);
    }
    if let Some(cpu) = ctx.cpu_model.as_deref().filter(|c| !c.trim().is_empty()) {
        let cpu = cpu.split(" @ ").next().unwrap_or(cpu).replace(" CPU", " ");
        return first_words(&slug(&cpu), 4);
    }
    if let Some(host) = ctx.hostname.as_deref().map(slug).filter(|h| !h.is_empty()) {
        return host;
    }
    if ctx.arch.is_empty() {
        "device".to_string()
    } else {
        slug(&ctx.arch)
    }
}

fn first_words(slugged: &str, n: usize) -> String {
    let words: Vec<&str> = slugged.split('-').take(n).collect();
    let label = words.join("-");
    if label.is_empty() {
        "device".to_string()
    } else {
        label
    }
}

/// The index in `devices` of the machine `header`'s run was measured on: the device with the
/// same board, CPU, hostname and arch, else a new one with a label no other has.
pub(super) fn device_index(devices: &mut Vec<Device>, header: &Header) -> usize {
    let ctx = &header.context;
    let same = |d: &Device| {
        d.context.device_model == ctx.device_model
            && d.context.cpu_model == ctx.cpu_model
            && d.context.hostname == ctx.hostname
            && d.context.arch == ctx.arch
    };
    if let Some(ix) = devices.iter().position(same) {
        return ix;
    }
    let base = device_label(ctx);
    let taken = |l: &str, devices: &[Device]| devices.iter().any(|d| d.label == l);
    let mut label = base.clone();
    if taken(&label, devices)
        && let Some(host) = ctx.hostname.as_deref().map(slug).filter(|h| !h.is_empty())
    {
        label = format!("{base}-{host}");
    }
    let mut n = 2;
    while taken(&label, devices) {
        label = format!("{base}-{n}");
        n += 1;
    }
    devices.push(Device {
        label,
        context: ctx.clone(),
        events: header.events.clone(),
    });
    devices.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(device_model: Option<&str>, cpu_model: Option<&str>, host: Option<&str>) -> Context {
        Context {
            device_model: device_model.map(String::from),
            cpu_model: cpu_model.map(String::from),
            hostname: host.map(String::from),
            arch: "aarch64".into(),
            ..Context::default()
        }
    }

    #[test]
    fn labels_are_short() {
        let pi = ctx(
            Some("Raspberry Pi 4 Model B Rev 1.4"),
            Some("Cortex-A72"),
            Some("pi"),
        );
        assert_eq!(device_label(&pi), "rpi4b");
        let zero = ctx(Some("Raspberry Pi Zero 2 W Rev 1.0"), None, None);
        assert_eq!(device_label(&zero), "rpizero2w");
        let qemu = ctx(Some("QEMU Standard PC (Q35 + ICH9, 2009)"), None, None);
        assert_eq!(device_label(&qemu), "qemu-standard-pc");
        let x86 = ctx(
            None,
            Some("Intel(R) Core(TM) i7-1165G7 CPU @ 2.80GHz"),
            Some("lap"),
        );
        assert_eq!(device_label(&x86), "intel-core-i7-1165g7");
        assert_eq!(device_label(&ctx(None, None, Some("My Host"))), "my-host");
        assert_eq!(device_label(&ctx(None, None, None)), "aarch64");
    }
}
