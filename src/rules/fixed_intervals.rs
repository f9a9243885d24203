//! An optimizer rule for the rules' plans: `ts ± INTERVAL '30 minutes'`, on the tables' UTC
//! timestamps, becomes `ts ± 30 minutes` as a duration. Arrow adds an interval to a zoned
//! timestamp through the calendar (per row: to a local date-time and back); a duration is
//! one integer addition. For an interval without months, in UTC, both give the same instant.
//! Nearly every rule compares a time with `clock.now` less a fixed interval, on every row.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

const MS_PER_DAY: i64 = 86_400_000;

#[derive(Debug, Default)]
pub struct FixedIntervals;

impl OptimizerRule for FixedIntervals {
    fn name(&self) -> &str {
        "vigil_fixed_intervals"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        if plan.inputs().is_empty() {
            return Ok(Transformed::no(plan));
        }
        let schema = merge_schema(&plan.inputs());
        // The expressions' names are the plan's column names: they must not change.
        let names = NamePreserver::new(&plan);
        plan.map_expressions(|expr| {
            let name = names.save(&expr);
            let rewritten = expr.transform_up(|e| as_duration(e, &schema))?;
            Ok(Transformed::new_transformed(
                name.restore(rewritten.data),
                rewritten.transformed,
            ))
        })
    }
}

/// `ts ± interval` with the interval as a duration, when that is the same instant.
fn as_duration(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &expr else {
        return Ok(Transformed::no(expr));
    };
    let millis = match right.as_ref() {
        Expr::Literal(ScalarValue::IntervalMonthDayNano(Some(interval)), _)
            if matches!(op, Operator::Plus | Operator::Minus) && interval.months == 0 =>
        {
            fixed_millis(interval.days, interval.nanoseconds)
        }
        _ => None,
    };
    let Some(millis) = millis.filter(|_| is_utc_millis(left, schema)) else {
        return Ok(Transformed::no(expr));
    };
    let duration = Expr::Literal(ScalarValue::DurationMillisecond(Some(millis)), None);
    Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
        left.clone(),
        *op,
        Box::new(duration),
    ))))
}

/// Days and nanoseconds as whole milliseconds (days are 24 h in UTC), if they are.
fn fixed_millis(days: i32, nanos: i64) -> Option<i64> {
    if nanos % 1_000_000 != 0 {
        return None;
    }
    i64::from(days)
        .checked_mul(MS_PER_DAY)?
        .checked_add(nanos / 1_000_000)
}

fn is_utc_millis(expr: &Expr, schema: &DFSchema) -> bool {
    match expr.get_type(schema) {
        Ok(DataType::Timestamp(TimeUnit::Millisecond, Some(tz))) => {
            matches!(tz.as_ref(), "UTC" | "+00:00" | "Z")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, RecordBatch, TimestampMillisecondArray};
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

    use super::*;

    const QUERY: &str =
        "SELECT ts - INTERVAL '1 day 2 hours' AS a, ts + INTERVAL '30 minutes' AS b, \
        ts - INTERVAL '1 month' AS c, ts FROM t WHERE ts > ts - INTERVAL '90 seconds'";

    async fn run(optimised: bool) -> (Vec<String>, String) {
        let ctx = SessionContext::new();
        if optimised {
            ctx.add_optimizer_rule(Arc::new(FixedIntervals));
        }
        let ts: ArrayRef = Arc::new(
            TimestampMillisecondArray::from(vec![Some(0), Some(1_583_020_800_123), None])
                .with_timezone("UTC"),
        );
        let batch = RecordBatch::try_from_iter([("ts", ts)]).unwrap();
        let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).unwrap();
        ctx.register_table("t", Arc::new(table)).unwrap();
        let frame = ctx.sql(QUERY).await.unwrap();
        let plan = format!(
            "{}",
            frame
                .clone()
                .into_optimized_plan()
                .unwrap()
                .display_indent()
        );
        let mut shown = Vec::new();
        for batch in frame.collect().await.unwrap() {
            for column in batch.columns() {
                let f = ArrayFormatter::try_new(column, &FormatOptions::default()).unwrap();
                shown.extend((0..batch.num_rows()).map(|i| f.value(i).to_string()));
            }
        }
        (shown, plan)
    }

    #[tokio::test]
    async fn fixed_intervals_become_durations_with_the_same_results() {
        let (plain, plain_plan) = run(false).await;
        let (fixed, fixed_plan) = run(true).await;
        assert_eq!(fixed, plain, "the same instants");
        assert!(!plain_plan.contains("DurationMillisecond"));
        assert_eq!(
            fixed_plan.matches("DurationMillisecond").count(),
            3,
            "every fixed interval, not the month: {fixed_plan}"
        );
        assert!(
            fixed_plan.contains("IntervalMonthDayNano"),
            "the month stays"
        );
    }

    #[test]
    fn only_whole_milliseconds_are_fixed() {
        assert_eq!(fixed_millis(0, 30 * 60 * 1_000_000_000), Some(1_800_000));
        assert_eq!(fixed_millis(2, 0), Some(2 * MS_PER_DAY));
        assert_eq!(fixed_millis(0, 1), None, "below the tables' resolution");
        assert_eq!(fixed_millis(i32::MAX, i64::MAX), None, "overflow");
    }
}
