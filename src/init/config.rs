//! The settings of an unattended run: `hiddencost.<key>=<value>` words of the kernel command
//! line, then `key = value` lines of `hiddencost.conf` on the card. The measurement's keys are
//! [`Settings`]' (the CLI's flags); the card's own are `serial`, `boot`, `governor`,
//! `poweroff` and `sweep`.

use crate::settings::{SettingError, Settings};

/// Settings of an unattended run. Kernel command line keys are `hiddencost.<key>=<value>`;
/// the same keys, without the prefix, go in `hiddencost.conf` (`key = value`, `#` comments).
#[derive(Debug, Clone, PartialEq)]
pub struct InitConfig {
    /// The measurement (models, runs, events, threads, probe and sweep budgets...).
    pub run: Settings,
    /// Data port, `/dev/ttyS1[@baud]`; `console` for init's own stdout (the kernel console);
    /// `none` for no serial output.
    pub serial: Option<String>,
    /// Block device of the boot partition (FAT) that holds models/ and gets results/; `auto`
    /// finds it, `none` runs without a card.
    pub boot_device: String,
    /// cpufreq governor to set on every policy before measuring; `keep` leaves it alone.
    pub governor: String,
    /// Power off at the end (`hiddencost.poweroff=0` keeps the machine up, for debugging).
    pub poweroff: bool,
    /// Run `hiddencost sweep` over these families instead of the models
    /// (`hiddencost.sweep=all|FAMILY,...`); `None` (the default, or `sweep=none`) runs the models.
    pub sweep: Option<String>,
}

impl Default for InitConfig {
    fn default() -> Self {
        InitConfig {
            run: Settings::default(),
            // The Raspberry Pi 4's header UART (GPIO 14/15) with the mainline device tree.
            serial: Some("/dev/ttyS1".into()),
            boot_device: "auto".into(),
            governor: "performance".into(),
            poweroff: true,
            sweep: None,
        }
    }
}

impl InitConfig {
    /// Applies one `key=value` setting; returns a warning for an unknown key or a bad value
    /// (the setting is then ignored: an unattended run goes on with its defaults).
    pub fn set(&mut self, key: &str, value: &str) -> Option<String> {
        let refused =
            |e: &dyn std::fmt::Display| Some(format!("hiddencost.{key}={value}: {e}; ignored"));
        match key {
            "serial" => self.serial = (value != "none").then(|| value.to_string()),
            "boot" => self.boot_device = value.to_string(),
            "governor" => match value {
                "" => return refused(&"not a governor"),
                v if v.contains(['/', '.']) => return refused(&"not a governor"),
                v => self.governor = v.to_string(),
            },
            "poweroff" => self.poweroff = !matches!(value, "0" | "no" | "false"),
            "sweep" => match value {
                "" | "none" | "0" => self.sweep = None,
                v => match crate::sweep::select(v) {
                    Ok(_) => self.sweep = Some(v.to_string()),
                    Err(e) => return refused(&e),
                },
            },
            // The probe budget's key before it was named as the CLI's flag.
            "probe" => return self.set("probe_budget", value),
            _ => match self.run.set(key, value) {
                Ok(()) => {}
                Err(SettingError::UnknownKey(_)) => {
                    return Some(format!("unknown setting hiddencost.{key}, ignored"));
                }
                Err(e) => return refused(&e),
            },
        }
        None
    }

    /// Applies the `hiddencost.*` words of a kernel command line.
    pub fn apply_cmdline(&mut self, cmdline: &str) -> Vec<String> {
        cmdline
            .split_whitespace()
            .filter_map(|w| w.strip_prefix("hiddencost."))
            .filter_map(|kv| match kv.split_once('=') {
                Some((k, v)) => self.set(k, v),
                None => Some(format!("hiddencost.{kv}: no value, ignored")),
            })
            .collect()
    }

