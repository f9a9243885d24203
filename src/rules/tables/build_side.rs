//! A physical optimizer rule: a hash join builds its hash table from the side whose tables
//! are the smaller kind. DataFusion's join selection swaps sides by estimated size, but after
//! a filter or another join the estimates are gone, and `indicators LEFT JOIN
//! active_warnings` then hashes every indicator to look up a handful of warnings.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode};
use datafusion::physical_plan::ExecutionPlan;

use super::swap::SwapScanExec;

#[derive(Debug, Default)]
pub struct SmallBuildSide;

impl PhysicalOptimizerRule for SmallBuildSide {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(join) = node.downcast_ref::<HashJoinExec>() else {
                return Ok(Transformed::no(node));
            };
            let collects_left = *join.partition_mode() == PartitionMode::CollectLeft;
            let smaller_right = largest_scan(join.right()) < largest_scan(join.left());
            if !(collects_left && smaller_right && join.join_type().supports_swap()) {
                return Ok(Transformed::no(node));
            }
            Ok(Transformed::yes(
                join.swap_inputs(PartitionMode::CollectLeft)?,
            ))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "vigil_small_build_side"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The most rows a table scanned under `plan` may hold, by its kind (`usize::MAX` when a
/// scan is not of a rule table).
fn largest_scan(plan: &Arc<dyn ExecutionPlan>) -> usize {
    let mut largest = 0;
    let walked = plan.apply(|node| {
        largest = largest.max(match node.downcast_ref::<SwapScanExec>() {
            Some(scan) => scan.rows_hint(),
            None if node.children().is_empty() => usize::MAX,
            None => 0,
        });
        Ok(TreeNodeRecursion::Continue)
    });
    walked.map_or(usize::MAX, |_| largest)
}
