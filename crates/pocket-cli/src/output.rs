//! How results are shown: aligned fields and tables with a little colour for people, or JSON
//! for scripts. Colour only on a terminal, never when NO_COLOR is set (unless `--color always`).

use std::ffi::OsString;
use std::io::{IsTerminal, Write};

use serde_json::{Map, Value};

use crate::cli::ColorChoice;

/// A colour for a piece of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Warn,
    Bad,
    Quiet,
    Strong,
}

impl Tone {
    fn ansi(self) -> &'static str {
        match self {
            Tone::Good => "32",
            Tone::Warn => "33",
            Tone::Bad => "31",
            Tone::Quiet => "2",
            Tone::Strong => "1",
        }
    }

    /// The tone of an invoice state's name: paid good, pending-like waiting, the rest bad.
    pub fn of_state(state: &pocket_core::InvoiceState) -> Tone {
        use pocket_core::InvoiceState;
        match state {
            InvoiceState::Paid => Tone::Good,
            InvoiceState::Pending | InvoiceState::Processing | InvoiceState::Processed | InvoiceState::Unknown(_) => {
                Tone::Warn
            }
            _ => Tone::Bad,
        }
    }
}

/// Where results go, and how.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
    colour: bool,
    choice: ColorChoice,
}

/// Whether to colour: `always` and `never` are obeyed; `auto` colours a terminal unless
/// NO_COLOR is set to anything but the empty string (no-color.org).
pub fn colour_wanted(choice: ColorChoice, no_color: Option<OsString>, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && no_color.is_none_or(|value| value.is_empty()),
    }
}

impl Output {
    pub fn new(json: bool, choice: ColorChoice) -> Output {
        let colour = !json && colour_wanted(choice, std::env::var_os("NO_COLOR"), std::io::stdout().is_terminal());
        Output { json, colour, choice }
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    /// `text` in `tone`, when colouring.
    pub fn paint(&self, text: &str, tone: Tone) -> String {
        if self.colour { format!("\x1b[{}m{text}\x1b[0m", tone.ansi()) } else { text.to_owned() }
    }

    /// `text` in red for standard error, when standard error is a terminal that takes colour.
    pub fn paint_err(&self, text: &str) -> String {
        let wanted = colour_wanted(self.choice, std::env::var_os("NO_COLOR"), std::io::stderr().is_terminal());
        if wanted { format!("\x1b[31m{text}\x1b[0m") } else { text.to_owned() }
    }

    /// A line for people (nothing in JSON mode, where only the result is printed).
    pub fn say(&self, line: &str) {
        if !self.json {
            emit(line);
        }
    }

    /// Prints a record: `label  value` lines, or its JSON.
    pub fn record(&self, record: &Record) {
        if self.json {
            print_json(&record.json());
            return;
        }
        let width = record.fields.iter().map(|f| f.label.chars().count()).max().unwrap_or(0);
        for field in &record.fields {
            let padding = " ".repeat(width - field.label.chars().count());
            let value = text_of(&field.value);
            let value = match field.tone {
                Some(tone) => self.paint(&value, tone),
                None => value,
            };
            emit(&format!("{}{padding}  {value}", self.paint(field.label, Tone::Quiet)));
        }
    }

    /// Prints a table with a header row, or its JSON.
    pub fn table(&self, table: &Table) {
        if self.json {
            print_json(&table.json);
            return;
        }
        if table.rows.is_empty() {
            emit(&self.paint("(none)", Tone::Quiet));
            return;
        }
        let widths: Vec<usize> = (0..table.headers.len())
            .map(|column| {
                let cells = table.rows.iter().map(|row| row[column].chars().count());
                cells.chain([table.headers[column].len()]).max().unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<String>| {
            let padded: Vec<String> =
                cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
            padded.join("  ").trim_end().to_owned()
        };
        emit(&self.paint(&line(table.headers.iter().map(|h| h.to_string()).collect()), Tone::Strong));
        for row in &table.rows {
            emit(&line(row.clone()));
        }
    }
}

fn print_json(value: &Value) {
    emit(&serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}

/// One line to standard output. A closed pipe (`pocket … | head -1`) is not worth a panic,
/// which `println!` would raise.
pub fn emit(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// A value as people read it: text without quotes, nothing as `—`.
fn text_of(value: &Value) -> String {
    match value {
        Value::Null => "—".to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Named values shown as aligned lines, or as one JSON object.
#[derive(Debug, Default)]
pub struct Record {
    fields: Vec<Field>,
    json: Option<Value>,
}

#[derive(Debug)]
struct Field {
    key: &'static str,
    label: &'static str,
    value: Value,
    tone: Option<Tone>,
}

impl Record {
    pub fn new() -> Record {
        Record::default()
    }

    /// A field: `key` in JSON, `label` for people.
    pub fn field(mut self, key: &'static str, label: &'static str, value: impl Into<Value>) -> Record {
        self.fields.push(Field { key, label, value: value.into(), tone: None });
        self
    }

    /// A field shown in a colour.
    pub fn toned(mut self, key: &'static str, label: &'static str, value: impl Into<Value>, tone: Tone) -> Record {
        self.fields.push(Field { key, label, value: value.into(), tone: Some(tone) });
        self
    }

    /// Prints `value` in JSON mode instead of the fields (such as Pocket's whole answer).
    pub fn json_as(mut self, value: Value) -> Record {
        self.json = Some(value);
        self
    }

    fn json(&self) -> Value {
        self.json.clone().unwrap_or_else(|| {
            Value::Object(self.fields.iter().map(|f| (f.key.to_owned(), f.value.clone())).collect::<Map<_, _>>())
        })
    }
}

/// Rows under a header, or a JSON array.
#[derive(Debug)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    json: Value,
}

impl Table {
    /// A table of `headers`; `json` is what `--json` prints.
    pub fn new(headers: Vec<&'static str>, json: Value) -> Table {
        Table { headers, rows: Vec::new(), json }
    }

    /// One row: a text per header.
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.headers.len());
        self.rows.push(cells);
    }
}

/// A serializable value as JSON (Pocket's answers serialize without secrets).
pub fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_choice_the_terminal_and_no_color() {
        assert!(colour_wanted(ColorChoice::Auto, None, true));
        assert!(!colour_wanted(ColorChoice::Auto, None, false), "a pipe gets no colour");
        assert!(!colour_wanted(ColorChoice::Auto, Some("1".into()), true), "NO_COLOR turns it off");
        assert!(colour_wanted(ColorChoice::Auto, Some("".into()), true), "an empty NO_COLOR is unset");
        assert!(colour_wanted(ColorChoice::Always, Some("1".into()), false));
        assert!(!colour_wanted(ColorChoice::Never, None, true));
    }

    #[test]
    fn values_read_as_text() {
        assert_eq!(text_of(&Value::Null), "—");
        assert_eq!(text_of(&Value::from("paid")), "paid");
        assert_eq!(text_of(&Value::from(7001)), "7001");
    }
}
