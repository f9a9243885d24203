//! Whether a rule is enterprise-local: its hits for an enterprise depend only on that
//! enterprise's rows (and the clock), so a tick can run it over the shards whose rows changed,
//! or whose time came, and keep the other shards' hits.
//!
//! Checked once, on the optimised logical plan, by following where each column comes from:
//! - every scan is of a per-enterprise table, or of the one-row `clock`;
//! - every join matches the enterprise ids of its two sides, or joins the clock's row; every
//!   aggregate groups, and every window partitions, by an enterprise id;
//! - no limit, no `DISTINCT ON`, no constant rows, no subquery left in an expression;
//! - the result's `enterprise_id` is a scanned enterprise id;
//! - `clock.now` only appears compared with a scanned column, give or take a fixed duration
//!   (`offline_at <= now - 60 minutes`). Such a comparison can only change its answer when
//!   the clock passes the column's value plus that duration: a [`Deadline`]. The calendar
//!   columns (`local_date`, ...) change the answer at most when they change.
//! - or `now` is read for a value the rule returns (minutes offline), never to decide which
//!   rows it returns (no filter, join, grouping, window or distinct reads such a value, and
//!   neither the enterprise id nor the subject is one). Its hits then change with the clock,
//!   its set of hits does not: shards with hits are evaluated again at every tick, the
//!   others only when their rows change or a deadline comes.
//!
//! Anything else runs whole, at every tick it is due.

use std::collections::BTreeSet;
use std::fmt;

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchema, JoinType, ScalarValue};
use datafusion::logical_expr::{
    Aggregate, BinaryExpr, Distinct, Expr, Join, LogicalPlan, Operator, Union, Window,
};

use crate::model::EventTime;

/// The one-row table of the tick's time.
const CLOCK: &str = "clock";

/// How a rule can be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Locality {
    /// Over the shards that changed, or whose time came (what it reads of the clock).
    Local(ClockReads),
    /// Over everything, for this reason.
    Whole(String),
}

impl Locality {
    pub fn is_local(&self) -> bool {
        matches!(self, Locality::Local(_))
    }
}

/// When a row makes a local rule's answer change with nothing but the clock moving: at the
/// value of `table.column` plus `offset_ms`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline {
    pub table: String,
    pub column: String,
    pub offset_ms: i64,
}

impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.table, self.column)?;
        match self.offset_ms {
            0 => Ok(()),
            ms if ms > 0 => write!(f, " + {}s", ms / 1000),
            ms => write!(f, " - {}s", -ms / 1000),
        }
    }
}

/// The calendar's steps, finest last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Day,
    Hour,
    Minute,
}

impl Step {
    fn of(column: &str) -> Option<Option<Step>> {
        match column {
            "local_date" | "local_weekday" | "local_day_start" => Some(Some(Step::Day)),
            "local_hour" => Some(Some(Step::Hour)),
            "local_minute_of_day" => Some(Some(Step::Minute)),
            // Fixed for the life of the engine.
            "utc_offset_minutes" => Some(None),
            _ => None,
        }
    }

    fn millis(self) -> i64 {
        match self {
            Step::Day => 86_400_000,
            Step::Hour => 3_600_000,
            Step::Minute => 60_000,
        }
    }
}

/// What a local rule reads of the clock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClockReads {
    pub deadlines: BTreeSet<Deadline>,
    /// The finest calendar step read: the answer may change whenever it does.
    pub calendar: Option<Step>,
    /// A value it returns follows the clock: its hits change at every tick.
    pub values: bool,
}

impl ClockReads {
    /// The calendar period `now` falls in (its local day, hour or minute), when the rule
    /// reads the calendar: a new period can change every shard's answer.
    pub fn period(&self, now: EventTime, utc_offset_minutes: i32) -> Option<i64> {
        let step = self.calendar?;
        let local = now
            .millis()
            .saturating_add(i64::from(utc_offset_minutes) * 60_000);
        Some(local.div_euclid(step.millis()))
    }
}

impl fmt::Display for ClockReads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self.deadlines.iter().map(|d| d.to_string()).collect();
        if let Some(step) = self.calendar {
            parts.push(format!("each local {step:?}").to_lowercase());
        }
        if self.values {
            parts.push("every tick where it has hits (its values follow the clock)".into());
        }
        write!(f, "{}", parts.join(", "))
    }
}

/// The locality of a plan whose scans name tables `per_enterprise` tells apart.
pub fn of(plan: &LogicalPlan, per_enterprise: &dyn Fn(&str) -> bool) -> Locality {
    let mut walk = Walk {
        per_enterprise,
        clock: ClockReads::default(),
    };
    match walk.result(plan) {
        Ok(()) => Locality::Local(walk.clock),
        Err(why) => Locality::Whole(why),
    }
}

