//! `-D` as tcpdump prints it, and `-i N` with the number it prints: libpcap's own device
//! list (`pcap_findalldevs`, the same call and order as tcpdump), so the numbers are the ones
//! `tcpdump -D` shows on this host, `any` included.

use std::io::Write;

use pcap::{ConnectionStatus, Device, IfFlags};

/// libpcap's devices, in its order.
pub fn list() -> Result<Vec<Device>, String> {
    Device::list().map_err(|e| format!("listing interfaces: {e}"))
}

/// One `-D` line without the number: `NAME (DESCRIPTION) [FLAGS]`, tcpdump's format.
fn describe(d: &Device) -> String {
    let mut s = d.name.clone();
    if let Some(desc) = &d.desc {
        s.push_str(&format!(" ({desc})"));
    }
    let f = &d.flags;
    let mut names: Vec<&str> = Vec::new();
    // tcpdump's table order.
    for (bit, name) in [
        (IfFlags::UP, "Up"),
        (IfFlags::RUNNING, "Running"),
        (IfFlags::LOOPBACK, "Loopback"),
        (IfFlags::WIRELESS, "Wireless"),
    ] {
        if f.if_flags.contains(bit) {
            names.push(name);
        }
    }
    if names.is_empty() && f.connection_status == ConnectionStatus::Unknown {
        // All flag bits 0: tcpdump prints no brackets.
        return s;
    }
    let status = if f.if_flags.contains(IfFlags::WIRELESS) {
        match f.connection_status {
            ConnectionStatus::Unknown => Some("Association status unknown"),
            ConnectionStatus::Connected => Some("Associated"),
            ConnectionStatus::Disconnected => Some("Not associated"),
            ConnectionStatus::NotApplicable => None,
        }
    } else {
        match f.connection_status {
            ConnectionStatus::Unknown => Some("Connection status unknown"),
            ConnectionStatus::Connected => Some("Connected"),
            ConnectionStatus::Disconnected => Some("Disconnected"),
            ConnectionStatus::NotApplicable => None,
        }
    };
    let mut text = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    if let Some(st) = status {
        text.push_str(", ");
        text.push_str(st);
    }
    s.push_str(&format!(" [{text}]"));
    s
}

/// Writes the `-D` listing: `N.NAME (DESCRIPTION) [FLAGS]`, numbered from 1 as tcpdump does.
pub fn write_list(out: &mut impl Write) -> Result<(), String> {
    for (i, d) in list()?.iter().enumerate() {
        writeln!(out, "{}.{}", i + 1, describe(d)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `-i N`: the name of device number N of the `-D` list, when no interface is named N.
pub fn resolve_number(arg: &str) -> Result<String, String> {
    let Ok(n) = arg.parse::<usize>() else {
        return Ok(arg.to_string());
    };
    // An interface named N wins, as with tcpdump. Asked of the kernel: /sys may show another
    // network namespace's interfaces (nsenter --net).
    if let Ok(c) = std::ffi::CString::new(arg) {
        // SAFETY: a valid NUL-terminated string.
        if unsafe { libc::if_nametoindex(c.as_ptr()) } != 0 {
            return Ok(arg.to_string());
        }
    }
    let devs = list()?;
    match n.checked_sub(1).and_then(|i| devs.get(i)) {
        Some(d) => Ok(d.name.clone()),
        None => Err(format!(
            "-i {n}: there are {} interfaces (ptcap -D lists them)",
            devs.len()
        )),
    }
}
