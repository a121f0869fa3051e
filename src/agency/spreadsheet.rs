//! Cells of the CSV files staff open in Excel (the progress ledger, the
//! access log). A cell that begins like a formula (`=`, `+`, `-`, `@`, or a
//! tab or carriage return before one) would be run by the spreadsheet, so
//! text typed by anyone, here or at another agency, is made inert first.

/// `cell`, prefixed with `'` when a spreadsheet would take it for a formula.
pub fn inert(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn a_cell_that_would_run_as_a_formula_is_quoted_and_others_are_kept() {
        assert_eq!(
            inert("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(inert("+1"), "'+1");
        assert_eq!(inert("-2+3"), "'-2+3");
        assert_eq!(inert("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(inert("\t=1"), "'\t=1");
        assert_eq!(inert("家庭訪問 = 週1回"), "家庭訪問 = 週1回");
        assert_eq!(inert(""), "");
    }
}