/// Where a column's values come from.
#[derive(Clone, Debug, PartialEq)]
enum Origin {
    /// A scanned per-enterprise table's column, unchanged (a minimum or maximum of one is
    /// still one of its values).
    Scanned {
        table: String,
        column: String,
    },
    /// A column of the clock's row.
    Clock(String),
    /// Computed from `now` (not as a deadline): a value that follows the clock.
    Timed,
    Computed,
}

impl Origin {
    fn is_key(&self) -> bool {
        matches!(self, Origin::Scanned { column, .. } if column == "enterprise_id")
    }
}

/// A plan's columns' origins, and whether it is the clock's one row.
struct Shape {
    origins: Vec<Origin>,
    clock_row: bool,
}

impl Shape {
    /// Rows that are not the clock's, `width` columns wide: those past `origins` computed.
    fn computed(mut origins: Vec<Origin>, width: usize) -> Shape {
        origins.resize(width, Origin::Computed);
        Shape {
            origins,
            clock_row: false,
        }
    }
}

struct Walk<'a> {
    per_enterprise: &'a dyn Fn(&str) -> bool,
    clock: ClockReads,
}

/// The inputs an expression's columns resolve against, with their columns' origins.
type Scope<'s> = [(&'s DFSchema, &'s [Origin])];

