//! Rules run read-only: a rule is one SELECT over the rule tables, nothing else.
//!
//! Checked on the parsed statement before planning: exactly one statement, a query (no DDL,
//! DML, COPY, CREATE EXTERNAL TABLE, SET, EXPLAIN, SELECT INTO); relations are plain
//! single-part names (so no file paths or other catalogs); no table functions; no functions
//! that read files; no wall-clock or random functions, because a rule must give the same
//! answer live and in replay (use `clock.now`). Planning then binds names to the registered
//! rule tables only, and `SQLOptions` forbids DDL, DML and statements a second time.

use std::ops::ControlFlow;

use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::ast::{
    Expr, ObjectName, Select, Statement as SqlStatement, TableFactor, Visit, Visitor,
};

use super::RuleFileError;

/// Functions a rule may not call: they read files, or the wall clock, or chance.
const FORBIDDEN_FUNCTIONS: &[&str] = &[
    "read_csv",
    "read_json",
    "read_ndjson",
    "read_parquet",
    "read_avro",
    "read_arrow",
    "parquet_metadata",
    "now",
    "current_timestamp",
    "current_date",
    "current_time",
    "localtime",
    "localtimestamp",
    "today",
    "random",
    "uuid",
];

/// Checks `sql` (the whole rule file: the header is SQL comments) and returns the query.
pub fn check(sql: &str) -> Result<SqlStatement, RuleFileError> {
    let mut statements = DFParser::parse_sql(sql).map_err(|e| parse_error(&e.to_string()))?;
    if statements.len() != 1 {
        return Err(first_line(format!(
            "a rule is exactly one SELECT; found {} statements",
            statements.len()
        )));
    }
    let statement = match statements.pop_front() {
        Some(Statement::Statement(s)) => *s,
        Some(Statement::CreateExternalTable(_)) => return Err(denied("CREATE EXTERNAL TABLE")),
        Some(Statement::CopyTo(_)) => return Err(denied("COPY")),
        Some(Statement::Explain(_)) => return Err(denied("EXPLAIN")),
        Some(Statement::Reset(_)) => return Err(denied("RESET")),
        None => return Err(first_line("the rule has no query".into())),
    };
    if !matches!(statement, SqlStatement::Query(_)) {
        let kind = statement.to_string();
        let kind: String = kind
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        return Err(denied(&kind));
    }
    let mut guard = Guard;
    if let ControlFlow::Break(message) = statement.visit(&mut guard) {
        return Err(first_line(message));
    }
    Ok(statement)
}

fn denied(what: &str) -> RuleFileError {
    first_line(format!(
        "`{what}` is not allowed: a rule is a single read-only SELECT"
    ))
}

fn first_line(message: String) -> RuleFileError {
    RuleFileError { line: 1, message }
}

/// sqlparser reports `... at Line: 12, Column: 5`; keep the line.
fn parse_error(message: &str) -> RuleFileError {
    let line = message
        .split("Line: ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    RuleFileError {
        line,
        message: message.to_owned(),
    }
}

struct Guard;

impl Visitor for Guard {
    type Break = String;

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<String> {
        if select.into.is_some() {
            return ControlFlow::Break("SELECT INTO is not allowed: rules are read-only".into());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<String> {
        let name = relation.to_string();
        let plain = relation.0.len() == 1
            && name
                .trim_matches('"')
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(format!(
                "relation {name} is not allowed: use the rule tables by their plain names"
            ))
        }
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<String> {
        match factor {
            TableFactor::Table { args: None, .. }
            | TableFactor::Derived { .. }
            | TableFactor::NestedJoin { .. } => ControlFlow::Continue(()),
            TableFactor::Table { name, .. } => {
                ControlFlow::Break(format!("table function {name} is not allowed"))
            }
            other => ControlFlow::Break(format!("`{other}` is not allowed in a rule")),
        }
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<String> {
        if let Expr::Function(f) = expr {
            let name = f.name.to_string().to_ascii_lowercase();
            let name = name.trim_matches('"');
            if FORBIDDEN_FUNCTIONS.contains(&name) {
                return ControlFlow::Break(format!(
                    "function {name}() is not allowed in a rule (files, wall clock or chance; \
                     use clock.now for time)"
                ));
            }
        }
        ControlFlow::Continue(())
    }
}