    /// Applies a `hiddencost.conf` file: `key = value` lines, `#` comments.
    pub fn apply_file(&mut self, text: &str) -> Vec<String> {
        text.lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter(|l| !l.is_empty())
            .filter_map(|l| match l.split_once('=') {
                Some((k, v)) => self.set(k.trim().trim_start_matches("hiddencost."), v.trim()),
                None => Some(format!(
                    "hiddencost.conf: `{l}` is not key = value, ignored"
                )),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters;
    use crate::model::Optimize;
    use crate::runner::Schedule;
    use std::time::Duration;

    fn event_names(c: &InitConfig) -> Vec<&str> {
        c.run.events.iter().map(|e| e.name.as_str()).collect()
    }

    #[test]
    fn kernel_command_line() {
        let mut c = InitConfig::default();
        let notes = c.apply_cmdline(
            "console=tty1 root=/dev/ram0 hiddencost.models=zoo:resnet50,zoo:vgg16 \
             hiddencost.runs=7 hiddencost.serial=/dev/ttyS0@921600 hiddencost.optimize=none \
             hiddencost.poweroff=0 hiddencost.bogus=1 hiddencost.runs=x hiddencost.flag",
        );
        assert_eq!(c.run.models, ["zoo:resnet50", "zoo:vgg16"]);
        assert_eq!(c.run.runs, 7, "a bad later value keeps the good one");
        assert_eq!(c.serial.as_deref(), Some("/dev/ttyS0@921600"));
        assert_eq!(c.run.optimize, Optimize::None);
        assert!(!c.poweroff);
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].contains("unknown setting hiddencost.bogus"));
        assert!(notes[1].contains("runs=x"));
        assert!(notes[2].contains("no value"));
    }

    #[test]
    fn config_file_overrides_and_comments() {
        let mut c = InitConfig::default();
        let notes = c.apply_file(
            "# on the card\nruns = 3\nhiddencost.warmup=1  # trailing comment\nserial = none\n\
             events = cycles,r17\nnonsense line\n",
        );
        assert_eq!((c.run.runs, c.run.warmup), (3, 1));
        assert_eq!(c.serial, None);
        assert_eq!(event_names(&c)[..2], ["cycles", "r17"]);
        assert_eq!(notes.len(), 1);
        let notes = c.apply_file("events = cycels");
        assert!(notes[0].contains("unknown event"), "{notes:?}");
        assert_eq!(
            event_names(&c)[..2],
            ["cycles", "r17"],
            "a bad event list keeps the previous one"
        );
    }

    #[test]
    fn defaults_and_card_settings() {
        let c = InitConfig::default();
        assert_eq!(c.serial.as_deref(), Some("/dev/ttyS1"));
        assert_eq!(
            (c.boot_device.as_str(), c.governor.as_str()),
            ("auto", "performance")
        );
        let mut c = InitConfig::default();
        let notes = c.apply_cmdline(
            "hiddencost.governor=ondemand hiddencost.boot=none hiddencost.serial=console \
             hiddencost.governor=../../x",
        );
        assert_eq!(c.governor, "ondemand", "a path-like governor is refused");
        assert_eq!(c.run.threads, 1);
        assert!(c.apply_cmdline("hiddencost.threads=4").is_empty());
        assert_eq!(c.run.threads, 4);
        assert_eq!(
            c.apply_cmdline("hiddencost.threads=0").len(),
            1,
            "0 threads refused"
        );
        assert_eq!(c.run.threads, 4);
        assert_eq!(c.boot_device, "none");
        assert_eq!(c.serial.as_deref(), Some("console"));
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn probe_budget_setting() {
        let mut c = InitConfig::default();
        assert_eq!(c.run.probe_budget, Some(Duration::from_secs(3)));
        assert!(c.apply_cmdline("hiddencost.probe=1.5").is_empty());
        assert_eq!(c.run.probe_budget, Some(Duration::from_millis(1500)));
        for bad in ["-1", "x", "NaN", "1e9"] {
            let notes = c.apply_cmdline(&format!("hiddencost.probe={bad}"));
            assert_eq!(notes.len(), 1, "{bad}: {notes:?}");
        }
        assert_eq!(
            c.run.probe_budget,
            Some(Duration::from_millis(1500)),
            "bad values ignored"
        );
        assert!(c.apply_file("probe = 0").is_empty());
        assert_eq!(c.run.probe_budget, None, "0 skips the probe");
    }

    #[test]
    fn schedule_setting() {
        let mut c = InitConfig::default();
        assert_eq!(c.run.schedule, Schedule::Interleaved);
        assert!(c.apply_cmdline("hiddencost.schedule=separate").is_empty());
        assert_eq!(c.run.schedule, Schedule::Separate);
        assert_eq!(c.apply_file("schedule = sometimes").len(), 1);
        assert_eq!(c.run.schedule, Schedule::Separate, "a bad value is ignored");
        assert!(c.apply_file("schedule = interleaved").is_empty());
        assert_eq!(c.run.schedule, Schedule::Interleaved);
    }

    #[test]
    fn counter_reads_setting() {
        let mut c = InitConfig::default();
        assert_eq!(c.run.counter_reads, counters::ReadMode::Auto);
        assert!(
            c.apply_cmdline("hiddencost.counter_reads=syscall")
                .is_empty()
        );
        assert_eq!(c.run.counter_reads, counters::ReadMode::Syscall);
        assert_eq!(c.apply_file("counter_reads = mrs").len(), 1);
        assert_eq!(
            c.run.counter_reads,
            counters::ReadMode::Syscall,
            "a bad value is ignored"
        );
        assert!(c.apply_file("counter_reads = auto").is_empty());
        assert_eq!(c.run.counter_reads, counters::ReadMode::Auto);
    }

    #[test]
    fn sweep_settings() {
        let mut c = InitConfig::default();
        assert_eq!(c.sweep, None, "the models by default");
        assert!(
            c.apply_cmdline("hiddencost.sweep=merge,shuffle hiddencost.sweep_budget=30")
                .is_empty()
        );
        assert_eq!(c.sweep.as_deref(), Some("merge,shuffle"));
        assert_eq!(c.run.sweep_budget, Some(Duration::from_secs(30)));
        let notes = c.apply_cmdline("hiddencost.sweep=merge,bogus hiddencost.sweep_budget=-1");
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("bogus"), "{notes:?}");
        assert_eq!(
            c.sweep.as_deref(),
            Some("merge,shuffle"),
            "a bad value is ignored"
        );
        assert_eq!(c.run.sweep_budget, Some(Duration::from_secs(30)));
        assert!(c.apply_file("sweep = all").is_empty());
        assert_eq!(c.sweep.as_deref(), Some("all"));
        assert!(c.apply_file("sweep = none").is_empty());
        assert_eq!(c.sweep, None);
    }
}
