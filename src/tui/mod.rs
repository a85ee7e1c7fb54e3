//! The terminal app: a thin shell over the library. `app` holds state and turns keys into
//! requests, `worker` does all disk and index work on threads of its own, `ui` draws. Each
//! view (its state, keys, answers and drawing) is a module of `views`.

pub mod app;
pub mod complete;
pub mod keymap;
pub mod theme;
pub mod ui;
pub mod views;
pub mod worker;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event,
};
use ratatui::crossterm::execute;

use app::App;
use theme::Palette;
use worker::{Lane, Lanes, Request, Response};

enum Msg {
    Input(Event),
    Worker(Box<Response>),
    WorkerGone,
}

const TICK: Duration = Duration::from_millis(250);

/// What the last panic on a worker thread said, for the message the app shows.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

pub(crate) fn last_panic() -> Option<String> {
    LAST_PANIC.lock().ok().and_then(|mut p| p.take())
}

/// What the app takes from the settings (see `crate::config`), checked before it starts.
#[derive(Debug, Clone)]
pub struct Settings {
    pub palette: Palette,
    pub draft_interval: Duration,
    /// Who codes passages, or why nobody can (said in the app when coding is tried).
    pub coder: Result<String, String>,
}

impl Settings {
    /// The app's settings from the config, and the key table installed; an error is the
    /// config file's line and what is wrong there.
    pub fn from_config(config: &crate::config::Config) -> Result<Settings, (usize, String)> {
        keymap::install(keymap::Keymap::with(&config.keys)?);
        Ok(Settings {
            palette: Palette::with(config.colour, &config.colours)?,
            draft_interval: config.draft_interval,
            coder: config.coder(None).map_err(|e| e.to_string()),
        })
    }
}

/// Runs the app on the archive in `dir` (`key`: an encrypted one's) until the researcher quits.
pub fn run(
    dir: PathBuf,
    key: Option<crate::crypt::ArchiveKey>,
    settings: Settings,
) -> std::io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    install_panic_hook();
    let _ = execute!(std::io::stdout(), EnableMouseCapture, EnableBracketedPaste);
    let result = event_loop(&mut terminal, dir, key, settings);
    leave_terminal();
    result
}

fn leave_terminal() {
    let _ = execute!(
        std::io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste
    );
    ratatui::restore();
}

/// A panic on the app's own thread gives the terminal back whole (mouse and paste modes
/// too) before the message prints; one on a worker thread is kept for the app to show, since
/// printing it would scribble over the screen the app still draws.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    let main = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == main {
            let _ = execute!(
                std::io::stdout(),
                DisableMouseCapture,
                DisableBracketedPaste
            );
            previous(info);
        } else if let Ok(mut last) = LAST_PANIC.lock() {
            let what = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            *last = Some(format!("{what}{at}"));
        }
    }));
}

/// The senders of the three worker lanes.
struct LaneSenders {
    capture: mpsc::Sender<Request>,
    search: mpsc::Sender<Request>,
    analysis: mpsc::Sender<Request>,
}

