//! Whether a rule is enterprise-local: its hits for an enterprise depend only on that
//! enterprise's rows, so a tick can run it over the shards whose rows changed and keep the
//! other shards' hits.
//!
//! Checked once, on the optimised logical plan, by following where each column's enterprise
//! id comes from:
//! - every scan is of a per-enterprise table (a rule reading the clock, the regions or the
//!   warnings can change while its enterprises do not);
//! - every join matches the enterprise ids of its two sides; every aggregate groups, and
//!   every window partitions, by an enterprise id;
//! - no limit, no `DISTINCT ON`, no constant rows, no subquery left in an expression;
//! - the result's `enterprise_id` is a scanned enterprise id.
//!
//! Anything else runs whole, at every tick it is due.

use datafusion::common::tree_node::TreeNode;
use datafusion::common::{Column, DFSchema, JoinType};
use datafusion::logical_expr::{Distinct, Expr, LogicalPlan};

/// How a rule can be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Locality {
    /// Over the changed shards only.
    Local,
    /// Over everything, for this reason.
    Whole(String),
}

/// The locality of a plan whose scans name tables `per_enterprise` tells apart.
pub fn of(plan: &LogicalPlan, per_enterprise: &dyn Fn(&str) -> bool) -> Locality {
    let keys = match enterprise_keys(plan, per_enterprise) {
        Ok(keys) => keys,
        Err(why) => return Locality::Whole(why),
    };
    let result = plan.schema();
    match result.index_of_column_by_name(None, "enterprise_id") {
        Some(i) if keys[i] => Locality::Local,
        _ => Locality::Whole("the result's enterprise_id is not a scanned enterprise id".into()),
    }
}

/// Per output column of `plan`: whether it holds the enterprise id of the rows it came from.
/// An error says why the plan is not local.
fn enterprise_keys(
    plan: &LogicalPlan,
    per_enterprise: &dyn Fn(&str) -> bool,
) -> Result<Vec<bool>, String> {
    let has_subquery = plan.expressions().iter().any(|e| {
        e.exists(|e| {
            Ok(matches!(
                e,
                Expr::ScalarSubquery(_) | Expr::Exists(_) | Expr::InSubquery(_)
            ))
        })
        .unwrap_or(true)
    });
    if has_subquery {
        return Err("a subquery in an expression".into());
    }
    let keys = |input: &LogicalPlan| enterprise_keys(input, per_enterprise);
    match plan {
        LogicalPlan::TableScan(scan) => {
            let table = scan.table_name.table();
            if !per_enterprise(table) {
                return Err(format!("reads `{table}`, which is not per enterprise"));
            }
            Ok(names_are_ids(scan.projected_schema.as_ref()))
        }
        LogicalPlan::Filter(filter) => keys(&filter.input),
        LogicalPlan::SubqueryAlias(alias) => keys(&alias.input),
        LogicalPlan::Sort(sort) if sort.fetch.is_none() => keys(&sort.input),
        LogicalPlan::Projection(projection) => {
            let input = keys(&projection.input)?;
            let schema = projection.input.schema();
            Ok(projection
                .expr
                .iter()
                .map(|e| is_key(e, schema, &input))
                .collect())
        }
        LogicalPlan::Distinct(Distinct::All(input)) => {
            let input_keys = keys(input)?;
            if !input_keys.contains(&true) {
                return Err("DISTINCT over rows without their enterprise id".into());
            }
            Ok(input_keys)
        }
        LogicalPlan::Aggregate(aggregate) => {
            let input = keys(&aggregate.input)?;
            let schema = aggregate.input.schema();
            let groups: Vec<bool> = aggregate
                .group_expr
                .iter()
                .map(|e| is_key(e, schema, &input))
                .collect();
            if !groups.contains(&true) {
                return Err("an aggregate not grouped by enterprise id".into());
            }
            let mut out = groups;
            out.resize(aggregate.schema.fields().len(), false);
            Ok(out)
        }
        LogicalPlan::Window(window) => {
            let input = keys(&window.input)?;
            let schema = window.input.schema();
            for expr in &window.window_expr {
                let partitioned = match expr.clone().unalias() {
                    Expr::WindowFunction(f) => f
                        .params
                        .partition_by
                        .iter()
                        .any(|p| is_key(p, schema, &input)),
                    _ => false,
                };
                if !partitioned {
                    return Err("a window not partitioned by enterprise id".into());
                }
            }
            let mut out = input;
            out.resize(window.schema.fields().len(), false);
            Ok(out)
        }
        LogicalPlan::Join(join) => {
            let (left, right) = (keys(&join.left)?, keys(&join.right)?);
            let matched = join.on.iter().any(|(l, r)| {
                is_key(l, join.left.schema(), &left) && is_key(r, join.right.schema(), &right)
            });
            if !matched {
                return Err("a join that does not match enterprise ids".into());
            }
            let out: Vec<bool> = match join.join_type {
                JoinType::LeftSemi | JoinType::LeftAnti => left,
                JoinType::RightSemi | JoinType::RightAnti => right,
                _ => left.into_iter().chain(right).collect(),
            };
            if out.len() != join.schema.fields().len() {
                return Err(format!("a {} join", join.join_type));
            }
            Ok(out)
        }
        LogicalPlan::Union(union) => {
            let mut out = vec![true; union.schema.fields().len()];
            for input in &union.inputs {
                for (o, k) in out.iter_mut().zip(keys(input)?) {
                    *o &= k;
                }
            }
            Ok(out)
        }
        other => Err(format!("a {} step", other.display())),
    }
}

/// A scan's columns: `enterprise_id` is the enterprise id of its rows.
fn names_are_ids(schema: &DFSchema) -> Vec<bool> {
    schema
        .fields()
        .iter()
        .map(|f| f.name() == "enterprise_id")
        .collect()
}

/// Whether `expr` (over `schema`, whose key columns are `keys`) is one of them, unchanged.
fn is_key(expr: &Expr, schema: &DFSchema, keys: &[bool]) -> bool {
    let column: Option<&Column> = match expr {
        Expr::Alias(alias) => alias.expr.try_as_col(),
        other => other.try_as_col(),
    };
    column
        .and_then(|c| schema.index_of_column(c).ok())
        .is_some_and(|i| keys[i])
}
