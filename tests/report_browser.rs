//! The HTML report in a real browser: headless Chromium renders the demo's report to a
//! screenshot (the expected size, not blank), to its DOM (every section, the CLI's counts,
//! nobody named without consent) and to PDF, and a page that tries to fetch anything is
//! stopped by the report's Content-Security-Policy. Without Chromium the tests say
//! "skipped: install chromium" and pass, unless FIELDNOTES_REQUIRE_TOOLS=1 (as `.ci/run` sets).

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::TestArchive;

const SECTIONS: [&str; 8] = [
    "Scope and method",
    "Themes",
    "Pain points",
    "Journey",
    "Personas",
    "Measures",
    "Mystery-shop scores",
    "Insights",
];

/// The browser to drive: Debian's `chromium`, or another build of it under its usual names.
fn chromium() -> Option<String> {
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        let found = Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if found {
            return Some(name.to_owned());
        }
    }
    // Says "skipped", or fails under FIELDNOTES_REQUIRE_TOOLS=1.
    common::tool("chromium", "--version", "chromium");
    None
}

/// Runs headless Chromium on `url` with `args`, killed after a minute; its own warnings on
/// stderr (D-Bus, GPU) are left alone.
fn headless(browser: &str, profile: &Path, args: &[String], url: &str) -> Output {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--no-default-browser-check",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    // Read both pipes while it runs, so a large DOM never blocks it.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stdout.read_to_end(&mut b);
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stderr.read_to_end(&mut b);
        b
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("chromium runs") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium took over a minute on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.canonicalize().unwrap().display())
}

/// The demo archive and its report, with `--json`'s answer.
fn demo_report(a: &TestArchive) -> (PathBuf, serde_json::Value) {
    a.ok(&["demo", "--seed-only"]);
    let path = a.path("findings.html");
    let json = a.json(&["report", "-o", path.to_str().unwrap()]);
    (path, json)
}

/// A PNG's size and pixels (8-bit RGB or RGBA, not interlaced), decoded here: width, height,
/// and each pixel as RGBA.
fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<[u8; 4]>) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG signature");
    let (mut width, mut height, mut channels) = (0u32, 0u32, 0usize);
    let mut data = Vec::new();
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind = &bytes[at + 4..at + 8];
        let body = &bytes[at + 8..at + 8 + len];
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(body[0..4].try_into().unwrap());
                height = u32::from_be_bytes(body[4..8].try_into().unwrap());
                assert_eq!(body[8], 8, "8 bits a channel");
                channels = match body[9] {
                    2 => 3,
                    6 => 4,
                    other => panic!("colour type {other}"),
                };
                assert_eq!(body[12], 0, "not interlaced");
            }
            b"IDAT" => data.extend_from_slice(body),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(data.as_slice())
        .read_to_end(&mut raw)
        .expect("the image data inflates");
    let stride = width as usize * channels;
    assert_eq!(raw.len(), (stride + 1) * height as usize);
    // Undo each scanline's filter (None, Sub, Up, Average, Paeth).
    let mut pixels: Vec<u8> = Vec::with_capacity(stride * height as usize);
    let mut previous = vec![0u8; stride];
    for row in raw.chunks(stride + 1) {
        let (filter, line) = (row[0], &row[1..]);
        let mut current = vec![0u8; stride];
        for i in 0..stride {
            let a = if i >= channels {
                current[i - channels]
            } else {
                0
            };
            let b = previous[i];
            let c = if i >= channels {
                previous[i - channels]
            } else {
                0
            };
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((a as u16 + b as u16) / 2) as u8,
                4 => {
                    let p = a as i16 + b as i16 - c as i16;
                    let (pa, pb, pc) = (
                        (p - a as i16).abs(),
                        (p - b as i16).abs(),
                        (p - c as i16).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                other => panic!("filter {other}"),
            };
            current[i] = line[i].wrapping_add(predicted);
        }
        pixels.extend_from_slice(&current);
        previous = current;
    }
    let rgba = pixels
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2], if channels == 4 { p[3] } else { 255 }])
        .collect();
    (width, height, rgba)
}