impl LaneSenders {
    fn send(&self, request: Request) {
        let lane = match request.lane() {
            Lane::Capture => &self.capture,
            Lane::Search => &self.search,
            Lane::Analysis => &self.analysis,
        };
        let _ = lane.send(request);
    }
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    dir: PathBuf,
    key: Option<crate::crypt::ArchiveKey>,
    settings: Settings,
) -> std::io::Result<()> {
    let mut app = App::new(settings.palette);
    app.draft_interval = settings.draft_interval;
    app.coder = settings.coder;
    // The first frame is drawn before the archive is even open.
    terminal.draw(|f| ui::render(f, &mut app))?;

    let (msg_tx, msg_rx) = mpsc::channel::<Msg>();
    let (capture_tx, capture_rx) = mpsc::channel::<Request>();
    let (search_tx, search_rx) = mpsc::channel::<Request>();
    let (analysis_tx, analysis_rx) = mpsc::channel::<Request>();
    let lanes = LaneSenders {
        capture: capture_tx,
        search: search_tx,
        analysis: analysis_tx,
    };
    let worker_tx = msg_tx.clone();
    let archive_dir = dir.clone();
    let worker = std::thread::Builder::new()
        .name("fieldnotes-archive".into())
        .spawn(move || {
            let respond_tx = worker_tx.clone();
            worker::run_unlocked(
                archive_dir,
                key,
                Lanes {
                    capture: capture_rx,
                    search: search_rx,
                    analysis: analysis_rx,
                },
                move |r| {
                    let _ = respond_tx.send(Msg::Worker(Box::new(r)));
                },
            );
            let _ = worker_tx.send(Msg::WorkerGone);
        })?;
    // Paused while an external editor owns the terminal, so no key is read from under it.
    let paused = Arc::new(AtomicBool::new(false));
    let input_paused = paused.clone();
    let input_tx = msg_tx;
    std::thread::Builder::new()
        .name("fieldnotes-input".into())
        .spawn(move || {
            loop {
                if input_paused.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                match event::poll(Duration::from_millis(50)) {
                    Ok(true) => match event::read() {
                        Ok(ev) => {
                            if input_tx.send(Msg::Input(ev)).is_err() {
                                break;
                            }
                        }
                        Err(_) => break,
                    },
                    Ok(false) => {}
                    Err(_) => break,
                }
            }
        })?;

    let mut last_tick = Instant::now();
    loop {
        let mut requests = Vec::new();
        let wait = TICK.saturating_sub(last_tick.elapsed());
        match msg_rx.recv_timeout(wait) {
            Ok(msg) => {
                let mut pending = vec![msg];
                pending.extend(msg_rx.try_iter());
                for msg in pending {
                    match msg {
                        Msg::Input(ev) => requests.extend(app.handle_event(ev)),
                        Msg::Worker(r) => requests.extend(app.handle_response(*r)),
                        Msg::WorkerGone => {
                            if app.fatal.is_none() && !app.quit {
                                app.fatal = Some("the archive worker stopped unexpectedly".into());
                            }
                        }
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if last_tick.elapsed() >= TICK {
            requests.extend(app.tick(Instant::now()));
            last_tick = Instant::now();
        }
        if let Some(text) = app.clipboard.take() {
            copy_to_clipboard(&text);
        }
        if let Some(edit) = app.external.take() {
            let result = edit_externally(terminal, &paused, &dir, &edit.body);
            requests.extend(app.external_edit_done(edit, result));
        }
        for r in requests {
            lanes.send(r);
        }
        if app.quit {
            break;
        }
        terminal.draw(|f| ui::render(f, &mut app))?;
    }
    // Let the workers finish what was asked (the last draft, a save in flight) before leaving.
    drop(lanes);
    let _ = worker.join();
    Ok(())
}

/// Puts text on the clipboard with the terminal's OSC 52 sequence: it works over SSH and in
/// tmux (with `set-clipboard on`), where no local clipboard library could reach.
fn copy_to_clipboard(text: &str) {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = std::io::stdout();
    let _ = write!(out, "\x1b]52;c;{encoded}\x07");
    let _ = out.flush();
}

/// Hands the terminal to `$VISUAL` or `$EDITOR` (else `vi`) on a private temporary file in
/// the archive's folder holding `body`, and returns what the file holds when it exits.
fn edit_externally(
    terminal: &mut ratatui::DefaultTerminal,
    paused: &AtomicBool,
    dir: &Path,
    body: &str,
) -> Result<String, String> {
    paused.store(true, Ordering::SeqCst);
    // The input thread may be inside a 50 ms poll: let it see the flag.
    std::thread::sleep(Duration::from_millis(80));
    leave_terminal();
    let result = run_editor(dir, body);
    let reentered = ratatui::crossterm::terminal::enable_raw_mode()
        .and_then(|()| {
            execute!(
                std::io::stdout(),
                ratatui::crossterm::terminal::EnterAlternateScreen,
                EnableMouseCapture,
                EnableBracketedPaste
            )
        })
        .and_then(|()| terminal.clear());
    paused.store(false, Ordering::SeqCst);
    reentered.map_err(|e| format!("cannot take the terminal back: {e}"))?;
    result
}

fn run_editor(dir: &Path, body: &str) -> Result<String, String> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    let mut file = tempfile::Builder::new()
        .prefix(".note-")
        .suffix(".md")
        .tempfile_in(crate::crypt::scratch_dir(dir)?)
        .map_err(|e| format!("cannot make a file for the editor: {e}"))?;
    file.write_all(body.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|e| format!("cannot write the file for the editor: {e}"))?;
    // The editor command may carry its own arguments (`code --wait`).
    let mut words = editor.split_whitespace();
    let program = words.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(words)
        .arg(file.path())
        .status()
        .map_err(|e| format!("cannot start the editor {editor:?}: {e}"))?;
    if !status.success() {
        return Err(format!(
            "the editor {editor:?} failed ({status}): nothing changed"
        ));
    }
    let text = std::fs::read_to_string(file.path())
        .map_err(|e| format!("cannot read back what the editor wrote: {e}"))?;
    Ok(text.trim_end_matches('\n').to_owned())
}
