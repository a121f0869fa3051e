//! Tables for staff: a header row, and columns aligned by display width, so
//! full-width names (ひかり保育園) line up with ASCII ids.

use unicode_width::UnicodeWidthStr;

use super::output::say;

/// Rows of cells under a header.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The lines, each column padded to its widest cell (the last is not
    /// padded, so no line ends in spaces).
    pub fn lines(&self) -> Vec<String> {
        let all = std::iter::once(&self.header).chain(&self.rows);
        let mut widths = vec![0; self.header.len()];
        for row in all.clone() {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.width());
            }
        }
        all.map(|row| {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if i + 1 < row.len() {
                    let pad = widths[i].saturating_sub(cell.width()) + 2;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            line
        })
        .collect()
    }

    pub fn print(&self) {
        for line in self.lines() {
            say!("{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_names_align_with_ascii_ids() {
        let mut t = Table::new(&["機関", "id"]);
        t.row(vec!["ひかり保育園".into(), "x".into()]);
        t.row(vec!["clinic".into(), "y".into()]);
        let lines = t.lines();
        let col = |l: &str| l[..l.rfind(' ').unwrap() + 1].width();
        assert_eq!(col(&lines[0]), col(&lines[1]));
        assert_eq!(col(&lines[1]), col(&lines[2]));
        assert_eq!(lines[1], "ひかり保育園  x");
    }
}