impl Walk<'_> {
    fn result(&mut self, plan: &LogicalPlan) -> Result<(), String> {
        let shape = self.shape(plan)?;
        let id = plan.schema().index_of_column_by_name(None, "enterprise_id");
        if !id.is_some_and(|i| shape.origins[i].is_key()) {
            return Err("the result's enterprise_id is not a scanned enterprise id".into());
        }
        let fields = plan.schema().fields();
        for (field, origin) in fields.iter().zip(&shape.origins) {
            let timed = match origin {
                Origin::Clock(column) if column == "now" => true,
                Origin::Clock(column) => {
                    self.read_clock(column)?;
                    false
                }
                origin => *origin == Origin::Timed,
            };
            if timed && matches!(field.name().as_str(), "enterprise_id" | "subject") {
                return Err(format!("its `{}` follows the clock", field.name()));
            }
            self.clock.values |= timed;
        }
        Ok(())
    }

    fn shape(&mut self, plan: &LogicalPlan) -> Result<Shape, String> {
        if has_subquery(plan) {
            return Err("a subquery in an expression".into());
        }
        match plan {
            LogicalPlan::TableScan(scan) => {
                self.scan(scan.table_name.table(), &scan.projected_schema)
            }
            LogicalPlan::Filter(filter) => self.passing(&filter.input, [&filter.predicate]),
            LogicalPlan::SubqueryAlias(alias) => self.shape(&alias.input),
            LogicalPlan::Sort(sort) if sort.fetch.is_none() => {
                self.passing(&sort.input, sort.expr.iter().map(|s| &s.expr))
            }
            LogicalPlan::Projection(projection) => {
                let input = self.shape(&projection.input)?;
                let scope = [(projection.input.schema().as_ref(), input.origins.as_slice())];
                let origins = (projection.expr.iter())
                    .map(|e| self.forwarded(e, &scope))
                    .collect::<Result<_, _>>()?;
                Ok(Shape {
                    origins,
                    clock_row: input.clock_row,
                })
            }
            LogicalPlan::Distinct(Distinct::All(input)) => {
                let shape = self.shape(input)?;
                if !shape.origins.iter().any(Origin::is_key) {
                    return Err("DISTINCT over rows without their enterprise id".into());
                }
                if shape.origins.contains(&Origin::Timed) {
                    return Err("DISTINCT over a value that follows the clock".into());
                }
                Ok(shape)
            }
            LogicalPlan::Aggregate(aggregate) => self.aggregate(aggregate),
            LogicalPlan::Window(window) => self.window(window),
            LogicalPlan::Join(join) => self.join(join),
            LogicalPlan::Union(union) => self.union(union),
            other => Err(format!("a {} step", other.display())),
        }
    }

    fn aggregate(&mut self, aggregate: &Aggregate) -> Result<Shape, String> {
        let input = self.shape(&aggregate.input)?;
        let scope = [(aggregate.input.schema().as_ref(), input.origins.as_slice())];
        let mut origins: Vec<Origin> = (aggregate.group_expr.iter())
            .map(|e| self.forwarded(e, &scope))
            .collect::<Result<_, _>>()?;
        if !origins.iter().any(Origin::is_key) {
            return Err("an aggregate not grouped by enterprise id".into());
        }
        if origins.contains(&Origin::Timed) {
            return Err("an aggregate grouped by a value that follows the clock".into());
        }
        for expr in &aggregate.aggr_expr {
            let origin = self.extreme(expr, &scope)?;
            origins.push(origin);
        }
        Ok(Shape::computed(origins, aggregate.schema.fields().len()))
    }

    fn window(&mut self, window: &Window) -> Result<Shape, String> {
        let input = self.shape(&window.input)?;
        let scope = [(window.input.schema().as_ref(), input.origins.as_slice())];
        for expr in &window.window_expr {
            let partitioned = match expr.clone().unalias() {
                Expr::WindowFunction(f) => (f.params.partition_by.iter())
                    .any(|p| origin(p, &scope).is_some_and(Origin::is_key)),
                _ => false,
            };
            if !partitioned {
                return Err("a window not partitioned by enterprise id".into());
            }
            self.uses(expr, &scope)?;
        }
        Ok(Shape::computed(input.origins, window.schema.fields().len()))
    }

    /// A column of a union keeps its origin if every input agrees on it, or is a key if
    /// every input's is.
    fn union(&mut self, union: &Union) -> Result<Shape, String> {
        let mut shapes = Vec::new();
        for input in &union.inputs {
            shapes.push(self.shape(input)?);
        }
        let width = union.schema.fields().len();
        let origins = (0..width)
            .map(|i| {
                let first = &shapes[0].origins[i];
                let same = shapes.iter().all(|s| s.origins[i] == *first);
                let timed = shapes.iter().any(|s| s.origins[i] == Origin::Timed);
                match same || shapes.iter().all(|s| s.origins[i].is_key()) {
                    true => first.clone(),
                    false if timed => Origin::Timed,
                    false => Origin::Computed,
                }
            })
            .collect();
        Ok(Shape::computed(origins, width))
    }

    fn scan(&mut self, table: &str, schema: &DFSchema) -> Result<Shape, String> {
        let clock_row = table == CLOCK;
        if !clock_row && !(self.per_enterprise)(table) {
            return Err(format!("reads `{table}`, which is not per enterprise"));
        }
        let origins = (schema.fields().iter())
            .map(|f| match clock_row {
                true => Origin::Clock(f.name().clone()),
                false => Origin::Scanned {
                    table: table.to_owned(),
                    column: f.name().clone(),
                },
            })
            .collect();
        Ok(Shape { origins, clock_row })
    }

    /// A step that passes its input's rows through, reading `exprs` of them.
    fn passing<'e>(
        &mut self,
        input: &LogicalPlan,
        exprs: impl IntoIterator<Item = &'e Expr>,
    ) -> Result<Shape, String> {
        let shape = self.shape(input)?;
        let scope = [(input.schema().as_ref(), shape.origins.as_slice())];
        for expr in exprs {
            self.uses(expr, &scope)?;
        }
        Ok(shape)
    }

    fn join(&mut self, join: &Join) -> Result<Shape, String> {
        let (left, right) = (self.shape(&join.left)?, self.shape(&join.right)?);
        let scope = [
            (join.left.schema().as_ref(), left.origins.as_slice()),
            (join.right.schema().as_ref(), right.origins.as_slice()),
        ];
        for (l, r) in &join.on {
            self.uses(l, &scope)?;
            self.uses(r, &scope)?;
        }
        if let Some(filter) = &join.filter {
            self.uses(filter, &scope)?;
        }
        let matched = join.on.iter().any(|(l, r)| {
            origin(l, &scope[..1]).is_some_and(Origin::is_key)
                && origin(r, &scope[1..]).is_some_and(Origin::is_key)
        });
        // Joining the clock's one row keeps each row with its own enterprise.
        use JoinType::*;
        let with_clock = (right.clock_row
            && matches!(join.join_type, Inner | Left | LeftSemi | LeftAnti))
            || (left.clock_row && matches!(join.join_type, Inner | Right | RightSemi | RightAnti));
        if !matched && !with_clock {
            return Err("a join that does not match enterprise ids".into());
        }
        let origins: Vec<Origin> = match join.join_type {
            LeftSemi | LeftAnti | LeftMark => left.origins,
            RightSemi | RightAnti => right.origins,
            _ => left.origins.into_iter().chain(right.origins).collect(),
        };
        if origins.len() != join.schema.fields().len() {
            return Err(format!("a {} join", join.join_type));
        }
        Ok(Shape::computed(origins, join.schema.fields().len()))
    }

    /// The origin of a projected or grouped expression: a column (or an alias of one) keeps
    /// its origin; anything else is computed, and reads what it reads.
    fn forwarded(&mut self, expr: &Expr, scope: &Scope<'_>) -> Result<Origin, String> {
        if let Some(origin) = origin(unaliased(expr), scope) {
            return Ok(origin.clone());
        }
        self.value(expr, scope)
    }

    /// The origin of an aggregate: the minimum or maximum of a scanned column is one of its
    /// values.
    fn extreme(&mut self, expr: &Expr, scope: &Scope<'_>) -> Result<Origin, String> {
        if let Expr::AggregateFunction(f) = unaliased(expr) {
            let p = &f.params;
            let plain = p.filter.is_none() && p.args.len() == 1;
            if plain && matches!(f.func.name(), "min" | "max") {
                if let Some(origin @ Origin::Scanned { .. }) = origin(&p.args[0], scope) {
                    return Ok(origin.clone());
                }
            }
        }
        self.value(expr, scope)
    }

    /// Checks how `expr`, which decides rows, reads the clock: `now` only in a comparison
    /// with a scanned column (a deadline), the calendar columns anyhow, no value that
    /// follows the clock.
    fn uses(&mut self, expr: &Expr, scope: &Scope<'_>) -> Result<(), String> {
        match self.value(expr, scope)? {
            Origin::Timed => Err(format!(
                "decides its rows by the clock's `now` other than compared with a scanned \
                 column (give or take a fixed duration): {expr}"
            )),
            _ => Ok(()),
        }
    }

    /// The origin of a computed value: `Timed` if it reads `now` (or a value that follows
    /// it) other than as a deadline, else `Computed`; the calendar columns are noted.
    fn value(&mut self, expr: &Expr, scope: &Scope<'_>) -> Result<Origin, String> {
        let (mut problem, mut timed) = (None, false);
        expr.apply(|e| {
            if let Some(deadline) = deadline(e, scope) {
                self.clock.deadlines.insert(deadline);
                return Ok(TreeNodeRecursion::Jump);
            }
            match e.try_as_col().and_then(|c| resolve(c, scope)) {
                Some(Origin::Timed) => timed = true,
                Some(Origin::Clock(column)) if column == "now" => timed = true,
                Some(Origin::Clock(column)) => {
                    if let Err(why) = self.read_clock(column) {
                        problem = Some(why);
                        return Ok(TreeNodeRecursion::Stop);
                    }
                }
                _ => {}
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .map_err(|e| e.to_string())?;
        match (problem, timed) {
            (Some(why), _) => Err(why),
            (None, true) => Ok(Origin::Timed),
            (None, false) => Ok(Origin::Computed),
        }
    }

    fn read_clock(&mut self, column: &str) -> Result<(), String> {
        match Step::of(column) {
            Some(step) => {
                self.clock.calendar = self.clock.calendar.max(step);
                Ok(())
            }
            None => Err(format!("reads the clock's `{column}`")),
        }
    }
}

/// `column ± d OP now ± d'` (either way round, OP an order, d and d' fixed durations): the
/// deadline at which its answer can change.
fn deadline(expr: &Expr, scope: &Scope<'_>) -> Option<Deadline> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = expr else {
        return None;
    };
    if !matches!(
        op,
        Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq
    ) {
        return None;
    }
    let found = |scanned: &Expr, clock: &Expr| {
        let (column, column_shift) = shifted(scanned)?;
        let Origin::Scanned { table, column } = origin(column, scope)? else {
            return None;
        };
        let (now, now_shift) = shifted(clock)?;
        if !matches!(origin(now, scope)?, Origin::Clock(c) if c == "now") {
            return None;
        }
        // `column + a OP now + b` turns at now = column + a - b.
        Some(Deadline {
            table: table.clone(),
            column: column.clone(),
            offset_ms: column_shift.checked_sub(now_shift)?,
        })
    };
    found(left, right).or_else(|| found(right, left))
}

/// `e`, `e + d` or `e - d` (d a fixed duration): e, and the shift in milliseconds.
fn shifted(expr: &Expr) -> Option<(&Expr, i64)> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = expr else {
        return Some((expr, 0));
    };
    let Expr::Literal(ScalarValue::DurationMillisecond(Some(ms)), _) = right.as_ref() else {
        return None;
    };
    match op {
        Operator::Plus => Some((left, *ms)),
        Operator::Minus => Some((left, ms.checked_neg()?)),
        _ => None,
    }
}

/// The origin of a plain column expression.
fn origin<'s>(expr: &Expr, scope: &'s Scope<'_>) -> Option<&'s Origin> {
    resolve(expr.try_as_col()?, scope)
}

fn resolve<'s>(column: &Column, scope: &'s Scope<'_>) -> Option<&'s Origin> {
    scope
        .iter()
        .find_map(|(schema, origins)| Some(&origins[schema.index_of_column(column).ok()?]))
}

fn unaliased(expr: &Expr) -> &Expr {
    match expr {
        Expr::Alias(alias) => unaliased(&alias.expr),
        other => other,
    }
}

fn has_subquery(plan: &LogicalPlan) -> bool {
    plan.expressions().iter().any(|e| {
        e.exists(|e| {
            Ok(matches!(
                e,
                Expr::ScalarSubquery(_) | Expr::Exists(_) | Expr::InSubquery(_)
            ))
        })
        .unwrap_or(true)
    })
}
