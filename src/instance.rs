//! Which server instance this is: `server.instance_id`, or one derived from the host name and
//! the data directory, stable across restarts. It is part of every default client id, so two
//! instances running the same specs (scale-out on a broker's shared subscriptions, a rolling
//! restart) never take each other's broker sessions.

use std::path::Path;

/// The longest instance id.
const MAX_LEN: usize = 64;

/// The instance id: `configured`, or derived from this host and `data_dir`.
///
/// # Errors
/// A configured id that is empty, too long, or holds a character other than letters,
/// digits, `_`, `-` and `.`.
pub fn instance_id(configured: Option<&str>, data_dir: &Path) -> Result<String, String> {
    let Some(id) = configured else {
        return Ok(derived(&host_name(), data_dir));
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if id.is_empty() || id.len() > MAX_LEN || !id.chars().all(allowed) {
        return Err(format!(
            "server.instance_id '{id}' must be 1 to {MAX_LEN} letters, digits, '_', '-' or '.'"
        ));
    }
    Ok(id.to_owned())
}

/// Eight hex digits of a hash of `host` and the absolute `data_dir`: the same on every start,
/// different for another directory or another machine.
fn derived(host: &str, data_dir: &Path) -> String {
    let dir = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let key = format!("{host}\0{}", dir.display());
    format!("{:08x}", fnv1a(key.as_bytes()) as u32)
}

/// The FNV-1a hash: small, and the same in every build (unlike std's hasher).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The machine's host name; `localhost` when it cannot be read.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_derived_id_is_stable_and_tells_directories_and_hosts_apart() {
        let a = derived("gw-1", Path::new("/var/lib/veloflux"));
        assert_eq!(a, derived("gw-1", Path::new("/var/lib/veloflux")));
        assert_eq!(a.len(), 8);
        assert_ne!(a, derived("gw-1", Path::new("/var/lib/veloflux-2")));
        assert_ne!(a, derived("gw-2", Path::new("/var/lib/veloflux")));
    }

    #[test]
    fn a_configured_id_is_kept_when_it_fits_a_client_id() {
        assert_eq!(
            instance_id(Some("edge-7"), Path::new(".")).unwrap(),
            "edge-7"
        );
        let error = instance_id(Some("a b"), Path::new(".")).unwrap_err();
        assert!(
            error.starts_with("server.instance_id 'a b' must be"),
            "{error}"
        );
        assert!(instance_id(Some(""), Path::new(".")).is_err());
    }
}
