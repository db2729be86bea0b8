//! Running the real binary.

use std::path::Path;
use std::process::{Command, Output};

/// The binary, run in `cwd`. A PostgreSQL store's audit trail goes under
/// `cwd` (by the database's name), not the user's home directory.
pub fn command(cwd: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wherry"));
    c.args(args).current_dir(cwd);
    if let Some(url) = args
        .windows(2)
        .find(|w| w[0] == "--database" && w[1].starts_with("postgres"))
        .map(|w| w[1])
    {
        let name: String = url
            .rsplit('/')
            .next()
            .unwrap_or("pg")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        c.env("WHERRY_AUDIT_DIR", cwd.join(format!("audit-{name}")));
    }
    c
}

/// Runs `wherry` with `args` in `cwd`.
pub fn wherry(cwd: &Path, args: &[&str]) -> Output {
    command(cwd, args).output().expect("the wherry binary runs")
}

/// Runs `wherry` with `args` in `dir`, which must succeed; its output.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let o = wherry(dir, args);
    assert!(o.status.success(), "wherry {args:?}: {}", stderr(&o));
    stdout(&o)
}

/// The shipped manifest of `source` (`examples/sources/SOURCE.toml`).
pub fn manifest(source: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/sources")
        .join(format!("{source}.toml"))
        .display()
        .to_string()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every file below `dir`, relative path → bytes, sorted.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A `wherry serve` running on a free loopback port; stopped with SIGTERM
/// when dropped.
pub struct Server {
    child: std::process::Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Server {
    /// Starts `wherry serve` with `args` and waits for its "Serving" line.
    pub fn start(cwd: &Path, args: &[&str]) -> Self {
        use std::io::BufRead;
        let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut child = command(cwd, &all)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the wherry binary runs");
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("wherry serve prints where it listens before exiting")
                .unwrap();
            if let Some(rest) = line.strip_prefix("Serving the Wherry API on http://") {
                break rest.split('/').next().unwrap().to_string();
            }
        };
        Self { child, addr }
    }

    /// One HTTP/1.1 request: (status, body).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let (status, _, body) = self.exchange(method, path, headers, body);
        (status, body)
    }

    /// One HTTP/1.1 request: (status, response head, body).
    pub fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String, String) {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8(raw).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        let chunked = head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        (
            status,
            head.to_string(),
            if chunked {
                dechunk(body)
            } else {
                body.to_string()
            },
        )
    }

    /// Stops the server with SIGTERM and waits: true if it exited cleanly.
    pub fn stop(mut self) -> bool {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let ok = self.child.wait().unwrap().success();
        std::mem::forget(self);
        ok
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}
