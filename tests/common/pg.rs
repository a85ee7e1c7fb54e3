//! A throwaway PostgreSQL cluster for the sync tests and benchmark: Debian's server binaries
//! (`apt-get install postgresql`), a data folder in a temporary folder, listening on a free
//! port of 127.0.0.1 with its socket in that folder, run as `nobody` when we are root (the
//! server refuses to run as root), stopped when dropped. Without the binaries, `start` says
//! "skipped" and returns `None`, unless FIELDNOTES_REQUIRE_TOOLS=1, when it fails.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Postgres {
    _tmp: tempfile::TempDir,
    bin: PathBuf,
    data: PathBuf,
    as_nobody: bool,
    pub port: u16,
}

/// The newest installed server's `bin` folder.
fn server_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Postgres {
    pub fn start() -> Option<Postgres> {
        Postgres::start_with(false)
    }

    /// A cluster that also offers TLS, with a self-signed certificate for `localhost` (not for
    /// 127.0.0.1): [`Postgres::root_cert`] is what a client checks it against.
    pub fn start_tls() -> Option<Postgres> {
        Postgres::start_with(true)
    }

    /// The certificate a TLS cluster's server presents (its own root).
    pub fn root_cert(&self) -> PathBuf {
        self.dir().join("server.crt")
    }

    fn start_with(tls: bool) -> Option<Postgres> {
        let Some(bin) = server_bin() else {
            let required = std::env::var("FIELDNOTES_REQUIRE_TOOLS").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "PostgreSQL is required here (FIELDNOTES_REQUIRE_TOOLS=1): apt-get install postgresql"
            );
            eprintln!("skipped: install postgresql (apt-get install postgresql) to run this check");
            return None;
        };
        let tmp = tempfile::tempdir().expect("temp dir");
        let as_nobody = is_root();
        if as_nobody {
            let status = Command::new("chown")
                .arg("nobody")
                .arg(tmp.path())
                .status()
                .expect("chown runs");
            assert!(status.success(), "cannot give the temp dir to nobody");
        }
        let data = tmp.path().join("data");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let pg = Postgres {
            bin,
            data,
            as_nobody,
            port,
            _tmp: tmp,
        };
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data.to_string_lossy(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60",
            pg.port,
            pg.dir().display()
        );
        if tls {
            // Made by the server's own user, so the key is its own (the server checks).
            pg.run_program(
                Path::new("openssl"),
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "1",
                    "-subj",
                    "/CN=localhost",
                    "-addext",
                    "subjectAltName=DNS:localhost",
                    "-keyout",
                    "server.key",
                    "-out",
                    "server.crt",
                ],
            );
            pg.run_program(Path::new("chmod"), &["600", "server.key"]);
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={0}/server.crt -c ssl_key_file={0}/server.key",
                pg.dir().display()
            ));
        }
        let log = pg.dir().join("server.log");
        pg.run(
            "pg_ctl",
            &[
                "-D",
                &pg.data.to_string_lossy(),
                "-o",
                &options,
                "-l",
                &log.to_string_lossy(),
                "-w",
                "start",
            ],
        );
        Some(pg)
    }

    fn dir(&self) -> &Path {
        self._tmp.path()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        self.run_program(&self.bin.join(tool), args);
    }

    /// Runs a program in the cluster's folder as the server's user.
    fn run_program(&self, program: &Path, args: &[&str]) {
        let tool = program.display();
        let output = if self.as_nobody {
            Command::new("runuser")
                .args(["-u", "nobody", "--"])
                .arg(program)
                .args(args)
                .current_dir(self.dir())
                .output()
        } else {
            Command::new(program)
                .args(args)
                .current_dir(self.dir())
                .output()
        }
        .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
        assert!(
            output.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// A URL for `login` (trust authentication: any login the cluster has gets in).
    pub fn url(&self, login: &str) -> String {
        format!("postgres://{login}@127.0.0.1:{}/postgres", self.port)
    }

    /// A connection as the cluster's superuser.
    pub fn admin(&self) -> postgres::Client {
        self.connect("postgres")
    }

    pub fn connect(&self, login: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(login), postgres::NoTls).expect("connects")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data.to_string_lossy().into_owned();
        let program = self.bin.join("pg_ctl");
        let args = ["-D", data.as_str(), "-m", "immediate", "-w", "stop"];
        let _ = if self.as_nobody {
            Command::new("runuser")
                .args(["-u", "nobody", "--"])
                .arg(&program)
                .args(args)
                .current_dir(self.dir())
                .output()
        } else {
            Command::new(&program).args(args).output()
        };
    }
}
