//! A rule table whose contents are swapped every tick under plans built once.
//!
//! DataFusion's `MemTable` copies its batches into the physical plan at planning time, so a
//! plan built once would keep reading the first tick's data. `SwapTable` instead hands out a
//! `SwapScanExec` that reads the table's *current* batches each time it is executed: rules
//! are parsed, optimised and physically planned once, and each tick only swaps the batches.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{project_schema, Result, Statistics};
use datafusion::datasource::TableType;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::physical_plan::statistics::StatisticsArgs;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};

/// An input partition and a shard of its enterprises.
pub type ShardKey = (i32, u32);

/// The batches of one table at one tick, each with the shard it holds (`None`: a global
/// table's).
#[derive(Debug, Default)]
pub struct Contents {
    pub batches: Vec<RecordBatch>,
    pub shards: Vec<Option<ShardKey>>,
}

/// Where a table's current contents live; shared by the provider and every scan of it.
#[derive(Debug, Default)]
pub struct Slot(RwLock<Arc<Contents>>);

impl Slot {
    pub fn swap(&self, contents: Arc<Contents>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = contents;
    }

    pub fn current(&self) -> Arc<Contents> {
        Arc::clone(&self.0.read().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The shards one rule's scans read at its next execution (`None`: all). Each local rule has
/// its own, set before it runs; a rule's plan runs once at a time.
#[derive(Debug, Default)]
pub struct ShardFilter(RwLock<Option<Arc<HashSet<ShardKey>>>>);

impl ShardFilter {
    pub fn set(&self, only: Option<Arc<HashSet<ShardKey>>>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = only;
    }

    fn current(&self) -> Option<Arc<HashSet<ShardKey>>> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// `plan` with every table scan reading only the shards `filter` names.
pub fn restrict(
    plan: Arc<dyn ExecutionPlan>,
    filter: &Arc<ShardFilter>,
) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        let Some(scan) = node.downcast_ref::<SwapScanExec>() else {
            return Ok(Transformed::no(node));
        };
        let restricted = SwapScanExec {
            only: Some(Arc::clone(filter)),
            ..scan.clone()
        };
        Ok(Transformed::yes(
            Arc::new(restricted) as Arc<dyn ExecutionPlan>
        ))
    })
    .map(|t| t.data)
}

/// How many rows a table holds, as the planner should assume. Plans are built once, so the
/// statistics describe the table's kind, not its contents at planning time: without them
/// DataFusion cannot tell `clock` (one row) from `indicators` and may build a cross join on
/// the large side, emitting one batch per row.
#[derive(Clone, Copy, Debug)]
pub enum RowsHint {
    Exactly(usize),
    About(usize),
}

impl RowsHint {
    fn statistics(self, schema: &SchemaRef) -> Statistics {
        let rows = match self {
            RowsHint::Exactly(n) => Precision::Exact(n),
            RowsHint::About(n) => Precision::Inexact(n),
        };
        Statistics::new_unknown(schema).with_num_rows(rows)
    }
}

#[derive(Debug)]
pub struct SwapTable {
    schema: SchemaRef,
    slot: Arc<Slot>,
    rows: RowsHint,
}

impl SwapTable {
    pub fn new(schema: SchemaRef, slot: Arc<Slot>, rows: RowsHint) -> Self {
        SwapTable { schema, slot, rows }
    }
}

#[async_trait]
impl TableProvider for SwapTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn statistics(&self) -> Option<Statistics> {
        Some(self.rows.statistics(&self.schema))
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(SwapScanExec::try_new(
            Arc::clone(&self.schema),
            projection.cloned(),
            Arc::clone(&self.slot),
            self.rows,
        )?))
    }
}

/// Reads the slot's batches at execution time, as one partition.
#[derive(Clone, Debug)]
pub struct SwapScanExec {
    projection: Option<Vec<usize>>,
    slot: Arc<Slot>,
    rows: RowsHint,
    properties: Arc<PlanProperties>,
    only: Option<Arc<ShardFilter>>,
}

impl SwapScanExec {
    fn try_new(
        table_schema: SchemaRef,
        projection: Option<Vec<usize>>,
        slot: Arc<Slot>,
        rows: RowsHint,
    ) -> Result<Self> {
        let schema = project_schema(&table_schema, projection.as_ref())?;
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(SwapScanExec {
            projection,
            slot,
            rows,
            properties: Arc::new(properties),
            only: None,
        })
    }
}

impl SwapScanExec {
    /// The rows the table may hold, by its kind.
    pub fn rows_hint(&self) -> usize {
        match self.rows {
            RowsHint::Exactly(n) | RowsHint::About(n) => n,
        }
    }
}

impl DisplayAs for SwapScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "SwapScanExec: projection={:?}", self.projection)
    }
}

impl ExecutionPlan for SwapScanExec {
    fn name(&self) -> &str {
        "SwapScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn statistics_from_inputs(
        &self,
        _input_stats: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        Ok(Arc::new(self.rows.statistics(&self.schema())))
    }

    fn execute(
        &self,
        _partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let contents = self.slot.current();
        let only = self.only.as_ref().and_then(|f| f.current());
        let batches: Vec<RecordBatch> = match only {
            None => contents.batches.clone(),
            Some(only) => contents
                .batches
                .iter()
                .zip(&contents.shards)
                .filter(|(_, shard)| shard.is_none_or(|s| only.contains(&s)))
                .map(|(batch, _)| batch.clone())
                .collect(),
        };
        // MemoryStream projects each batch and advertises the schema it is given: the
        // projected one.
        Ok(Box::pin(MemoryStream::try_new(
            batches,
            self.schema(),
            self.projection.clone(),
        )?))
    }
}
