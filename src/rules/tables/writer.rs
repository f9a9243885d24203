//! Builds one rule table's RecordBatch row by row, from a column list written once per table.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMillisecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;

use crate::model::EventTime;

/// The type of a rule-table column. Times are UTC milliseconds; dates are local dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColType {
    Str,
    F64,
    I64,
    Bool,
    Ts,
    Date,
}

impl ColType {
    /// The type as a rule author reads it.
    pub fn sql_name(self) -> &'static str {
        match self {
            ColType::Str => "text",
            ColType::F64 => "double",
            ColType::I64 => "bigint",
            ColType::Bool => "boolean",
            ColType::Ts => "timestamp",
            ColType::Date => "date",
        }
    }

    fn data_type(self) -> DataType {
        match self {
            ColType::Str => DataType::Utf8,
            ColType::F64 => DataType::Float64,
            ColType::I64 => DataType::Int64,
            ColType::Bool => DataType::Boolean,
            ColType::Ts => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            ColType::Date => DataType::Date32,
        }
    }
}

/// A column: name and type. Every column is nullable (an absent optional field is NULL).
pub type Column = (&'static str, ColType);

pub fn schema_of(columns: &[Column]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, ty)| Field::new(*name, ty.data_type(), true))
            .collect::<Vec<_>>(),
    ))
}

enum Builder {
    Str(StringBuilder),
    F64(Float64Builder),
    I64(Int64Builder),
    Bool(BooleanBuilder),
    Ts(TimestampMillisecondBuilder),
    Date(Date32Builder),
}

impl Builder {
    fn new(ty: ColType) -> Self {
        match ty {
            ColType::Str => Builder::Str(StringBuilder::new()),
            ColType::F64 => Builder::F64(Float64Builder::new()),
            ColType::I64 => Builder::I64(Int64Builder::new()),
            ColType::Bool => Builder::Bool(BooleanBuilder::new()),
            ColType::Ts => Builder::Ts(TimestampMillisecondBuilder::new().with_timezone("UTC")),
            ColType::Date => Builder::Date(Date32Builder::new()),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Str(b) => Arc::new(b.finish()),
            Builder::F64(b) => Arc::new(b.finish()),
            Builder::I64(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Ts(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
        }
    }
}

/// Writes rows of one table. Each row sets every column in schema order through the typed
/// setters; a setter of the wrong type for its column is a bug, caught by a panic in tests.
pub struct TableWriter {
    schema: SchemaRef,
    builders: Vec<Builder>,
    next: usize,
    rows: usize,
}

impl TableWriter {
    pub fn new(schema: SchemaRef, columns: &[Column]) -> Self {
        TableWriter {
            schema,
            builders: columns.iter().map(|(_, ty)| Builder::new(*ty)).collect(),
            next: 0,
            rows: 0,
        }
    }

    fn column(&mut self) -> &mut Builder {
        let i = self.next;
        self.next += 1;
        if self.next == self.builders.len() {
            self.next = 0;
            self.rows += 1;
        }
        &mut self.builders[i]
    }

    pub fn str(&mut self, v: Option<&str>) -> &mut Self {
        match self.column() {
            Builder::Str(b) => b.append_option(v),
            _ => panic!("column is not a string"),
        }
        self
    }

    pub fn f64(&mut self, v: Option<f64>) -> &mut Self {
        match self.column() {
            Builder::F64(b) => b.append_option(v),
            _ => panic!("column is not a float"),
        }
        self
    }

    pub fn i64(&mut self, v: Option<i64>) -> &mut Self {
        match self.column() {
            Builder::I64(b) => b.append_option(v),
            _ => panic!("column is not an integer"),
        }
        self
    }

    pub fn bool(&mut self, v: Option<bool>) -> &mut Self {
        match self.column() {
            Builder::Bool(b) => b.append_option(v),
            _ => panic!("column is not a boolean"),
        }
        self
    }

    pub fn ts(&mut self, v: Option<EventTime>) -> &mut Self {
        match self.column() {
            Builder::Ts(b) => b.append_option(v.map(EventTime::millis)),
            _ => panic!("column is not a timestamp"),
        }
        self
    }

    /// A date as days since 1970-01-01.
    pub fn date(&mut self, days: Option<i32>) -> &mut Self {
        match self.column() {
            Builder::Date(b) => b.append_option(days),
            _ => panic!("column is not a date"),
        }
        self
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn finish(mut self) -> RecordBatch {
        assert_eq!(self.next, 0, "a row was left half written");
        let arrays = self.builders.iter_mut().map(Builder::finish).collect();
        RecordBatch::try_new(self.schema, arrays).expect("builders match the schema")
    }
}
