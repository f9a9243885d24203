//! Rules run read-only: a rule is one SELECT over the rule tables, nothing else.
//!
//! Checked on the parsed statement before planning: exactly one statement, a query (no DDL,
//! DML, COPY, CREATE EXTERNAL TABLE, SET, EXPLAIN, SELECT INTO); relations are plain
//! single-part names (so no file paths or other catalogs); no table functions; no functions
//! that read files; no wall-clock or random functions, because a rule must give the same
//! answer live and in replay (use `clock.now`). Planning then binds names to the registered
//! rule tables only, and `SQLOptions` forbids DDL, DML and statements a second time.
//!
//! Functions are an allow-list, not a deny-list: DataFusion folds constant calls while it
//! plans, outside any memory pool, so one `range(1, 300000000)` or `repeat('x', 2e9)` aborted
//! the process at load (issue 19). What is allowed cannot make more data than its inputs
//! hold; no recursive CTE (it can run forever); string literals and the number of relations
//! are bounded.

use std::ops::ControlFlow;

use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::ast::{
    Expr, ObjectName, Query, Select, Statement as SqlStatement, TableFactor, Value, Visit, Visitor,
};

use super::RuleFileError;

/// Functions a rule may not call, with the reason: they read files, or the wall clock, or
/// chance. Named so the error can say why; anything else off the allow-list is refused too.
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

/// Functions a rule may call: none makes more data than its arguments and rows hold.
/// Left out on purpose: `range`, `generate_series`, `repeat`, `lpad`, `rpad`, `replace`,
/// `regexp_replace`, `overlay`, `array_repeat`, `array_resize` (output sized by an argument).
const ALLOWED_FUNCTIONS: &[&str] = &[
    // aggregates
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "mean",
    "median",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "var",
    "var_pop",
    "var_samp",
    "variance",
    "bool_and",
    "bool_or",
    "string_agg",
    "array_agg",
    "approx_distinct",
    "approx_median",
    "approx_percentile_cont",
    "corr",
    "covar",
    "covar_pop",
    "covar_samp",
    "bit_and",
    "bit_or",
    "bit_xor",
    "grouping",
    // window functions
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "nth_value",
    // conditionals
    "coalesce",
    "nullif",
    "nvl",
    "nvl2",
    "ifnull",
    "greatest",
    "least",
    // math
    "abs",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "cbrt",
    "ceil",
    "cos",
    "cosh",
    "cot",
    "degrees",
    "exp",
    "floor",
    "gcd",
    "isnan",
    "iszero",
    "lcm",
    "ln",
    "log",
    "log10",
    "log2",
    "nanvl",
    "pi",
    "pow",
    "power",
    "radians",
    "round",
    "signum",
    "sin",
    "sinh",
    "sqrt",
    "tan",
    "tanh",
    "trunc",
    // strings that are no longer than their arguments together
    "ascii",
    "bit_length",
    "btrim",
    "char_length",
    "character_length",
    "chr",
    "concat",
    "concat_ws",
    "contains",
    "ends_with",
    "initcap",
    "instr",
    "left",
    "length",
    "levenshtein",
    "lower",
    "ltrim",
    "octet_length",
    "position",
    "reverse",
    "right",
    "rtrim",
    "split_part",
    "starts_with",
    "strpos",
    "substr",
    "substring",
    "substr_index",
    "substring_index",
    "to_hex",
    "translate",
    "trim",
    "upper",
    "md5",
    "sha256",
    "regexp_like",
    "regexp_match",
    "regexp_count",
    "string_to_array",
    // time
    "date_part",
    "datepart",
    "date_trunc",
    "datetrunc",
    "date_bin",
    "extract",
    "to_timestamp",
    "to_timestamp_millis",
    "to_timestamp_micros",
    "to_timestamp_nanos",
    "to_timestamp_seconds",
    "from_unixtime",
    "to_unixtime",
    "to_date",
    "to_char",
    "make_date",
    // arrays and structs of the rows' own values
    "make_array",
    "array_length",
    "cardinality",
    "array_has",
    "array_has_all",
    "array_has_any",
    "array_contains",
    "array_position",
    "array_element",
    "array_to_string",
    "array_distinct",
    "array_sort",
    "array_slice",
    "array_min",
    "array_max",
    "unnest",
    "named_struct",
    "struct",
    "get_field",
    "arrow_cast",
    "arrow_typeof",
];

/// Longest string literal in a rule.
pub const MAX_LITERAL_BYTES: usize = 4096;
/// Most relations (table references) one rule may name.
pub const MAX_RELATIONS: usize = 16;

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
    let mut guard = Guard::default();
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

#[derive(Default)]
struct Guard {
    relations: usize,
}

impl Visitor for Guard {
    type Break = String;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<String> {
        if query.with.as_ref().is_some_and(|with| with.recursive) {
            return ControlFlow::Break(
                "WITH RECURSIVE is not allowed: a recursive query can run without end".into(),
            );
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<String> {
        if select.into.is_some() {
            return ControlFlow::Break("SELECT INTO is not allowed: rules are read-only".into());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<String> {
        self.relations += 1;
        if self.relations > MAX_RELATIONS {
            return ControlFlow::Break(format!("a rule may name at most {MAX_RELATIONS} tables"));
        }
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
        match expr {
            Expr::Function(f) => check_function(&f.name),
            Expr::Value(value) => check_literal(&value.value),
            _ => ControlFlow::Continue(()),
        }
    }
}

fn check_function(name: &ObjectName) -> ControlFlow<String> {
    let name = name.to_string().to_ascii_lowercase();
    let name = name.trim_matches('"');
    if FORBIDDEN_FUNCTIONS.contains(&name) {
        return ControlFlow::Break(format!(
            "function {name}() is not allowed in a rule (files, wall clock or chance; \
             use clock.now for time)"
        ));
    }
    if !ALLOWED_FUNCTIONS.contains(&name) {
        return ControlFlow::Break(format!(
            "function {name}() is not allowed in a rule: it is not on the allow-list of \
             functions that cannot make more data than their inputs (rules/sandbox.rs)"
        ));
    }
    ControlFlow::Continue(())
}

fn check_literal(value: &Value) -> ControlFlow<String> {
    // Every kind of literal (quoted, dollar-quoted, numbers, bytes) by its written form.
    let long = value.to_string().len() > MAX_LITERAL_BYTES + 2;
    if long {
        ControlFlow::Break(format!(
            "a literal longer than {MAX_LITERAL_BYTES} bytes is not allowed in a rule"
        ))
    } else {
        ControlFlow::Continue(())
    }
}
