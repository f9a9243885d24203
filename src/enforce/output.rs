//! Writes a plan by the file's extension: `.json` (the whole plan: tasks, quota ledger,
//! deficits, seed), `.csv` or `.parquet` (one row per task; lists joined with `;`).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray, TimestampMillisecondArray};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use super::task::Plan;

#[derive(Debug, thiserror::Error)]
pub enum PlanOutputError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: unknown format: use .json, .csv or .parquet")]
    UnknownFormat { path: String },
    #[error("{path}: {message}")]
    Encode { path: String, message: String },
}

pub fn write_plan(plan: &Plan, path: &Path) -> Result<(), PlanOutputError> {
    let shown = path.display().to_string();
    let io = |source| PlanOutputError::Io {
        path: shown.clone(),
        source,
    };
    let encode = |e: &dyn std::fmt::Display| PlanOutputError::Encode {
        path: shown.clone(),
        message: e.to_string(),
    };
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => {
            let json = serde_json::to_string_pretty(plan).expect("a plan serialises");
            std::fs::write(path, json + "\n").map_err(io)
        }
        Some("csv") => {
            let file = File::create(path).map_err(io)?;
            let mut writer = datafusion::arrow::csv::Writer::new(file);
            writer.write(&tasks_batch(plan)).map_err(|e| encode(&e))
        }
        Some("parquet") => {
            let file = File::create(path).map_err(io)?;
            let batch = tasks_batch(plan);
            let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)
                .map_err(|e| encode(&e))?;
            writer.write(&batch).map_err(|e| encode(&e))?;
            writer.close().map(|_| ()).map_err(|e| encode(&e))
        }
        _ => Err(PlanOutputError::UnknownFormat { path: shown }),
    }
}

/// The tasks as one Arrow batch.
pub fn tasks_batch(plan: &Plan) -> RecordBatch {
    let tasks = &plan.tasks;
    let text = |f: &dyn Fn(&super::task::InspectionTask) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(tasks.iter().map(f)))
    };
    let time = |f: &dyn Fn(&super::task::InspectionTask) -> i64| -> ArrayRef {
        Arc::new(
            TimestampMillisecondArray::from_iter_values(tasks.iter().map(f)).with_timezone("UTC"),
        )
    };
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("task_id", text(&|t| t.task_id.clone())),
        ("region_id", text(&|t| t.region_id.clone())),
        ("enterprise_id", text(&|t| t.enterprise_id.clone())),
        ("park_id", text(&|t| t.park_id.clone().unwrap_or_default())),
        ("pool", text(&|t| t.pool.as_str().to_owned())),
        ("mode", text(&|t| t.mode.as_str().to_owned())),
        ("target_refs", text(&|t| t.target_refs.join(";"))),
        ("reason_codes", text(&|t| t.reason_codes.join(";"))),
        (
            "priority",
            Arc::new(Float64Array::from_iter_values(
                tasks.iter().map(|t| t.priority),
            )),
        ),
        (
            "eri",
            Arc::new(Float64Array::from_iter_values(tasks.iter().map(|t| t.eri))),
        ),
        ("color", text(&|t| t.color.as_str().to_owned())),
        ("not_before", time(&|t| t.not_before.millis())),
        ("due_by", time(&|t| t.due_by.millis())),
        ("assigned_team", text(&|t| t.assigned_team.clone())),
        ("selection", text(&|t| t.selection.as_str().to_owned())),
    ];
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), false))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    RecordBatch::try_new(schema, columns.into_iter().map(|(_, a)| a).collect())
        .expect("columns match the schema")
}