#[test]
fn the_demo_report_renders_in_chromium_as_the_cli_counts_it() {
    let Some(browser) = chromium() else { return };
    let a = TestArchive::new();
    let (report, json) = demo_report(&a);
    let url = file_url(&report);
    let profile = a.path("chromium");

    // The first screen: 1280×900, and drawn (text and colour, not a blank page).
    let shot = a.path("first-screen.png");
    let out = headless(
        &browser,
        &profile,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,900".into(),
        ],
        &url,
    );
    assert!(
        out.status.success() && shot.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (width, height, pixels) = decode_png(&std::fs::read(&shot).unwrap());
    assert_eq!((width, height), (1280, 900));
    let colours: std::collections::HashSet<[u8; 4]> = pixels.iter().copied().collect();
    let inked = pixels
        .iter()
        .filter(|p| p[..3].iter().any(|&c| c < 200))
        .count();
    assert!(
        colours.len() >= 16,
        "{} colours: a blank page?",
        colours.len()
    );
    assert!(
        inked * 100 >= pixels.len(),
        "{inked} dark pixels of {}: a blank page?",
        pixels.len()
    );
    // The masthead's tint fills the top; the page's white is below it.
    assert_eq!(pixels[1280 * 5 + 5], [0xf3, 0xf5, 0xf8, 255]);
    assert_eq!(pixels[1280 * 880 + 5], [0xff, 0xff, 0xff, 255]);

    // The DOM as the browser built it: every section, the counts the CLI gives.
    let out = headless(&browser, &profile, &["--dump-dom".into()], &url);
    assert!(out.status.success());
    let dom = String::from_utf8(out.stdout).expect("the DOM is UTF-8");
    for (i, title) in SECTIONS.iter().enumerate() {
        let at = dom
            .find(&format!("\">{title}</h2>"))
            .unwrap_or_else(|| panic!("no section {title} in the DOM"));
        if i > 0 {
            let before = dom.find(&format!("\">{}</h2>", SECTIONS[i - 1])).unwrap();
            assert!(before < at, "{title} after {}", SECTIONS[i - 1]);
        }
    }
    let total = a.json(&["search", "--limit", "1"])["total"]
        .as_u64()
        .unwrap();
    let notes = json["notes"].as_u64().unwrap();
    assert_eq!(notes + json["withheld"].as_u64().unwrap(), total);
    assert!(dom.contains(&format!("<strong data-count=\"notes\">{notes}</strong>")));
    let visits = a.json(&["visits"])["visits"].as_u64().unwrap();
    assert!(dom.contains(&format!("data-visits=\"{visits}\"")));
    let themes = dom.matches("<article class=\"theme\"").count();
    assert!((1..=10).contains(&themes), "{themes} themes");
    assert!(dom.contains("<meta http-equiv=\"Content-Security-Policy\""));
    assert_eq!(
        dom.matches("role=\"img\"").count(),
        dom.matches("<svg").count()
    );
    // Rosa gave no consent: her name is nowhere, nor anyone's e-mail address.
    assert!(!dom.contains("Rosa"));
    assert!(!dom.contains("@example.com"));

    // And it prints: a PDF of several pages.
    let pdf = a.path("findings.pdf");
    let out = headless(
        &browser,
        &profile,
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".into(),
        ],
        &url,
    );
    assert!(out.status.success() && pdf.is_file());
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&bytes);
    let pages = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
    assert!(pages >= 3, "{pages} pages");
}

/// A web server for one test: serves `page` at `/report.html` and counts every other
/// request, each of which the page tried to make by itself.
struct Probe {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Probe {
    /// Serves the page `page_for` writes for the probe's port.
    fn serve(page_for: impl FnOnce(u16) -> String) -> Probe {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let page = page_for(port);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, done) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                conn.set_nonblocking(false).unwrap();
                conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&request);
                let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                let response = if path == "/report.html" {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                        page.len()
                    )
                } else {
                    // Not the page's doing: the browser's own guess at an icon, and a
                    // connection it opens ahead to the page's server and closes unused.
                    if path != "/favicon.ico" && !path.is_empty() {
                        count.lock().unwrap().push(path);
                    }
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_owned()
                };
                let _ = conn.write_all(response.as_bytes());
            }
        });
        Probe {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/report.html", self.port)
    }

    /// What the page asked for, once the browser is done.
    fn finish(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        std::mem::take(&mut self.requests.lock().unwrap())
    }
}

/// Markup that fetches in every way a page can: an image, a stylesheet, an import and a
/// background from CSS, a script, a frame, a font.
fn fetching_markup(port: u16) -> String {
    let at = format!("http://127.0.0.1:{port}");
    format!(
        r#"<img src="{at}/leak.png" alt=""><link rel="stylesheet" href="{at}/leak.css"><script src="{at}/leak.js"></script><iframe src="{at}/leak.html"></iframe><style>@import url("{at}/import.css"); @font-face {{ font-family: x; src: url("{at}/font.woff2"); }} body {{ background: url("{at}/leak.gif"); font-family: x; }}</style>"#
    )
}

#[test]
fn the_reports_policy_stops_any_request_in_chromium() {
    let Some(browser) = chromium() else { return };
    let a = TestArchive::new();
    let (report, _) = demo_report(&a);
    let html = std::fs::read_to_string(&report).unwrap();
    let profile = a.path("chromium");
    let policy = "<meta http-equiv=\"Content-Security-Policy\"";
    assert!(html.contains(policy));
    // The page, served by the probe, with markup that asks the probe for more.
    let requests = |keep_policy: bool| -> Vec<String> {
        let page_for = |port: u16| {
            let mut page = html.replacen("<body>", &format!("<body>{}", fetching_markup(port)), 1);
            if !keep_policy {
                let start = page.find(policy).unwrap();
                let end = start + page[start..].find('>').unwrap() + 1;
                page.replace_range(start..end, "");
            }
            page
        };
        let probe = Probe::serve(page_for);
        let out = headless(
            &browser,
            &profile,
            &["--dump-dom".into(), "--virtual-time-budget=3000".into()],
            &probe.url(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dom = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            dom.contains(">Scope and method</h2>"),
            "the page was served"
        );
        probe.finish()
    };
    // Without the policy the same page fetches (so the probe hears a page that tries)…
    let without = requests(false);
    assert!(
        without.len() >= 3,
        "the probe heard {without:?}: it cannot tell"
    );
    // …with it, nothing leaves the page.
    assert_eq!(
        requests(true),
        Vec::<String>::new(),
        "requests despite the policy"
    );
}
