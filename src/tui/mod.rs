//! The terminal app: a thin shell over the library. `app` holds state and turns keys into
//! requests, `worker` does all disk and index work on its own thread, `ui` draws.

pub mod app;
pub mod complete;
pub mod keymap;
pub mod theme;
pub mod ui;
pub mod worker;

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event,
};
use ratatui::crossterm::execute;

use app::App;
use theme::Theme;
use worker::{Request, Response};

enum Msg {
    Input(Event),
    Worker(Box<Response>),
    WorkerGone,
}

const TICK: Duration = Duration::from_millis(250);

/// Runs the app on the archive in `dir` until the researcher quits.
pub fn run(dir: PathBuf) -> std::io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let _ = execute!(std::io::stdout(), EnableMouseCapture, EnableBracketedPaste);
    let result = event_loop(&mut terminal, dir);
    let _ = execute!(
        std::io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste
    );
    ratatui::restore();
    result
}

fn event_loop(terminal: &mut ratatui::DefaultTerminal, dir: PathBuf) -> std::io::Result<()> {
    let mut app = App::new(Theme::from_env());
    // The first frame is drawn before the archive is even open.
    terminal.draw(|f| ui::render(f, &mut app))?;

    let (msg_tx, msg_rx) = mpsc::channel::<Msg>();
    let (req_tx, req_rx) = mpsc::channel::<Request>();
    let worker_tx = msg_tx.clone();
    let worker = std::thread::Builder::new()
        .name("fieldnotes-worker".into())
        .spawn(move || {
            worker::run(dir, req_rx, |r| {
                let _ = worker_tx.send(Msg::Worker(Box::new(r)));
            });
            let _ = worker_tx.send(Msg::WorkerGone);
        })?;
    let input_tx = msg_tx;
    std::thread::Builder::new()
        .name("fieldnotes-input".into())
        .spawn(move || {
            while let Ok(ev) = event::read() {
                if input_tx.send(Msg::Input(ev)).is_err() {
                    break;
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
        for r in requests {
            let _ = req_tx.send(r);
        }
        if app.quit {
            break;
        }
        terminal.draw(|f| ui::render(f, &mut app))?;
    }
    // Let the worker finish what was asked (the last draft, a save in flight) before leaving.
    drop(req_tx);
    let _ = worker.join();
    Ok(())
}
