//! The live view of `veloFlux top` in the terminal (ratatui over crossterm): a table
//! redrawn each second, until `q`, Esc or Ctrl-C.

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Style, Stylize};
use ratatui::widgets::{Block, Paragraph, Row, Table};
use ratatui::{DefaultTerminal, Frame};
use tokio::sync::mpsc;

use super::sample::{Line, Sample};
use super::{HEADERS, REFRESH, cells};
use crate::cli::client::Client;
use crate::cli::error::CliError;

/// What a key press or the terminal asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    Quit,
    Redraw,
}

/// What is on screen.
struct View<'a> {
    server: &'a str,
    lines: Vec<Line>,
    /// Why the last refresh failed, while it does.
    problem: Option<String>,
}

/// Takes over the terminal and shows the view until the user quits; the terminal is given
/// back as it was, whatever happens.
///
/// # Errors
/// When the terminal cannot be drawn on.
pub(super) async fn run(client: &Client, server: &str) -> Result<(), CliError> {
    let mut terminal = ratatui::try_init().map_err(terminal_error)?;
    let result = watch(&mut terminal, client, server).await;
    ratatui::restore();
    result
}

async fn watch(
    terminal: &mut DefaultTerminal,
    client: &Client,
    server: &str,
) -> Result<(), CliError> {
    let mut inputs = read_inputs();
    let mut ticker = tokio::time::interval(REFRESH);
    let mut previous: Option<Sample> = None;
    let mut view = View {
        server,
        lines: Vec::new(),
        problem: None,
    };
    loop {
        tokio::select! {
            _ = ticker.tick() => match Sample::read(client).await {
                Ok(sample) => {
                    view.lines = sample.lines(previous.as_ref());
                    view.problem = None;
                    previous = Some(sample);
                }
                // The server may come back: say so and keep trying.
                Err(error) => view.problem = Some(error.to_string()),
            },
            input = inputs.recv() => if input != Some(Input::Redraw) {
                return Ok(());
            },
        }
        terminal
            .draw(|frame| draw(frame, &view))
            .map_err(terminal_error)?;
    }
}

/// Reads the terminal's events on a thread of their own (crossterm's reads block).
fn read_inputs() -> mpsc::UnboundedReceiver<Input> {
    let (sender, receiver) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        loop {
            let input = match event::read() {
                Ok(Event::Key(key)) if quits(&key) => Input::Quit,
                Ok(Event::Resize(..)) => Input::Redraw,
                Ok(_) => continue,
                Err(_) => Input::Quit,
            };
            if sender.send(input).is_err() || input == Input::Quit {
                return;
            }
        }
    });
    receiver
}

/// `q`, Esc, or Ctrl-C (which a terminal in raw mode delivers as a key).
fn quits(key: &KeyEvent) -> bool {
    let control_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
    key.kind == KeyEventKind::Press
        && (control_c || matches!(key.code, KeyCode::Char('q') | KeyCode::Esc))
}

fn draw(frame: &mut Frame, view: &View) {
    let [body, footer] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(frame.area());
    let rows = view
        .lines
        .iter()
        .map(|line| Row::new(cells(line)).style(Style::new().fg(state_color(&line.state))));
    let widths = [
        Constraint::Min(16),
        Constraint::Length(8),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Fill(1),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(HEADERS).bold())
        .block(Block::bordered().title(format!(" veloFlux top: {} ", view.server)));
    frame.render_widget(table, body);
    let status = match &view.problem {
        Some(problem) => Paragraph::new(format!("error: {problem}")).red(),
        None => Paragraph::new("q quits; refreshed every second").dim(),
    };
    frame.render_widget(status, footer);
}

fn state_color(state: &str) -> Color {
    match state {
        "running" => Color::Green,
        "failed" => Color::Red,
        _ => Color::Gray,
    }
}

fn terminal_error(error: std::io::Error) -> CliError {
    CliError::Local(format!("the terminal: {error}"))
}
