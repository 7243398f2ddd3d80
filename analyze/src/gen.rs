//! Man pages and shell completions from a clap command (both binaries' hidden `--generate`
//! flag; scripts/run.sh installs what it prints).

use std::io::{self, Write};

use clap_complete::Shell;

/// Writes `what` for `cmd`: `man` (a roff man page, section 1), or a completion script for
/// `bash`, `zsh` or `fish`.
pub fn write(mut cmd: clap::Command, what: &str, out: &mut impl Write) -> io::Result<()> {
    // Rendered into memory first: clap_complete panics when its writer fails (a closed pipe).
    let mut buf = Vec::new();
    let shell = match what {
        "man" => {
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            return out.write_all(&buf);
        }
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        other => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{other:?}: man, bash, zsh or fish"),
            ))
        }
    };
    let name = cmd.get_name().to_string();
    clap_complete::generate(shell, &mut cmd, name, &mut buf);
    out.write_all(&buf)
}
